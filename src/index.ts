/**
 * labvault: a vault for machine-learning experiment data that lives in the browser.
 *
 * In a page, `openVault` starts the engine in a dedicated module worker and keeps the data in OPFS
 * (or IndexedDB); nothing touches `window`, `navigator` or `Worker` until you call it.
 */
import { PLAIN_VAULT_NAME } from './protocol/plain-vault-name.js'
import { removeSqlCache } from './worker/derived-file.js'
import { ConflictError, InvalidArgumentError, UnsupportedError } from './errors/errors.js'
import { handlePort } from './client/handle-port.js'
import { methodKind } from './protocol/method-kinds.js'
import { portCalls, type EnginePort } from './protocol/engine-port.js'
import { onlyLocationOptions, validateConfiguration, validateLocationOptions, vaultSettings, type LocationOptions, type OpenVaultOptions, type WorkerConfiguration } from './client/options.js'
import { Vault } from './client/vault.js'
import { openTabShared, tabSharingAvailable } from './sharing/tabs/tab-sharing.js'
import { listVaultNames } from './client/vault-names.js'
import { assetUrl, bootWorker, openWorkerPort, opfsVaultMissing, type BootedWorker, type WorkerLocation, type WorkerStorage } from './client/worker-port.js'
import { BROWSER_ROOT } from './storage/browser-root.js'
import { checkDeletableVault } from './persistence/vault-folder.js'
import { IndexedDbAdapter } from './storage/indexeddb-adapter.js'
import { pageMemory } from './client/page-memory.js'
import { OpfsDirectory } from './storage/opfs-directory.js'
import type { StorageAdapter } from './storage/storage-adapter.js'
import { startMark } from './protocol/start-marks.js'
import type { abortableOpen } from './client/abortable-open.js'
import type { ArchiveInput, ExportVaultOptions, ImportVaultOptions } from './client/archive.js'

export * from './shared-exports.js'
// The domain clients' classes: stand-ins, so that their modules load on first use (docs/cold-start.md).
export { ItemLists, ItemList, DocumentList, EmbeddingList, FileItemList, RecordList, Lineage, Search, Session, Sessions, Column, Columns, Tables, Builders, TableArtifacts, CodeModules, Store, StoreArrays, StoreProjects, Processes, ProcessHandle, DatabaseClient } from './browser-domain-exports.js'
export { OpfsAdapter } from './storage/opfs-adapter.js'
export { IndexedDbAdapter } from './storage/indexeddb-adapter.js'
export { HttpAdapter, type HttpAdapterOptions } from './storage/http-adapter.js'
export type { ArchiveInput, ArchiveProgress, ExportVaultOptions, ImportVaultOptions } from './client/archive.js'

function workerStorage(storage: OpenVaultOptions['storage']): WorkerStorage {
  const s = storage ?? 'auto'
  if (s === 'fs') throw new UnsupportedError('storage "fs" is for Node; in a browser use "auto", "opfs", "indexeddb" or "memory"')
  if (s === 'auto' || s === 'opfs' || s === 'indexeddb' || s === 'memory') return s
  throw new InvalidArgumentError(`unknown storage ${JSON.stringify(s)}`)
}

/**
 * Ask for persistent storage without waiting for the answer. Firefox shows a permission prompt and
 * `persist()` stays pending until the user answers (headless: forever), so opening a vault never
 * awaits it: the request runs beside the open, and `info().storageEstimate.persisted` reports the
 * answer once there is one (undefined until then).
 */
function requestPersistence(options: OpenVaultOptions): Promise<boolean | undefined> | undefined {
  if (options.persist === false || typeof navigator === 'undefined' || !navigator.storage?.persist) return undefined
  try {
    const storage = navigator.storage
    const asked = Promise.resolve(storage.persisted?.() ?? false).then((already) => already || storage.persist())
    return asked.catch(() => undefined)
  } catch {
    return undefined
  }
}

/** The Worker the caller passed in (`worker: new VaultWorker()`), if any. */
function passedWorker(worker: OpenVaultOptions['worker']): Worker | undefined {
  return typeof Worker !== 'undefined' && worker instanceof Worker ? worker : undefined
}

/**
 * Check a vault name (InvalidArgumentError, as src/protocol/vault-name.ts says). A name of ASCII
 * letters, digits, `_` and `-` (at most 128) passes that whole rule, so only another name loads it
 * (docs/cold-start.md, "Main-thread bytes").
 */
