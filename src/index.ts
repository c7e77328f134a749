/**
 * labvault: a vault for machine-learning experiment data that lives in the browser.
 *
 * In a page, `openVault` starts the engine in a dedicated module worker and keeps the data in OPFS
 * (or IndexedDB); nothing touches `window`, `navigator` or `Worker` until you call it.
 */
import { InvalidArgumentError, UnsupportedError } from './errors/errors.js'
import { validateVaultName } from './engine/vault-name.js'
import { inProcessPort } from './client/in-process-port.js'
import type { EnginePort } from './client/engine-port.js'
import { vaultSettings, type LocationOptions, type OpenVaultOptions } from './client/options.js'
import { Vault } from './client/vault.js'
import { openTabShared, tabSharingAvailable } from './sharing/tab-sharing.js'
import { listVaultNames } from './client/vault-names.js'
import { checkDeletableVault } from './persistence/vault-folder.js'
import { openWorkerPort, withStorageWorker, type WorkerStorage } from './client/worker-port.js'
import { IndexedDbAdapter } from './storage/indexeddb-adapter.js'
import { MemoryAdapter } from './storage/memory-adapter.js'
import type { StorageAdapter } from './storage/storage-adapter.js'

export * from './shared-exports.js'
export { OpfsAdapter } from './storage/opfs-adapter.js'
export { IndexedDbAdapter } from './storage/indexeddb-adapter.js'

function workerStorage(storage: OpenVaultOptions['storage']): WorkerStorage {
  const s = storage ?? 'auto'
  if (s === 'fs') throw new UnsupportedError('storage "fs" exists only on Node; in a browser use "auto", "opfs", "indexeddb" or "memory"')
  if (s === 'auto' || s === 'opfs' || s === 'indexeddb' || s === 'memory') return s
  throw new InvalidArgumentError(`unknown storage ${JSON.stringify(s)}`)
}

let pageMemory: MemoryAdapter | undefined

/** Storage for an engine on the page's own thread (`worker: false` or a custom adapter). */
async function pageStorage(storage: OpenVaultOptions['storage']): Promise<{ adapter: StorageAdapter; owned: boolean }> {
  if (typeof storage === 'object' && storage !== null) return { adapter: storage, owned: false }
  const s = storage ?? 'auto'
  if (s === 'memory') return { adapter: (pageMemory ??= new MemoryAdapter()), owned: false }
  if (s === 'indexeddb' || s === 'auto') return { adapter: await IndexedDbAdapter.open('labvault'), owned: true }
  if (s === 'opfs') throw new UnsupportedError('OPFS needs the engine in a worker (synchronous access handles exist only there); leave `worker` unset')
  return { adapter: workerStorage(s) as never, owned: false }
}

async function requestPersistence(options: OpenVaultOptions): Promise<boolean | undefined> {
  if (options.persist === false || typeof navigator === 'undefined' || !navigator.storage?.persist) return undefined
  try {
    return (await navigator.storage.persisted()) || (await navigator.storage.persist())
  } catch {
    return undefined
  }
}

async function storageEstimate(persisted: boolean | undefined): Promise<{ usage?: number; quota?: number; persisted?: boolean } | undefined> {
  if (typeof navigator === 'undefined' || !navigator.storage?.estimate) return undefined
  try {
    const e = await navigator.storage.estimate()
    return { usage: e.usage, quota: e.quota, persisted }
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
  validateVaultName(name)
  options.signal?.throwIfAborted()
  const persisted = await requestPersistence(options)
  let port: EnginePort
  if (options.worker === false || (typeof options.storage === 'object' && options.storage !== null)) {
    const { adapter, owned } = await pageStorage(options.storage)
    // Loaded only here: a page that uses the worker never downloads the engine twice.
    const { VaultEngine } = await import('./engine/vault-engine.js')
    const engine = await VaultEngine.open({
      name,
      storage: adapter,
      ownsStorage: owned,
      ...vaultSettings(options),
      sqlJs: { wasmUrl: options.wasmUrl !== undefined ? String(options.wasmUrl) : options.assetBase !== undefined ? new URL('sql-wasm.wasm', String(options.assetBase).replace(/\/?$/, '/')).href : new URL('sql-wasm.wasm', import.meta.url).href },
    })
    port = inProcessPort(engine)
  } else if (options.storage !== 'memory' && tabSharingAvailable()) {
    // Tabs and workers of this origin share the vault: one leader runs the engine (src/sharing/tab-sharing.ts).
    const storage = workerStorage(options.storage)
    const worker = options.worker as Worker | string | URL | undefined
    port = await openTabShared(name, {
      // 'auto' and the storage it picks must elect together: they are the same files.
      storage: storage === 'auto' ? (typeof navigator.storage?.getDirectory === 'function' ? 'opfs' : 'indexeddb') : storage,
      lockTimeoutMs: options.lockTimeoutMs,
      openEngine: async () =>
        (
          await openWorkerPort(
            name,
            { worker, assetBase: options.assetBase, wasmUrl: options.wasmUrl },
            { storage, ...vaultSettings(options) },
          )
        ).port,
    })
  } else {
    const opened = await openWorkerPort(
      name,
      { worker: options.worker, assetBase: options.assetBase, wasmUrl: options.wasmUrl },
      { storage: workerStorage(options.storage), ...vaultSettings(options) },
    )
    port = opened.port
  }
  const info = port.info
  const role = (port as { role?: () => 'leader' | 'follower' }).role
  port.info = async () => ({ ...(await info()), storageEstimate: await storageEstimate(persisted), ...(role ? { tabRole: role() } : {}) })
  if (options.signal?.aborted) {
    await port.close()
    options.signal.throwIfAborted()
  }
  const vault = new Vault(port, name)
  // Roll back or keep what crashed processes left in flight (README.md, "Sharing a vault").
  if (options.restart) await vault.processes.recover()
  return vault
}

/** Names of the vaults in a storage backend of this origin. */
export async function listVaults(options: LocationOptions = {}): Promise<string[]> {
  if (typeof options.storage === 'object' && options.storage !== null) return listVaultNames(options.storage)
  const storage = workerStorage(options.storage)
  return withStorageWorker({ worker: options.worker || undefined, assetBase: options.assetBase, wasmUrl: options.wasmUrl }, (r) => r.listVaults(storage))
}

/** Delete a vault and all its files; false when it did not exist. A vault open elsewhere gives ConflictError. */
export async function deleteVault(name: string, options: LocationOptions = {}): Promise<boolean> {
  validateVaultName(name)
  if (typeof options.storage === 'object' && options.storage !== null) {
    if ((await checkDeletableVault(options.storage, name)) === 'absent') return false
    await options.storage.remove(name)
    return true
  }
  const storage = workerStorage(options.storage)
  return withStorageWorker({ worker: options.worker || undefined, assetBase: options.assetBase, wasmUrl: options.wasmUrl }, (r) => r.deleteVault(name, storage))
}
