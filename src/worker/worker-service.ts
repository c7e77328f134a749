import { InvalidArgumentError, UnsupportedError } from '../errors/errors.js'
import type { VaultEngine } from '../engine/vault-engine.js'
import { imageBlobReferences, openVaultEngine } from '../domains/registry.js'
import type { VaultSettings } from '../engine/vault-engine.js'
import { MemoryAdapter } from '../storage/memory-adapter.js'
import type { HttpAdapter } from '../storage/http-adapter.js'
import { isBlobPath } from '../persistence/format.js'
import { OpfsAdapter } from '../storage/opfs-adapter.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { BROWSER_ROOT } from '../storage/browser-root.js'
import { transferablesOf } from '../protocol/transferables.js'
import { Moving } from './serve-calls.js'
import { isPortCall, type PortCall } from '../protocol/engine-port.js'
import { resultMovesBuffers } from '../protocol/port-calls.js'
import { serveMembers } from '../sharing/tabs/member-server.js'
import { opfsDerivedFile } from './derived-file.js'
import type { ArchiveImporter, ImportLimits } from '../persistence/archive-reader.js'
import { loadSqlJs } from '../sqlite/sqlite-database.js'
import { startMark } from '../protocol/start-marks.js'
import { defaultWasmUrl, holdWhileAlive, type PreparedStart } from './worker-boot.js'

/** Built-in storage a worker can open by name. */
export type WorkerStorage = 'auto' | 'opfs' | 'indexeddb' | 'memory'

/** A vault read over HTTP (`storage: 'http'`): where, and how. */
export interface WorkerHttpStorage {
  /** The absolute URL of the folder holding the vault folder (the HttpAdapter's root). */
  root: string
  timeoutMs?: number
  cacheBytes?: number
}

/** What the client sends to open a vault in the worker. */
export interface WorkerOpenOptions extends VaultSettings {
  storage: WorkerStorage | 'http'
  /** With storage `http`: the host and the adapter's options. */
  http?: WorkerHttpStorage
  wasmUrl?: string
  /** The folder of the package's other wasm assets (DuckDB's); default: next to the worker script. */
  assetBase?: string
}

function settingsOf({ storage: _storage, http: _http, wasmUrl: _wasmUrl, assetBase: _assetBase, ...settings }: WorkerOpenOptions): VaultSettings {
  return settings
}

export { BROWSER_ROOT }

let memory: MemoryAdapter | undefined

/**
 * A chunk of the worker's code loaded when first needed (the IndexedDB and HTTP adapters: an OPFS
 * vault never loads them; the worker's boot starts loading the one the page names). A chunk that
 * did not download is UnsupportedError.
 */
async function loadChunk<T>(what: string, loading: Promise<T>): Promise<T> {
  try {
    return await loading
  } catch (err) {
    throw new UnsupportedError(`the labvault worker could not load ${what} (${err instanceof Error ? err.message : String(err)}): are the worker's chunks (vault-worker-*.js) served beside vault.worker.js?`, { cause: err })
  }
}

const indexedDbAdapter = async () => (await loadChunk('the IndexedDB storage', import('../storage/indexeddb-adapter.js'))).IndexedDbAdapter

/**
 * Resolve a storage name to an adapter inside the worker; `auto` prefers OPFS. `opfsFolder`: OPFS's
 * labvault folder, asked for already as the worker started (src/worker/worker-boot.ts).
 */
