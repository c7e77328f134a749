// The engine's worker: a few lines that serve it to the page. Everything else is in src/.
// Its first script is small (src/worker/worker-boot.ts): it answers the page at once and starts
// loading the engine's code, sql.js's wasm and OPFS side by side (docs/cold-start.md).
import { serveCalls } from '../src/worker/serve-calls.js'
import { WORKER_METHODS, WorkerBoot, opfsHere, type BootHello } from '../src/worker/worker-boot.js'
import { startMark } from '../src/protocol/start-marks.js'

startMark('worker-script')
// First: the page learns that its worker runs and whether it has OPFS (src/worker/worker-boot.ts, BootHello).
postMessage({ labvaultBoot: opfsHere() } satisfies BootHello)
serveCalls(globalThis as unknown as Parameters<typeof serveCalls>[0], new WorkerBoot(), WORKER_METHODS)
