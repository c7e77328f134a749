/**
 * labvault for Node: the same API as in the browser; the engine runs in-process and vaults live in
 * folders (`storage: 'fs'`, the default) or in memory.
 */
import { basename, dirname, join, resolve } from 'node:path'
import * as fs from 'node:fs'
import { InvalidArgumentError, UnsupportedError } from './errors/errors.js'
import { validateVaultName } from './protocol/vault-name.js'
import { inProcessPort } from './client/in-process-port.js'
import { handlePort } from './client/handle-port.js'
import { acquireEngine, engineOpenHere } from './client/shared-engines.js'
import { Vault } from './client/vault.js'
import { stoppableOpen } from './client/abortable-open.js'
import { listVaultNames } from './client/vault-names.js'
import { checkLogger, loggingPort } from './client/logging-port.js'
import { methodKind } from './protocol/method-kinds.js'
import { portCalls } from './protocol/engine-port.js'
import { validateOpenOptions } from './client/open-options.js'
import { validateConfiguration, validateLocationOptions, vaultSettings, type LocationOptions, type OpenVaultOptions, type WorkerConfiguration } from './client/options.js'
import { checkDeletableVault } from './persistence/vault-folder.js'
import { MemoryAdapter } from './storage/memory-adapter.js'
import { NodeFsAdapter } from './storage/node-fs-adapter.js'
import type { StorageAdapter } from './storage/storage-adapter.js'
import type { ImportLimits } from './persistence/archive-reader.js'
import { LOCK_FILE, nodeSharingHost } from './sharing/node/node-sharing.js'
import { NodeFileLock } from './sharing/node/node-file-lock.js'
import { markOpen, refuseOpenElsewhere as refuseOpenIn } from './sharing/node/node-presence.js'
import { deleteFsVault } from './sharing/node/node-vault-delete.js'
import { HttpAdapter } from './storage/http-adapter.js'
import { isBlobPath } from './persistence/format.js'
import { imageBlobReferences, openVaultEngine } from './domains/registry.js'
import { checkHttpOptions, httpLocationUnsupported, httpNotFound, httpVaultLocation } from './client/http-location.js'

import { checkExportOptions, checkImportInput, checkImportOptions, exportThrough, importInto, type ArchiveInput, type ImportSink, type ExportVaultOptions, type ImportVaultOptions } from './client/archive.js'
import { ConflictError, LockTimeoutError } from './errors/errors.js'
import * as domainClasses from './domain-exports.js'
import { acceptStandIns } from './client/lazy-client.js'
import { nodeDerivedFile, removeNodeSqlCache } from './sharing/node/derived-file.js'

export * from './shared-exports.js'
export { ItemLists, ItemList, DocumentList, EmbeddingList, FileItemList, RecordList, Lineage, Search, Session, Sessions, Column, Columns, Tables, Builders, TableArtifacts, CodeModules, Store, StoreArrays, StoreProjects, Processes, ProcessHandle, DatabaseClient } from './domain-exports.js'
// `vault.columns instanceof Columns` holds for the accessors' lazy clients too (src/client/lazy-client.ts).
acceptStandIns(domainClasses)
export { NodeFsAdapter } from './storage/node-fs-adapter.js'
export { HttpAdapter, type HttpAdapterOptions } from './storage/http-adapter.js'
export type { ArchiveInput, ArchiveProgress, ExportVaultOptions, ImportVaultOptions } from './client/archive.js'
export { importNirs4allWorkspace, type ImportTarget, type Nirs4allImportReport } from './domains/store/client/nirs4all-import.js'

/**
 * The browser entry's one-time worker configuration (docs/opening.md, "Browser quickstart"). On Node the engine runs
 * in-process and there is no worker to configure: the argument is checked, then ignored, so code
 * shared by a page and a Node script may call it.
 */
export function configure(configuration: WorkerConfiguration): void {
  validateConfiguration(configuration)
}

/**
 * The folder `path` names, with symbolic links resolved (as far as it exists yet): two paths to one
 * folder (a symlink, `..` through one) give one adapter, so this process sees a vault open through
 * either as open (one engine per vault; deleteVault and importVault refuse it).
 */
