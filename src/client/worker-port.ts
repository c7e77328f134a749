import { BROWSER_ROOT } from '../storage/browser-root.js'
import type { WorkerOpenOptions, WorkerStorage } from '../worker/worker-service.js'
import type { BootHello, WorkerBoot } from '../worker/worker-boot.js'
import { portCallNames, type EnginePort, type WorkerEnginePort } from '../protocol/engine-port.js'
import { convertArgs, transferListOf } from '../protocol/port-calls.js'
import { workerCaller, type WorkerCaller } from '../protocol/worker-caller.js'
import { ClosedError, InvalidArgumentError, UnsupportedError } from '../errors/errors.js'
import { startMark } from '../protocol/start-marks.js'

/**
 * How long a new worker may take to answer its first message. A worker whose script fails to load
 * fires 'error' at once; this bounds the rest (a URL that serves some other script, which never
 * answers), so opening fails with a typed error instead of hanging.
 */
const WORKER_HANDSHAKE_MS = 20_000

/** Where the worker script and wasm are, and which worker to use. */
export interface WorkerLocation {
  /** A Worker, its script's URL, or a function making one (called once per start). */
  worker?: Worker | string | URL | (() => Worker)
  assetBase?: string | URL
  wasmUrl?: string | URL
}

/** The URL of an asset: under `assetBase` when given, else next to this module. */
export function assetUrl(file: string, assetBase: string | URL | undefined): URL {
  if (assetBase !== undefined) {
    const base = String(assetBase)
    // A path such as '/static/labvault/' is relative to the page (URL needs an absolute base).
    return new URL(file, new URL(base.endsWith('/') ? base : base + '/', globalThis.location?.href))
  }
  // A variable, not a literal: a bundler must not turn this into an asset of its own build.
  return new URL(file, import.meta.url)
}

/**
 * Start the engine's dedicated module worker. A worker script must be same-origin, so when the
 * package is served from another origin (a CDN, as notebooks import it), the worker is started
 * from a same-origin blob URL whose only line imports the real script (which the CDN serves with
 * CORS).
 */
export function startWorker(location: WorkerLocation, name: string): Worker {
  if (typeof Worker === 'undefined') throw new UnsupportedError('Web Workers are not available here: pass `worker: false` to run the engine on this thread')
  if (location.worker instanceof Worker) return location.worker
  if (typeof location.worker === 'function') {
    const made: unknown = location.worker()
    if (!(made instanceof Worker)) throw new InvalidArgumentError(`option "worker" is a function that returned ${made === null ? 'null' : typeof made}, not a Worker`)
    return made
  }
  const url = location.worker !== undefined ? new URL(String(location.worker), globalThis.location?.href) : assetUrl('vault.worker.js', location.assetBase)
  const sameOrigin = globalThis.location !== undefined && url.origin === globalThis.location.origin
  if (sameOrigin || url.protocol === 'blob:' || url.protocol === 'data:') return new Worker(url, { type: 'module', name })
  const shim = new Blob([`import ${JSON.stringify(url.href)};\n`], { type: 'text/javascript' })
  const shimUrl = URL.createObjectURL(shim)
  const worker = new Worker(shimUrl, { type: 'module', name })
  // The worker has fetched the shim once it runs; the URL is not needed afterwards.
  setTimeout(() => URL.revokeObjectURL(shimUrl), 30_000)
  return worker
}

/** The wasm URL to hand the worker: explicit, under assetBase, or (undefined) next to the worker. */
export function wasmLocation(location: WorkerLocation): string | undefined {
  if (location.wasmUrl !== undefined) return new URL(String(location.wasmUrl), globalThis.location?.href).href
  if (location.assetBase !== undefined) return assetUrl('sql-wasm.wasm', location.assetBase).href
  return undefined
}

/**
 * A fresh worker and a caller on the object its script serves (src/protocol/worker-caller.ts).
 */
export function connectWorker<T = WorkerBoot>(location: WorkerLocation, name: string): { worker: Worker; remote: WorkerCaller<T> } {
  const worker = startWorker(location, name)
  return { worker, remote: workerCaller<T>(worker) }
}