export async function openWorkerStorage(storage: WorkerStorage, opfsFolder?: Promise<FileSystemDirectoryHandle>): Promise<StorageAdapter> {
  switch (storage) {
    case 'auto':
      return OpfsAdapter.isSupported() ? OpfsAdapter.open(BROWSER_ROOT, opfsFolder) : (await indexedDbAdapter()).open(BROWSER_ROOT)
    case 'opfs':
      if (!OpfsAdapter.isSupported()) throw new UnsupportedError('OPFS with synchronous access handles is not available here; use storage "indexeddb" or "auto"')
      return OpfsAdapter.open(BROWSER_ROOT, opfsFolder)
    case 'indexeddb':
      if (typeof indexedDB === 'undefined') throw new UnsupportedError('IndexedDB is not available here')
      return (await indexedDbAdapter()).open(BROWSER_ROOT)
    case 'memory':
      return (memory ??= new MemoryAdapter())
    default:
      throw new InvalidArgumentError(`unknown storage ${JSON.stringify(storage)}`)
  }
}

/** The adapter of a vault read over HTTP; only its blobs are cached (the image and log are read once). */
async function httpStorage(http: WorkerHttpStorage | undefined): Promise<HttpAdapter> {
  if (!http) throw new InvalidArgumentError('storage "http" needs the URL of the vault')
  const { HttpAdapter } = await loadChunk('the HTTP storage', import('../storage/http-adapter.js'))
  return new HttpAdapter(http.root, { timeoutMs: http.timeoutMs, cacheBytes: http.cacheBytes, cacheable: isBlobPath })
}


/**
 * The engine host inside a dedicated worker: one vault per worker, served to the page by
 * src/worker/worker-boot.ts (src/worker/serve-calls.ts);
 * results that hold buffers are transferred, not copied.
 */
export class WorkerService {
  private engine: VaultEngine | undefined
  private stopServing: (() => void) | undefined

  /** `prepared`: what the worker started before this code loaded (src/worker/worker-boot.ts). */
  constructor(private readonly prepared: PreparedStart = {}) {}

  private get open(): VaultEngine {
    if (!this.engine) throw new UnsupportedError('no vault is open in this worker')
    return this.engine
  }

  /** Answers at once: the page's start-up handshake (a worker that never answers is not ours). */
  ping(): true {
    return true
  }

  /** Open the vault; resolves to the storage kind chosen. */
  async openVault(name: string, options: WorkerOpenOptions): Promise<string> {
    // sql.js's wasm is fetched and compiled while the storage opens (they do not depend on each
    // other): on a cold start each takes tens of milliseconds (docs/cold-start.md). A failure
    // here is reported by the engine's own load, which tries again.
    const wasmUrl = options.wasmUrl ?? defaultWasmUrl()
    // Compiled ahead from the same URL (the page's `prepare`), else sql.js fetches and compiles it now.
    const wasmModule = this.prepared.wasm?.url === wasmUrl ? this.prepared.wasm.module : undefined
    const sqlJs = { wasmUrl, wasmModule }
    startMark('worker-open')
    loadSqlJs(sqlJs).then(() => startMark('sqljs-ready'), () => {})
    const storage = options.storage === 'http' ? await httpStorage(options.http) : await openWorkerStorage(options.storage, this.prepared.opfsFolder)
    startMark('storage-opened')
    this.engine = await openVaultEngine({
      name,
      storage,
      ownsStorage: storage.kind !== 'memory',
      ...settingsOf(options),
      sqlJs,
      assetBase: options.assetBase ?? new URL(/* @vite-ignore */ '.', import.meta.url).href,
      // DuckDB's cache of the relations lives in OPFS beside the vault when the vault does.
      derivedFile: storage.kind === 'opfs' ? opfsDerivedFile(name) : undefined,
    }).catch(async (err: unknown) => {
      if (storage.kind === 'http') await storage.close()
      throw err
    })
    startMark('engine-opened')
    return storage.kind
  }

  /**
   * Run one of the port's calls (src/protocol/engine-port.ts), its arguments in the engine's form
   * (src/protocol/port-calls.ts): whatever the port can do, the page reaches through this one method.
   * Buffers in the result of a call that moves them are transferred, not copied (those of 16 KiB
   * and more: src/protocol/transferables.ts).
   */
  async call(method: PortCall, args: unknown[]): Promise<unknown> {
    if (!isPortCall(method)) throw new InvalidArgumentError(`${JSON.stringify(method)} is not a call of the engine port`)
    const engine = this.open
    const result = await (engine[method] as (...a: unknown[]) => Promise<unknown>).apply(engine, args)
    if (!resultMovesBuffers(method)) return result
    const list = result !== null && typeof result === 'object' ? transferablesOf(result) : []
    return list.length > 0 ? new Moving(result, list) : result
  }