function canonicalRoot(path: string): string {
  let existing = path
  const rest: string[] = []
  for (;;) {
    try {
      return join(fs.realpathSync.native(existing), ...rest.reverse())
    } catch {
      const parent = dirname(existing)
      if (parent === existing) return path
      rest.push(basename(existing))
      existing = parent
    }
  }
}

const sharedMemory = new MemoryAdapter()
const fsAdapters = new Map<string, NodeFsAdapter>()

function resolveStorage(options: LocationOptions): { adapter: StorageAdapter; key: object } {
  const storage = options.storage ?? 'auto'
  if (typeof storage === 'object' && storage !== null) return { adapter: storage, key: storage }
  switch (storage) {
    case 'auto':
    case 'fs': {
      if (options.path !== undefined && typeof options.path !== 'string') throw new InvalidArgumentError(`path must be a string, got ${typeof options.path}`)
      if (options.path?.includes('\0')) throw new InvalidArgumentError(`path ${JSON.stringify(options.path)} contains a NUL character`)
      const root = canonicalRoot(resolve(options.path ?? './vaults'))
      let adapter = fsAdapters.get(root)
      if (!adapter) fsAdapters.set(root, (adapter = new NodeFsAdapter(root)))
      return { adapter, key: adapter }
    }
    case 'memory':
      return { adapter: sharedMemory, key: sharedMemory }
    case 'opfs':
    case 'indexeddb':
      throw new UnsupportedError(`storage "${storage}" exists only in browsers; on Node use "fs" or "memory"`)
    default:
      throw new InvalidArgumentError(`unknown storage ${JSON.stringify(storage)}`)
  }
}

/**
 * Open (or create) a vault. On Node the engine runs in this process; opening a vault that is
 * already open here shares its engine.
 */
export async function openVault(name: string, options: OpenVaultOptions = {}): Promise<Vault> {
  validateOpenOptions(options)
  checkLogger(options?.logger)
  if (options?.storage === 'http') return openHttpVault(name, options)
  validateVaultName(name)
  options.signal?.throwIfAborted()
  const { adapter, key } = resolveStorage(options)
  // Checked before anything awaits (importVault registers the same way): one of the two wins.
  refuseBusy(key, name)
  // Other processes see that this one has the vault open (importVault's replace and deleteVault
  // refuse meanwhile); marked before the open reads anything, so a deletion that looks once the
  // open began sees it.
  const unmark = adapter instanceof NodeFsAdapter ? markOpen(adapter.root, name) : () => {}
  // Stopped by `signal` wherever it waits (another process's lock, a long replay): what it opened
  // is then released once it is ready (src/client/abortable-open.ts).
  const acquiring = acquireEngine(
    key,
    {
      name,
      storage: adapter,
      ...vaultSettings(options),
      // Folders on disk may be opened by other processes too: share them through the lock file.
      sharing:
        adapter instanceof NodeFsAdapter
          ? nodeSharingHost(adapter.root, name, { mode: options.sharing ?? 'shared', lockTimeoutMs: options.lockTimeoutMs, leaseMs: options.lockLeaseMs })
          : undefined,
      // vault.sql's relations cached beside the vault's folder (docs/sql.md, "Cache file").
      derivedFile: adapter instanceof NodeFsAdapter ? nodeDerivedFile(adapter.root, name) : undefined,
    },
    {
      checkpointBytes: options.checkpointBytes,
      processLeaseMs: options.processLeaseMs,
      sharing: options.sharing,
      lockTimeoutMs: options.lockTimeoutMs,
      lockLeaseMs: options.lockLeaseMs,
    },
  )
  // Taking the lock file of a vault that turns out not to exist (create: false, readOnly, an
  // export) made its folder: a failed open changes nothing, so that folder goes if it is empty.
  const folder = adapter instanceof NodeFsAdapter ? join(adapter.root, name) : undefined
  const folderExisted = folder === undefined || fs.existsSync(folder)
  const { engine, release } = await stoppableOpen(options.signal, acquiring, (acquired) => acquired.release()).catch((err: unknown) => {
    unmark()
    if (!folderExisted) removeEmptyFolders(folder!)
    throw err
  })
  // This handle's own durability and read-only right travel with each of its calls.
  const close = async () => {
    unmark()
    await release()
  }
  const port = handlePort({ ...inProcessPort(engine), close }, { durability: options.durability ?? 'strict', readOnly: options.readOnly ?? false }, name)
  // Every call of this handle logged on this side, wherever its engine runs (logger option).
  const vault = new Vault(loggingPort(port, options.logger, name, { portCalls, methodKind }), name)
  await vault._afterOpen(options)
  return vault
}