async function checkVaultName(name: unknown): Promise<void> {
  if (typeof name === 'string' && PLAIN_VAULT_NAME.test(name)) return
  const check: (n: unknown) => void = (await import('./protocol/vault-name.js')).validateVaultName
  check(name)
}

/**
 * Start the engine's worker ahead of the election; undefined when it cannot start now (the
 * engine start that needs it then reports why, as without this head start).
 */
function bootEarly(name: string, options: OpenVaultOptions, storage: WorkerStorage): BootedWorker | undefined {
  try {
    return bootWorker({ worker: options.worker as WorkerLocation['worker'], assetBase: options.assetBase, wasmUrl: options.wasmUrl }, name, storage)
  } catch {
    return undefined
  }
}

/**
 * Open (or create) a vault. In a browser the engine runs in a dedicated worker (one per open vault)
 * and the data lives in OPFS when available, else IndexedDB. Pass `worker: false` or your own
 * StorageAdapter to run the engine on this thread instead.
 */
export async function openVault(name: string, options: OpenVaultOptions = {}): Promise<Vault> {
  startMark('open')
  try {
    return await openInBrowser(name, options)
  } catch (err) {
    // openVault owns a Worker passed in: one it could not use is not left running.
    if (typeof options === 'object' && options !== null) passedWorker(options.worker)?.terminate()
    throw err
  }
}

let configured: WorkerConfiguration = {}

/**
 * Say once, for this page, where labvault's worker and wasm are; every later `openVault` (and
 * anything else that starts a worker) uses it unless its own options say otherwise. A bundled page
 * calls it at start-up, e.g. with Vite:
 * `configure({ worker: () => new VaultWorker(), wasmUrl })` (docs/opening.md, "Browser quickstart"). Each call replaces
 * the previous configuration; `configure({})` goes back to the defaults.
 */
export function configure(configuration: WorkerConfiguration): void {
  configured = validateConfiguration(configuration)
}

/** openVault's options with the page's configuration filling what they leave out. */
function withConfiguration(options: OpenVaultOptions): OpenVaultOptions {
  return {
    ...options,
    worker: options.worker !== undefined ? options.worker : configured.worker,
    assetBase: options.assetBase ?? configured.assetBase,
    wasmUrl: options.wasmUrl ?? configured.wasmUrl,
  }
}

async function openInBrowser(name: string, given: OpenVaultOptions): Promise<Vault> {
  // The checks of openVault's options beyond where the vault is load only when one is given.
  let stoppable: ReturnType<typeof abortableOpen> = (opening) => opening
  if (onlyLocationOptions(given)) validateLocationOptions(given, 'openVault')
  else {
    const more = await import('./client/open-options.js')
    const check: (o: unknown) => asserts o is OpenVaultOptions | undefined = more.validateOpenOptions
    check(given)
    // What honours `signal` during the open (in the same chunk; throws now if it is aborted).
    if (given?.signal) stoppable = more.abortableOpen(given.signal)
  }
  // The logger's code (and its option's check) loads only for a handle that has one, before
  // anything is opened (docs/cold-start.md, "Main-thread bytes").
  const logging = given?.logger !== undefined ? await import('./client/logging-port.js') : undefined
  logging?.checkLogger(given.logger)
  // A read-only vault on a static host: its code loads only then (docs/cold-start.md).
  if (given?.storage === 'http') return (await import('./client/http-open.js')).openHttpInBrowser(name, withConfiguration(given))
  await checkVaultName(name)
  const options = withConfiguration(given)
  // Parquet exports load zstd.wasm from assetBase too, like the worker and sql-wasm.wasm.
  // The Parquet facade is a chunk of its own, not on the page (docs/cold-start.md): it is told once it
  // loads, before any write of the page can read it (a write first awaits the writer's own chunk).
  if (options.assetBase !== undefined) {
    const zstdWasm = assetUrl('zstd.wasm', options.assetBase).href
    import('./codec/parquet.js').then((m) => m.setDefaultZstdWasm(zstdWasm), () => {})
  }
  const persisted = requestPersistence(options)
  // The open itself (the election, the worker, the engine), stopped by `signal` wherever it waits.
  let port = await stoppable(openEnginePort(name, options), (p) => p.close())
  // This handle's own durability and read-only right travel with each of its calls (also to a
  // leader tab, which honours them per call).
  port = handlePort(port, { durability: options.durability ?? 'strict', readOnly: options.readOnly ?? false }, name)
  const info = port.info
  const role = (port as { role?: () => 'leader' | 'follower' }).role
  // The estimate's code loads with the first info() (docs/cold-start.md, "Main-thread bytes").
  port.info = async () => ({ ...(await info()), storageEstimate: await (await import('./client/storage-estimate.js')).storageEstimate(persisted), ...(role ? { tabRole: role() } : {}) })
  // Every call of this handle logged on this side, wherever its engine runs (logger option).
  const vault = new Vault(logging ? logging.loggingPort(port, options.logger, name, { portCalls, methodKind }) : port, name)
  // Roll back or keep what crashed processes left in flight (docs/processes.md).
  await vault._afterOpen(options)
  return vault
}

