/**
 * labvault for Node: the same API as in the browser; the engine runs in-process and vaults live in
 * folders (`storage: 'fs'`, the default) or in memory.
 */
import { resolve } from 'node:path'
import { InvalidArgumentError, UnsupportedError } from './errors/errors.js'
import { validateVaultName } from './protocol/vault-name.js'
import { inProcessPort } from './client/in-process-port.js'
import { handlePort } from './client/handle-port.js'
import { acquireEngine } from './client/shared-engines.js'
import { Vault } from './client/vault.js'
import { listVaultNames } from './client/vault-names.js'
import { loggingPort } from './client/logging-port.js'
import { validateConfiguration, validateLocationOptions, validateOpenOptions, vaultSettings, type LocationOptions, type OpenVaultOptions, type WorkerConfiguration } from './client/options.js'
import { checkDeletableVault } from './persistence/vault-folder.js'
import { MemoryAdapter } from './storage/memory-adapter.js'
import { NodeFsAdapter } from './storage/node-fs-adapter.js'
import type { StorageAdapter } from './storage/storage-adapter.js'
import { nodeSharingHost } from './sharing/node/node-sharing.js'
import { nodeDerivedFile, removeNodeSqlCache } from './sharing/node/derived-file.js'

export * from './shared-exports.js'
export { NodeFsAdapter } from './storage/node-fs-adapter.js'
export { importNirs4allWorkspace, type ImportTarget, type Nirs4allImportReport } from './domains/store/client/nirs4all-import.js'

/**
 * The browser entry's one-time worker configuration (README, "Browser quickstart"). On Node the engine runs
 * in-process and there is no worker to configure: the argument is checked, then ignored, so code
 * shared by a page and a Node script may call it.
 */
export function configure(configuration: WorkerConfiguration): void {
  validateConfiguration(configuration)
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
      const root = resolve(options.path ?? './vaults')
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
  validateVaultName(name)
  validateOpenOptions(options)
  options.signal?.throwIfAborted()
  const { adapter, key } = resolveStorage(options)
  const { engine, release } = await acquireEngine(
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
  if (options.signal?.aborted) {
    await release()
    options.signal.throwIfAborted()
  }
  // This handle's own durability and read-only right travel with each of its calls.
  const port = handlePort({ ...inProcessPort(engine), close: release }, { durability: options.durability ?? 'strict', readOnly: options.readOnly ?? false }, name)
  // Every call of this handle logged on this side, wherever its engine runs (logger option).
  const vault = new Vault(loggingPort(port, options.logger, name), name)
  await vault._afterOpen(options)
  return vault
}

/** Names of the vaults in a storage location. */
export async function listVaults(options: LocationOptions = {}): Promise<string[]> {
  validateLocationOptions(options, 'listVaults')
  return listVaultNames(resolveStorage(options).adapter)
}

/**
 * Delete a vault and all its files. Returns false when it did not exist. A folder that is not a
 * vault (files labvault did not write) is refused with InvalidArgumentError and left as it is.
 */
export async function deleteVault(name: string, options: LocationOptions = {}): Promise<boolean> {
  validateVaultName(name)
  validateLocationOptions(options, 'deleteVault')
  const { adapter } = resolveStorage(options)
  if ((await checkDeletableVault(adapter, name)) === 'absent') return false
  await adapter.remove(name)
  if (adapter instanceof NodeFsAdapter) removeNodeSqlCache(adapter.root, name)
  return true
}
