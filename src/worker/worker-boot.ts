import { UnsupportedError } from '../errors/errors.js'
import { startMark } from '../protocol/start-marks.js'
import { BROWSER_ROOT } from '../storage/browser-root.js'
import { randomId } from '../protocol/random-id.js'
import type { WorkerService, WorkerStorage } from './worker-service.js'

/**
 * What the engine's worker exposes first (workers/vault.worker.ts): a few kilobytes that answer the
 * page's handshake at once and start, side by side, what a cold open waits for (docs/cold-start.md):
 * - the engine's code (`worker-service.js` and what it imports), by dynamic import, at once;
 * - sql.js's wasm, fetched and compiled (`WebAssembly.compileStreaming`) as soon as the page says
 *   where it is ({@link WorkerBoot.prepare}, the page's first message);
 * - OPFS's root and labvault's folder in it (the first OPFS access of a profile is slow).
 * None of these touches a vault's files: the page sends `prepare` before its tab is elected to run
 * the engine, and a tab that ends up following stops this worker. The vault is opened only by
 * `openVault`, which the page sends once it holds the vault's leader lock.
 */

/** The page's hints, sent as the worker starts (before the election is over). */
export interface WorkerPrepare {
  /** Where sql-wasm.wasm is (as the page will send it to openVault); default: next to the worker. */
  wasmUrl?: string
  /** The storage the page will ask for. */
  storage?: WorkerStorage | 'http'
}

/**
 * The message the worker's first script posts to the page before anything else (workers/vault.worker.ts):
 * the page learns that a labvault worker runs (a worker that does not start still fails the open)
 * and whether it has OPFS's synchronous access handles (`auto` then opens the vault there), without
 * a round trip through a thread busy with the engine's code (src/client/worker-port.ts, `usesOpfs`).
 */
export interface BootHello {
  labvaultBoot: boolean
}

/** What {@link WorkerBoot.prepare} started, for the engine's open to pick up. */
export interface PreparedStart {
  /** sql.js's wasm compiled from `url` (undefined when the compile failed: sql.js then loads it itself). */
  wasm?: { url: string; module: Promise<WebAssembly.Module | undefined> }
  /** OPFS's `labvault` folder (BROWSER_ROOT), asked for. */
  opfsFolder?: Promise<FileSystemDirectoryHandle>
  /** The name of a Web Lock this worker holds for the rest of its life, once granted ({@link holdWhileAlive}). */
  alive?: Promise<string>
}

/**
 * Take a Web Lock of a name of its own and hold it until this worker is gone: a page asking for the
 * same name is granted it only then (the page terminated the worker, or it crashed, which no event
 * tells). WorkerService.serveMembers gives the page its name (src/sharing/tabs/tab-sharing.ts).
 * Asked as the worker starts, beside the engine's code and wasm: a worker's first Web Lock took
 * 3–67 ms in a fresh browser context (Chromium, this machine, loaded), which, asked in
 * serveMembers, came between the engine's open and the tab's first call. Undefined without Web Locks.
 */
export function holdWhileAlive(): Promise<string> | undefined {
  // (globalThis: Node 20, where tests construct the boot, has no `navigator`.)
  const locks = (globalThis as { navigator?: Navigator }).navigator?.locks
  if (typeof locks?.request !== 'function') return undefined
  const name = `labvault:worker:${randomId()}`
  const held = new Promise<string>((granted, failed) => {
    locks.request(name, () => (granted(name), new Promise<never>(() => {}))).catch(failed)
  })
  held.catch(() => {})
  return held
}

/** Where sql.js's wasm sits next to this module (the worker script), unless told otherwise. */
export function defaultWasmUrl(): string {
  // A variable, not a literal: bundlers must not rewrite this into an asset of their own.
  const file = 'sql-wasm.wasm'
  return new URL(file, import.meta.url).href
}

/**
 * True where the worker can use OPFS with sync access handles (as OpfsAdapter.isSupported says).
 * The worker's first script tells the page at once ({@link BootHello}).
 */