/** The engine's port of a browser open: on this thread, through the tab that leads, or in a worker of its own. */
async function openEnginePort(name: string, options: OpenVaultOptions): Promise<EnginePort> {
  let port: EnginePort
  if (options.worker === false || (typeof options.storage === 'object' && options.storage !== null)) {
    // 'fs' (Node only) and unknown names are refused as in a worker.
    if (typeof options.storage !== 'object' || options.storage === null) workerStorage(options.storage)
    // Loaded only here: a page that uses the worker never downloads the engine twice.
    const { openPageEngine } = await import('./client/page-engine.js')
    const wasmUrl = options.wasmUrl !== undefined ? String(options.wasmUrl) : options.assetBase !== undefined ? assetUrl('sql-wasm.wasm', options.assetBase).href : new URL('sql-wasm.wasm', import.meta.url).href
    return openPageEngine(name, options, wasmUrl)
  } else if (options.storage !== 'memory' && tabSharingAvailable()) {
    // Tabs and workers of this origin share the vault: one leader runs the engine (src/sharing/tabs/tab-sharing.ts).
    const storage = workerStorage(options.storage)
    // A Worker passed in belongs to the vault from then on: it runs the engine if this tab leads,
    // and is terminated when the vault closes (or fails to open) either way, so that a follower
    // tab does not keep an idle worker alive. A Worker runs one engine once: should this tab lead
    // again (after stepping down), its next engine starts from `assetBase` (or next to this module).
    const passed = passedWorker(options.worker)
    let passedUsed = false
    const dropUnused = () => {
      if (passed && !passedUsed) {
        passedUsed = true
        passed.terminate()
      }
    }
    // The engine's worker starts now, beside the election (docs/cold-start.md): its script loads
    // while the locks are asked for. This tab's first engine start uses it; a tab that follows stops
    // it. (A Worker passed in is the caller's: it is used as before, when this tab leads.)
    let early = passed ? undefined : bootEarly(name, options, storage)
    const dropEarly = () => {
      early?.discard()
      early = undefined
    }
    try {
      port = await openTabShared(name, {
        // 'auto' and the storage it picks must elect together: they are the same files.
        storage: storage === 'auto' ? (typeof navigator.storage?.getDirectory === 'function' ? 'opfs' : 'indexeddb') : storage,
        lockTimeoutMs: options.lockTimeoutMs,
        // Asked on this tab's first lead only, with the worker started for it: its first message
        // (so a worker that does not start still fails the open) says whether it will use OPFS,
        // where the page looks for the vault's folder meanwhile. A vault that must exist
        // (readOnly, create: false) is never answered for before its engine opens.
        vaultIsNew: () => {
          const booted = early
          return booted && !options.readOnly && options.create !== false ? Promise.all([Promise.race([booted.usesOpfs, booted.failed]), opfsVaultMissing(name, booted.opfsRoot)]).then(([opfs, missing]) => opfs && missing) : Promise.resolve(false)
        },
        openEngine: async () => {
          const usePassed = passed !== undefined && !passedUsed
          const booted = early
          early = undefined
          const opened = await openWorkerPort(
            name,
            { worker: usePassed ? passed : passed ? undefined : (options.worker as string | URL | undefined), assetBase: options.assetBase, wasmUrl: options.wasmUrl },
            { storage, ...vaultSettings(options) },
            booted,
          )
          if (usePassed) passedUsed = true
          return opened.port
        },
      })
    } catch (err) {
      dropEarly()
      dropUnused()
      throw err
    }
    dropEarly()
    const closePort = port.close
    port.close = async () => {
      try {
        await closePort()
      } finally {
        dropUnused()
      }
    }
  } else {
    let opened: Awaited<ReturnType<typeof openWorkerPort>>
    try {
      opened = await openWorkerPort(
        name,
        { worker: options.worker, assetBase: options.assetBase, wasmUrl: options.wasmUrl },
        { storage: workerStorage(options.storage), ...vaultSettings(options) },
      )
    } catch (err) {
      // The vault owns a Worker passed in, also when it fails to open.
      passedWorker(options.worker)?.terminate()
      throw err
    }
    port = opened.port
  }
  return port
}

