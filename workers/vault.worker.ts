// The engine's worker: a few lines that expose it. Everything else is in src/.
import { expose } from 'comlink'
import { installErrorTransfer } from '../src/protocol/error-transfer.js'
import { WorkerService } from '../src/worker/worker-service.js'
import { startMark } from '../src/protocol/start-marks.js'

startMark('worker-script')
installErrorTransfer()
expose(new WorkerService())
