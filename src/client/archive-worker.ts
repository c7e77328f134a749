import { UnsupportedError } from '../errors/errors.js'
import type { ImportLimits } from '../persistence/archive-reader.js'
import type { WorkerStorage } from '../worker/worker-service.js'
import type { ImportSink } from './archive.js'
import { connectWorker, type WorkerLocation } from './worker-port.js'

/** How long a new worker may take to answer (as openVault's, src/client/worker-port.ts). */
const HANDSHAKE_MS = 20_000

/**
 * importVault's sink in a browser: a worker of its own runs the importer (OPFS's synchronous
 * handles exist only there); the page pushes the archive's bytes to it, one transferred copy at a
 * time, so memory on both sides stays at a piece.
 */
export async function workerImportSink(location: WorkerLocation, name: string, storage: WorkerStorage, limits: Partial<ImportLimits>, replace: boolean): Promise<ImportSink> {
  const { worker, remote } = connectWorker(location, `labvault-import:${name}`)
  let timer: ReturnType<typeof setTimeout> | undefined
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (e) => reject(new UnsupportedError(`the labvault worker failed to start: ${e.message || 'its script did not load'}`)), { once: true })
    timer = setTimeout(() => reject(new UnsupportedError(`the labvault worker did not answer within ${HANDSHAKE_MS / 1000} s`)), HANDSHAKE_MS)
  })
  failed.catch(() => {})
  let ended = false
  const end = async (abort: boolean) => {
    if (ended) return
    ended = true
    try {
      await Promise.race([remote.call('importEnd', [abort]), failed])
    } finally {
      remote.release()
      if (worker !== location.worker) worker.terminate()
    }
  }
  try {
    await Promise.race([remote.call('ping', []), failed])
    clearTimeout(timer)
    await Promise.race([remote.call('importBegin', [name, storage, limits, replace]), failed])
  } catch (err) {
    clearTimeout(timer)
    remote.release()
    if (worker !== location.worker) worker.terminate()
    throw err
  }
  return {
    push: async (bytes) => {
      // A copy: the caller's buffer stays theirs (a transfer would detach it).
      const copy = bytes.slice()
      await Promise.race([remote.call('importPush', [copy], [copy.buffer]), failed])
    },
    finish: () => end(false),
    abort: () => end(true),
  }
}