/**
 * A worker started and listening for its failure from the first moment: a script that does not
 * load fires 'error' at once, even before anyone waits for the worker (see {@link bootWorker}).
 */
export interface BootedWorker {
  worker: Worker
  remote: WorkerCaller<WorkerBoot>
  /** Rejects (UnsupportedError) when the worker fails to start or does not answer in time. */
  failed: Promise<never>
  /** Stop the handshake timer (the worker answered, or is given up). */
  settle(): void
  /** Give the worker up unused: stop it. */
  discard(): void
  /**
   * Resolves when the worker's first script runs (its {@link BootHello}): true when it will open
   * the vault from OPFS. A worker that does not start rejects {@link failed} instead; one that is not
   * labvault's never resolves it.
   */
  usesOpfs: Promise<boolean>
  /** OPFS's root, asked for as the worker started (undefined where this thread has no OPFS or the storage is not OPFS's). */
  opfsRoot: Promise<FileSystemDirectoryHandle> | undefined
}

/**
 * Ask for OPFS's root from this thread, now: the first OPFS access of a profile takes the browser
 * tens of milliseconds (its storage for the origin is set up), and asked here it runs while the
 * worker's script loads, so that the worker's own request finds it ready (docs/cold-start.md).
 * Nothing is created. The root is kept for {@link opfsVaultMissing}, which then asks the browser
 * once less (3–19 ms of a fresh profile's open, measured).
 */
function warmOpfs(storage: WorkerStorage | 'http' | undefined): Promise<FileSystemDirectoryHandle> | undefined {
  // No OPFS on this thread (no navigator.storage outside secure contexts): the worker finds out
  // for itself. A promise-returning method does not throw; a refusal rejects, and is not reported.
  const root = storage === 'opfs' || storage === 'auto' || !storage ? navigator.storage?.getDirectory?.() : undefined
  root?.catch(() => {})
  return root
}

/**
 * True when OPFS has no folder for vault `name`: no vault of that name was created (or it was
 * deleted), so it holds no data. Asked from this thread, which is idle meanwhile (the worker's
 * thread is busy with the engine's code): docs/cold-start.md, "A new vault answers its first reads".
 * False when the folder exists (even empty, or half created) or the answer is anything else.
 * `root`: OPFS's root, as this thread asked for it when the worker started ({@link BootedWorker.opfsRoot}).
 */
export async function opfsVaultMissing(name: string, root: Promise<FileSystemDirectoryHandle> | undefined): Promise<boolean> {
  try {
    // No root (this thread has no OPFS): the TypeError below answers false, as any other error does.
    // `root` may have been asked for before the leader lock (the root never changes); the folders
    // below it can, so they are looked up now, as the caller holds the lock.
    await (await (await root)!.getDirectoryHandle(BROWSER_ROOT)).getDirectoryHandle(name)
    return false
  } catch (err) {
    return (err as { name?: unknown } | null)?.name === 'NotFoundError'
  }
}

/**
 * Start the engine's worker now. openVault starts it beside the election of the tab that runs the
 * engine, so that its script loads meanwhile (docs/cold-start.md); {@link openWorkerPort} then
 * opens the vault in it. Its first message says where sql.js's wasm is and which storage the vault
 * will use: the worker fetches and compiles the wasm and asks for OPFS's folder at once
 * (src/worker/worker-boot.ts), without touching any vault's files.
 */