  /** This worker's engine leads a vault shared by tabs: answer the other members' calls (src/sharing/tabs/member-server.ts). */
  async serveMembers(channelName: string, leaderId: string, epoch: number): Promise<string | void> {
    this.stopServing?.()
    // The page's own calls re-sent here after a takeover carry its member id: they are its own.
    this.open.leadsAs(leaderId)
    const serving = serveMembers(this.open, channelName, leaderId, epoch)
    this.stopServing = serving.stop
    // Resolves once other members' messages reach the channel: only then may the page announce this leader.
    await serving.ready
    // A lock held until this worker is gone (taken as the worker started: holdWhileAlive): the page
    // asks for it and is granted it when the worker was terminated (by the page itself) or crashed,
    // which no event tells it; the page then steps down instead of leading with a dead engine while
    // every member's calls wait for it (src/sharing/tabs/tab-sharing.ts).
    this.prepared.alive ??= holdWhileAlive()
    return this.prepared.alive
  }

  private importing: { importer: ArchiveImporter; storage: StorageAdapter } | undefined

  /**
   * importVault in a browser: write the vault `name` from an archive whose bytes the page pushes
   * ({@link importPush}), here where OPFS's synchronous handles exist (src/client/archive-worker.ts).
   */
  async importBegin(name: string, storage: WorkerStorage, limits: Partial<ImportLimits>, replace: boolean): Promise<void> {
    if (this.importing || this.engine) throw new UnsupportedError('this worker is busy with another vault')
    const adapter = await openWorkerStorage(storage)
    try {
      const { ArchiveImporter, DEFAULT_IMPORT_LIMITS } = await import('../persistence/archive-reader.js')
      this.importing = { importer: await ArchiveImporter.begin(adapter, name, name, { ...DEFAULT_IMPORT_LIMITS, ...limits }, replace, (image) => this.blobReferences(image)), storage: adapter }
    } catch (err) {
      if (adapter.kind !== 'memory') await adapter.close()
      throw err
    }
  }

  /**
   * The blobs an imported image's rows refer to (the importer refuses an archive lacking one). The
   * page does not send importVault's wasmUrl or assetBase here, so sql.js is looked for where this
   * worker's own files are; where it cannot be loaded from there the check is skipped (nothing is
   * found) rather than failing an import that did not need sql.js before.
   */
  private async blobReferences(image: Uint8Array): Promise<Iterable<string>> {
    const wasmUrl = defaultWasmUrl()
    const sqlJs = { wasmUrl, wasmModule: this.prepared.wasm?.url === wasmUrl ? this.prepared.wasm.module : undefined }
    try {
      await loadSqlJs(sqlJs)
    } catch {
      return []
    }
    return imageBlobReferences(image, sqlJs)
  }

  /** The next bytes of the archive being imported. */
  async importPush(bytes: Uint8Array): Promise<void> {
    if (!this.importing) throw new UnsupportedError('no import is in progress in this worker')
    await this.importing.importer.push(bytes)
  }

  /** The archive ended: commit the imported vault (or abort it: `abort` true). Releases the storage either way. */
  async importEnd(abort: boolean): Promise<void> {
    const importing = this.importing
    if (!importing) return
    try {
      if (abort) await importing.importer.abort()
      else await importing.importer.finish()
    } finally {
      this.importing = undefined
      if (importing.storage.kind !== 'memory') await importing.storage.close()
    }
  }

  async close(): Promise<void> {
    this.stopServing?.()
    this.stopServing = undefined
    await this.engine?.close()
  }
}
