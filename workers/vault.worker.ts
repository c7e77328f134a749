// The engine's worker: a few lines that expose it. Everything else is in src/.
// Its first script is small (src/worker/worker-boot.ts): it answers the page at once and starts
// loading the engine's code, sql.js's wasm and OPFS side by side (docs/cold-start.md).
import { expose } from 'comlink'
import { installErrorTransfer } from '../src/protocol/error-transfer.js'
import { WorkerBoot, opfsHere, type BootHello } from '../src/worker/worker-boot.js'
import { startMark } from '../src/protocol/start-marks.js'

startMark('worker-script')
// First: the page learns that its worker runs and whether it has OPFS (src/worker/worker-boot.ts, BootHello).
postMessage({ labvaultBoot: opfsHere() } satisfies BootHello)
installErrorTransfer()
expose(new WorkerBoot())