export function bootWorker(location: WorkerLocation, name: string, storage?: WorkerStorage | 'http'): BootedWorker {
  const opfsRoot = warmOpfs(storage)
  const { worker, remote } = connectWorker(location, `labvault:${name}`)
  startMark('worker-created')
  // Not awaited: a worker that is not ours never answers, which the handshake below reports.
  try {
    remote.call('prepare', [{ wasmUrl: wasmLocation(location), storage }]).catch(() => {})
  } catch {
    // A wasmUrl that is no URL: the open reports it.
  }
  // The worker's first message (BootHello), posted before it reads any of ours.
  const usesOpfs = new Promise<boolean>((resolve) => {
    const hello = (e: MessageEvent) => {
      const opfs = (e.data as Partial<BootHello> | null)?.labvaultBoot
      if (opfs === undefined) return
      worker.removeEventListener('message', hello)
      resolve(opfs && (storage === 'opfs' || storage === 'auto'))
    }
    worker.addEventListener('message', hello)
  })
  let timer: ReturnType<typeof setTimeout> | undefined
  const failed = new Promise<never>((_, reject) => {
    worker.addEventListener(
      'error',
      (e) => reject(new UnsupportedError(`the labvault worker failed to start: ${e.message || 'its script did not load (is vault.worker.js served? With a bundler, pass `worker: new VaultWorker()`)'}`)),
      { once: true },
    )
    timer = setTimeout(() => reject(new UnsupportedError(`the labvault worker did not answer within ${WORKER_HANDSHAKE_MS / 1000} s: is \`worker\` (or assetBase) a labvault vault.worker.js?`)), WORKER_HANDSHAKE_MS)
  })
  failed.catch(() => {})
  const settle = () => clearTimeout(timer)
  const discard = () => {
    settle()
    remote.release()
    worker.terminate()
  }
  return { worker, remote, failed, settle, discard, usesOpfs, opfsRoot }
}

/**
 * Open a vault in its own worker (started now, or `booted` before); resolves to the port and the
 * storage kind chosen. A worker that fails is terminated, unless it is the caller's (`location.worker`).
 */
export async function openWorkerPort(
  name: string,
  location: WorkerLocation,
  options: WorkerOpenOptions,
  booted?: BootedWorker,
): Promise<{ port: WorkerEnginePort; storageKind: string }> {
  const { worker, remote, failed, settle } = booted ?? bootWorker(location, name, options.storage)
  let storageKind: string
  try {
    // Handshake first (bounded by the timer), then the open itself (as long as the replay takes).
    await Promise.race([remote.call('ping', []), failed])
    settle()
    storageKind = await Promise.race([remote.call('openVault', [name, { ...options, wasmUrl: options.wasmUrl ?? wasmLocation(location), ...(location.assetBase !== undefined ? { assetBase: assetUrl('', location.assetBase).href } : {}) }]), failed])
  } catch (err) {
    settle()
    remote.release()
    // A Worker passed in stays with the caller, which may try it again (src/index.ts owns it).
    if (worker !== location.worker) worker.terminate()
    throw err
  }
  // After the open, an 'error' event is an exception the worker did not catch: its engine is in an
  // unknown state, so it is stopped (as a crash would: the log keeps every acknowledged write) and
  // every call it had not answered rejects instead of waiting forever, as do later calls.
  worker.addEventListener('error', (e) => {
    remote.fail(new ClosedError(`the labvault worker stopped after an uncaught error (${e.message || 'no message'}): an unanswered call may or may not have been applied; open the vault again`))
    worker.terminate()
  })
  const port: Record<string, unknown> = {}
  // Every port call (src/protocol/engine-port.ts) goes to the worker's `call`, in the engine's form;
  // a transfer list moves its buffers with the message instead of copying them.
  for (const call of portCallNames) {
    port[call] = (...args: unknown[]) => {
      const engineArgs = convertArgs(call, args, 'port', 'engine')
      const list = transferListOf(call, args)
      return remote.call('call', [call, engineArgs], list)
    }
  }
  const workerPort: WorkerEnginePort = {
    ...(port as unknown as EnginePort),
    serveMembers: (channelName, leaderId, epoch) => remote.call('serveMembers', [channelName, leaderId, epoch]),
    terminate: () => {
      remote.release()
      worker.terminate()
    },
    close: async () => {
      try {
        await remote.call('close', [])
      } finally {
        remote.release()
        worker.terminate()
      }
    },
  }
  return { port: workerPort, storageKind }
}

export type { WorkerStorage }