/**
 * A vault read from a static host (`storage: 'http'`, docs/http-storage.md): `url` is its folder's
 * URL. Read-only; every open has its own engine and cache (nothing is shared: nothing is written).
 */
async function openHttpVault(url: string, options: OpenVaultOptions): Promise<Vault> {
  checkHttpOptions(options)
  const location = httpVaultLocation(url)
  options.signal?.throwIfAborted()
  const adapter = new HttpAdapter(location.root, { timeoutMs: options.http?.timeoutMs, cacheBytes: options.http?.cacheBytes, cacheable: isBlobPath })
  let engine: Awaited<ReturnType<typeof openVaultEngine>>
  // Stopped by `signal` wherever it waits (a slow host): the engine is closed once it is ready.
  const opening = openVaultEngine({ name: location.name, storage: adapter, ownsStorage: true, ...vaultSettings(options), readOnly: true, create: false, processLeaseMs: options.processLeaseMs }).catch(async (err: unknown) => {
    await adapter.close()
    throw err
  })
  try {
    engine = await stoppableOpen(options.signal, opening, (opened) => opened.close())
  } catch (err) {
    throw httpNotFound(location, err)
  }
  const port = handlePort(inProcessPort(engine), { durability: options.durability ?? 'strict', readOnly: true }, location.name)
  return new Vault(loggingPort(port, options.logger, location.name, { portCalls, methodKind }), location.name)
}

/**
 * Vaults being imported or deleted in this process, per storage: opening (or creating, or
 * exporting) one, importing or deleting it again is refused with ConflictError until that call
 * settles, as importVault and deleteVault refuse a vault open here. Other processes are kept out by
 * the vault's lock file, which an import or a deletion holds throughout (see importVault).
 */
const busyHere = new WeakMap<object, Map<string, 'imported' | 'deleted'>>()

/** ConflictError when vault `name` of storage `key` is being imported or deleted in this process. */
function refuseBusy(key: object, name: string): void {
  const what = busyHere.get(key)?.get(name)
  if (what) throw new ConflictError(`vault "${name}" is being ${what} in this process: wait for ${what === 'imported' ? 'importVault' : 'deleteVault'} to settle`)
}

/** Mark vault `name` of storage `key` busy for the duration of `run` (after {@link refuseBusy}). */
async function whileBusy<T>(key: object, name: string, what: 'imported' | 'deleted', run: () => Promise<T>): Promise<T> {
  refuseBusy(key, name)
  let names = busyHere.get(key)
  if (!names) busyHere.set(key, (names = new Map()))
  names.set(name, what)
  try {
    return await run()
  } finally {
    names.delete(name)
  }
}

/** How long an import waits for the vault's lock file held by another process (creating it, writing it). */
const IMPORT_LOCK_TIMEOUT_MS = 10_000

/** Names of the vaults in a storage location. */
export async function listVaults(options: LocationOptions = {}): Promise<string[]> {
  validateLocationOptions(options, 'listVaults')
  if (options.storage === 'http') throw httpLocationUnsupported('listVaults')
  return listVaultNames(resolveStorage(options).adapter)
}

/**
 * Delete a vault and all its files. Returns false when it did not exist. A folder that is not a
 * vault (files labvault did not write) is refused with InvalidArgumentError and left as it is. A
 * vault open in this process or, on `fs`, in another one (or being imported) is refused with
 * ConflictError and left intact, as in a browser. On `fs` the folder is moved aside in one step
 * before its files are removed, so a crash midway never leaves half a vault
 * (src/sharing/node/node-vault-delete.ts).
 */