/**
 * The storage a built-in name stands for, as openVault with the same options opens it: `auto` is
 * OPFS when there is one, except with `worker: false` (given or configured), whose engine on the
 * page has no OPFS and opens IndexedDB (before, listVaults and deleteVault with `worker: false`
 * went to OPFS: deleteVault removed another vault than the one such a page had opened).
 */
function resolvedStorage(storage: WorkerStorage, options: OpenVaultOptions): 'opfs' | 'indexeddb' | 'memory' {
  if (storage === 'auto') return withConfiguration(options).worker !== false && OpfsDirectory.isSupported() ? 'opfs' : 'indexeddb'
  if (storage === 'opfs' && !OpfsDirectory.isSupported()) throw new UnsupportedError('OPFS is not available here; use storage "indexeddb" or "auto"')
  if (storage === 'indexeddb' && !IndexedDbAdapter.isSupported()) throw new UnsupportedError('IndexedDB is not available here')
  return storage
}

/**
 * The folder of every vault of a built-in storage, opened on this thread: listing and deleting need
 * no engine, so no worker (OPFS's asynchronous API and IndexedDB work in a page). `memory` is this
 * page's own memory storage (the one `worker: false` vaults use).
 */
async function storageFolder(kind: 'opfs' | 'indexeddb' | 'memory'): Promise<StorageAdapter> {
  if (kind === 'memory') return pageMemory()
  if (kind === 'opfs') return OpfsDirectory.open(BROWSER_ROOT)
  return IndexedDbAdapter.open(BROWSER_ROOT, { writeBackDelay: 0 })
}

async function withStorageFolder<T>(kind: 'opfs' | 'indexeddb' | 'memory', fn: (storage: StorageAdapter) => Promise<T>): Promise<T> {
  const storage = await storageFolder(kind)
  try {
    return await fn(storage)
  } finally {
    if (kind !== 'memory') await storage.close()
  }
}

/** Delete the vault folder `name` of `storage`; false when there was none. */
async function removeVaultFolder(storage: StorageAdapter, name: string): Promise<boolean> {
  // Only a vault's own files: anything else is refused (InvalidArgumentError) and left as it is.
  if ((await checkDeletableVault(storage, name)) === 'absent') return false
  await storage.remove(name)
  return true
}

/**
 * Names of the vaults in a storage backend of this origin. Runs on this thread (no worker is started,
 * so no worker URL can make it hang).
 */
export async function listVaults(options: LocationOptions = {}): Promise<string[]> {
  validateLocationOptions(options, 'listVaults')
  if (options.storage === 'http') throw (await import('./client/http-location.js')).httpLocationUnsupported('listVaults')
  if (typeof options.storage === 'object' && options.storage !== null) return listVaultNames(options.storage)
  return withStorageFolder(resolvedStorage(workerStorage(options.storage), options), listVaultNames)
}

/**
 * Delete a vault and all its files; false when it did not exist. A vault open in any tab or worker of
 * this origin (this one included) is refused with ConflictError and left intact: the delete takes
 * the vault's leader lock (`labvault:<storage>:<name>`, held by whoever runs its engine) without
 * waiting, and holds it while deleting, so nobody opens the vault meanwhile. Runs on this thread.
 */