export function opfsHere(): boolean {
  const g = globalThis as { FileSystemFileHandle?: { prototype: object }; navigator?: { storage?: { getDirectory?: unknown } } }
  return typeof g.navigator?.storage?.getDirectory === 'function' && g.FileSystemFileHandle !== undefined && 'createSyncAccessHandle' in g.FileSystemFileHandle.prototype
}

type ServiceCall<K extends keyof WorkerService> = WorkerService[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never

/** The methods of {@link WorkerBoot} the page may call (src/worker/serve-calls.ts). */
export const WORKER_METHODS = ['ping', 'prepare', 'openVault', 'call', 'serveMembers', 'importBegin', 'importPush', 'importEnd', 'close'] as const satisfies readonly (keyof WorkerBoot)[]

/**
 * The object the worker serves to the page (workers/vault.worker.ts): the page's handshake and hints are answered here;
 * every other method waits for the engine's code and forwards to {@link WorkerService}.
 */
export class WorkerBoot {
  private readonly prepared: PreparedStart = {}
  private service: Promise<WorkerService> | undefined
  /** The service once loaded: calls then reach it in the same tick (order kept: see {@link forward}). */
  private ready: WorkerService | undefined

  constructor() {
    // The engine's code starts loading now, while the page is still electing its leader.
    this.loaded().catch(() => {})
    this.prepared.alive = holdWhileAlive()
  }

  private loaded(): Promise<WorkerService> {
    this.service ??= import('./worker-service.js').then(
      (m) => {
        startMark('engine-code')
        return (this.ready = new m.WorkerService(this.prepared))
      },
      (err: unknown) => {
        // A chunk that did not download: the next call tries again.
        this.service = undefined
        throw new UnsupportedError(`the labvault worker could not load the engine's code (${err instanceof Error ? err.message : String(err)}): are the worker's chunks (vault-worker-*.js) served beside vault.worker.js?`, { cause: err })
      },
    )
    return this.service
  }

  /** Answers at once: the page's start-up handshake (a worker that never answers is not ours). */
  ping(): true {
    return true
  }

  /**
   * Start what the open will need (see the module comment): nothing here writes or locks a vault's
   * files, and every failure is left to the open itself to report (it asks again).
   */
  prepare(hints: WorkerPrepare): void {
    if (hints === null || typeof hints !== 'object') return
    const url = typeof hints.wasmUrl === 'string' ? hints.wasmUrl : defaultWasmUrl()
    if (!this.prepared.wasm && typeof WebAssembly?.compileStreaming === 'function') {
      const module = WebAssembly.compileStreaming(fetch(url)).then(
        (m) => {
          startMark('wasm-compiled')
          return m
        },
        () => undefined,
      )
      this.prepared.wasm = { url, module }
    }
    const storage = hints.storage ?? 'auto'
    // The adapters other than OPFS's are chunks of their own: their download starts now.
    if (storage === 'indexeddb' || (storage === 'auto' && !opfsHere())) import('../storage/indexeddb-adapter.js').catch(() => {})
    if (storage === 'http') import('../storage/http-adapter.js').catch(() => {})
    if (!this.prepared.opfsFolder && (storage === 'auto' || storage === 'opfs') && opfsHere()) {
      const folder = navigator.storage.getDirectory().then((root) => root.getDirectoryHandle(BROWSER_ROOT, { create: true }))
      folder.then(() => startMark('opfs-folder'), () => {})
      this.prepared.opfsFolder = folder
    }
  }

  /**
   * A method of the service: called at once when it has loaded, else when it loads. Calls keep the
   * order they arrived in: those made while it loads run in order in the microtasks that follow the
   * load, before the next message (a task of its own) can arrive.
   */
  private forward<K extends keyof WorkerService>(method: K): ServiceCall<K> {
    return ((...args: unknown[]) => {
      const run = (service: WorkerService) => (service[method] as (...a: unknown[]) => unknown).apply(service, args)
      return this.ready ? Promise.resolve(run(this.ready)) : this.loaded().then(run)
    }) as ServiceCall<K>
  }

  openVault = this.forward('openVault')
  call = this.forward('call')
  serveMembers = this.forward('serveMembers')
  importBegin = this.forward('importBegin')
  importPush = this.forward('importPush')
  importEnd = this.forward('importEnd')
  close = this.forward('close')
}