export async function deleteVault(name: string, options: LocationOptions = {}): Promise<boolean> {
  validateLocationOptions(options, 'deleteVault')
  // Before the name: a vault on a static host is named by its URL, which is no vault name.
  if (options.storage === 'http') throw httpLocationUnsupported('deleteVault')
  validateVaultName(name)
  const { adapter, key } = resolveStorage(options)
  if (engineOpenHere(key, name)) throw new ConflictError(`vault "${name}" is open in this process: close every handle of it before deleting it; nothing was deleted`)
  refuseBusy(key, name)
  const check = () => checkDeletableVault(adapter, name)
  if (!(adapter instanceof NodeFsAdapter)) {
    if ((await check()) === 'absent') return false
    await adapter.remove(name)
    return true
  }
  return whileBusy(key, name, 'deleted', async () => {
    const removed = await deleteFsVault(adapter.root, name, check)
    if (removed) removeNodeSqlCache(adapter.root, name)
    return removed
  })
}

/**
 * The whole vault `name` as one zip archive (docs/export-import.md): a consistent snapshot taken
 * while other handles and processes keep writing, its files deflated as they are read. Resolves to
 * a Uint8Array, or with `{ as: 'stream' }` to a ReadableStream whose pieces are produced as they
 * are read (a large vault never needs its size in memory). Works on a closed vault and on one open
 * here or in other processes.
 */
export function exportVault(name: string, options: ExportVaultOptions & { as: 'stream' }): Promise<ReadableStream<Uint8Array>>
export function exportVault(name: string, options?: ExportVaultOptions): Promise<Uint8Array>
export async function exportVault(name: string, options: ExportVaultOptions = {}): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  // Before the name: a vault on a static host is named by its URL, which is no vault name.
  const checked = checkExportOptions(options)
  if (checked.location.storage === 'http') throw new UnsupportedError('exportVault: a vault on a static host is exported where it was written (its folder there is what the host serves)')
  validateVaultName(name)
  refuseFileInPlace(resolveStorage(checked.location).adapter, name, 'exportVault')
  const vault = await openVault(name, { ...checked.location, readOnly: true, create: false })
  return exportThrough(vault._domainCaller, name, checked, () => vault.close())
}

/**
 * Make the vault `name` from an archive of exportVault (bytes, a Blob, a ReadableStream or an async
 * iterable). Every entry is checked as it arrives (names, sizes, checksums, compression ratio, total
 * size); anything wrong rejects with a typed error and leaves nothing written. The vault's manifest
 * is written last, so a crash mid-import leaves no vault that opens. An existing vault is refused
 * (AlreadyExistsError) unless `replace: true`, which keeps it intact until the import completes.
 */
export async function importVault(name: string, bytes: ArchiveInput, options: ImportVaultOptions = {}): Promise<void> {
  const checked = checkImportOptions(options)
  if (checked.location.storage === 'http') throw new UnsupportedError('importVault: storage "http" is read-only (import into "fs", then copy the vault folder to the host)')
  validateVaultName(name)
  checkImportInput(bytes)
  const { adapter, key } = resolveStorage(checked.location)
  refuseFileInPlace(adapter, name, 'importVault')
  if (engineOpenHere(key, name)) throw new ConflictError(`vault "${name}" is open in this process: close it before importing over it`)
  await whileBusy(key, name, 'imported', async () => {
    if (!(adapter instanceof NodeFsAdapter)) return await importInto(bytes, await nodeImportSink(adapter, name, checked.limits, checked.replace), name, checked)
    await importHoldingLock(adapter, name, bytes, checked)
  })
}

/**
 * An importer on this thread that also checks that the archive holds every blob its image's rows
 * refer to (a hand-made archive lacking one imported, and its reads failed later): sql.js and the
 * domains' queries are here on Node, not in the persistence layer that imports.
 */