export async function deleteVault(name: string, options: LocationOptions = {}): Promise<boolean> {
  validateLocationOptions(options, 'deleteVault')
  // Before the name: a vault on a static host is named by its URL, which is no vault name.
  if (options.storage === 'http') throw (await import('./client/http-location.js')).httpLocationUnsupported('deleteVault')
  await checkVaultName(name)
  if (typeof options.storage === 'object' && options.storage !== null) return removeVaultFolder(options.storage, name)
  const kind = resolvedStorage(workerStorage(options.storage), options)
  const remove = async () => {
    const removed = await withStorageFolder(kind, (storage) => removeVaultFolder(storage, name))
    // DuckDB's cache of the vault's relations for vault.sql (derived data, beside the vault in OPFS).
    if (kind === 'opfs') await removeSqlCache(name).catch(() => {})
    return removed
  }
  // Memory vaults are not shared between tabs (nothing to elect, nothing to lock).
  if (kind === 'memory' || !tabSharingAvailable()) return remove()
  const key = `labvault:${kind}:${name}`
  const open = () => new ConflictError(`vault "${name}" is open (in this or another tab or worker): close it there before deleting it`)
  const got = await navigator.locks.request(key, { ifAvailable: true }, async (lock) => (lock ? { removed: await remove() } : undefined))
  if (got) return got.removed
  // Held: by a vault that is open, or only for a moment (a vault closed just now: the browser may
  // still grant the lock to a member that had queued for it and is letting go). An open vault's
  // leader keeps it, so a short wait tells the two apart.
  try {
    return (await navigator.locks.request(key, { signal: AbortSignal.timeout(DELETE_LOCK_GRACE_MS) }, remove)) as boolean
  } catch (err) {
    if ((err as { name?: string })?.name === 'TimeoutError' || (err as { name?: string })?.name === 'AbortError') throw open()
    throw err
  }
}

/** How long deleteVault waits for a vault's leader lock held by someone letting go (see deleteVault). */
const DELETE_LOCK_GRACE_MS = 1000

/**
 * The whole vault `name` as one zip archive (docs/export-import.md): a consistent snapshot taken
 * while other handles and tabs keep writing, zipped in the engine's worker and handed over a piece
 * at a time. Resolves to a Uint8Array, or with `{ as: 'stream' }` to a ReadableStream (a large vault
 * never needs its size in memory). Works on a closed vault (a worker is started for it) and on one
 * open in this or another tab (the export runs in the leader's worker).
 */
export function exportVault(name: string, options: ExportVaultOptions & { as: 'stream' }): Promise<ReadableStream<Uint8Array>>
export function exportVault(name: string, options?: ExportVaultOptions): Promise<Uint8Array>
export async function exportVault(name: string, options: ExportVaultOptions = {}): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  await checkVaultName(name)
  // Loaded on first use: a page that never moves a vault does not download the archive code.
  const { checkExportOptions, exportThrough } = await import('./client/archive.js')
  const checked = checkExportOptions(options)
  const vault = await openVault(name, { ...checked.location, readOnly: true, create: false, persist: false })
  return exportThrough(vault._domainCaller, name, checked, () => vault.close())
}

/**
 * Make the vault `name` from an archive of exportVault (bytes, a Blob or File, a ReadableStream or
 * an async iterable). Every entry is checked as it arrives; anything wrong rejects with a typed
 * error and leaves nothing written; the manifest is written last. An existing vault is refused
 * (AlreadyExistsError) unless `replace: true`; a vault open in any tab of this origin is refused
 * with ConflictError (the import holds the vault's leader lock, so nobody opens it meanwhile).
 * OPFS imports run in a worker of their own; IndexedDB and memory ones on this thread.
 */
export async function importVault(name: string, bytes: ArchiveInput, options: ImportVaultOptions = {}): Promise<void> {
  await checkVaultName(name)
  const { checkImportInput, checkImportOptions, importInto, localImportSink } = await import('./client/archive.js')
  const checked = checkImportOptions(options)
  checkImportInput(bytes)
  const location = withConfiguration(checked.location)
  const local = async (storage: StorageAdapter) => importInto(bytes, await localImportSink(storage, name, checked, location), name, checked)
  const storage = location.storage
  if (typeof storage === 'object' && storage !== null) return local(storage)
  const kind = resolvedStorage(workerStorage(storage), location)
  const run = async () => {
    if (kind === 'opfs') {
      if (location.worker === false) throw new UnsupportedError('importVault into OPFS needs a worker (synchronous access handles exist only there); leave `worker` unset')
      const { workerImportSink } = await import('./client/archive-worker.js')
      return importInto(bytes, await workerImportSink(location as WorkerLocation, name, 'opfs', checked.limits, checked.replace), name, checked)
    }
    return kind === 'memory' ? local(pageMemory()) : withStorageFolder('indexeddb', local)
  }
  if (kind === 'memory' || !tabSharingAvailable()) return run()
  // The vault's leader lock (held by whoever runs its engine): nobody opens the vault while it is written.
  const got = await navigator.locks.request(`labvault:${kind}:${name}`, { ifAvailable: true }, async (lock) => (lock ? { done: await run() } : undefined))
  if (!got) throw new ConflictError(`vault "${name}" is open (in this or another tab or worker): close it there before importing over it`)
}