async function nodeImportSink(storage: StorageAdapter, name: string, limits: Partial<ImportLimits>, replace: boolean): Promise<ImportSink> {
  const { ArchiveImporter, DEFAULT_IMPORT_LIMITS } = await import('./persistence/archive-reader.js')
  return ArchiveImporter.begin(storage, name, name, { ...DEFAULT_IMPORT_LIMITS, ...limits }, replace, (image) => imageBlobReferences(image))
}

/**
 * On disk, the vault's folder (or the `path` above it) being a file is bad input, said as such:
 * it failed later, taking the lock file inside it, with an ENOTDIR VaultError.
 */
function refuseFileInPlace(adapter: StorageAdapter, name: string, call: 'exportVault' | 'importVault'): void {
  if (!(adapter instanceof NodeFsAdapter)) return
  for (const [what, at] of [['path', adapter.root], [`vault "${name}"`, join(adapter.root, name)]] as const) {
    let file: boolean
    try {
      file = fs.statSync(at, { throwIfNoEntry: false })?.isDirectory() === false
    } catch (err) {
      // ENOTDIR: a file further up the path.
      if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err
      file = true
    }
    if (file) throw new InvalidArgumentError(`${call}: ${what} is ${JSON.stringify(at)}, a file, not a folder; nothing was ${call === 'exportVault' ? 'read' : 'written'}`)
  }
}

/**
 * An import into a folder on disk holds the vault's lock file (the write lock every process takes
 * to create or write the vault) from before it looks at the folder until after its commit or its
 * clean-up. So another process creating the name waits for it (and then opens what is there),
 * another process importing it waits and then finds the vault (AlreadyExistsError), and nobody
 * creates a vault in the folder that a failed import then removes, or a succeeding one overwrites.
 * (Before, the checks ran once at the start and nothing was held: a failed import removed a vault
 * created meanwhile, a succeeding one overwrote it.)
 */
async function importHoldingLock(adapter: NodeFsAdapter, name: string, bytes: ArchiveInput, checked: ReturnType<typeof checkImportOptions>): Promise<void> {
  const refuseOpenElsewhere = () => refuseOpenIn(adapter.root, name, 'close it there before importing over it')
  // At once, without waiting for the lock (an `exclusive` opener holds it until it closes).
  refuseOpenElsewhere()
  const folder = join(adapter.root, name)
  const folderExisted = fs.existsSync(folder)
  // `purpose`: an open that starts during the import (after the marks were looked at) waits for it
  // instead of reading the files it replaces (src/engine/sharing/open-shared.ts).
  const lock = new NodeFileLock(join(folder, LOCK_FILE), { leaseMs: 5000, purpose: 'import' })
  try {
    try {
      await lock.acquire(IMPORT_LOCK_TIMEOUT_MS)
    } catch (err) {
      if (!(err instanceof LockTimeoutError)) throw err
      throw new ConflictError(`vault "${name}" is being created or written by another process: importVault waited ${IMPORT_LOCK_TIMEOUT_MS} ms for it (${err.message})`, { cause: err })
    }
    // Again under the lock: an opener that came meanwhile.
    refuseOpenElsewhere()
    const sink = await nodeImportSink(adapter, name, checked.limits, checked.replace)
    await importInto(bytes, sink, name, checked)
  } finally {
    lock.release()
    // A call that failed changes nothing: the folder it made (for the lock) goes if it is empty.
    if (!folderExisted) removeEmptyFolders(folder)
  }
}

/**
 * Remove `folder` and its `blobs/<hh>` folders where they are empty, bottom up (rmdir removes only
 * an empty folder: one a process has just written into stays, so this never races with a writer).
 */
function removeEmptyFolders(folder: string): void {
  const rmdir = (dir: string) => {
    try {
      fs.rmdirSync(dir)
    } catch {}
  }
  const blobs = join(folder, 'blobs')
  let prefixes: string[] = []
  try {
    prefixes = fs.readdirSync(blobs)
  } catch {}
  for (const p of prefixes) rmdir(join(blobs, p))
  rmdir(blobs)
  rmdir(folder)
}
