import type { VaultSettings } from '../engine/vault-engine.js'
import type { Durability } from '../persistence/vault-files.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'

/** Where a vault lives: a built-in backend by name, or your own adapter. */
export type StorageChoice = 'auto' | 'opfs' | 'indexeddb' | 'memory' | 'fs' | StorageAdapter

/** Options of `openVault()`. */
export interface OpenVaultOptions {
  /** `auto` (default): OPFS in a browser that has it, then IndexedDB; the filesystem on Node. */
  storage?: StorageChoice
  /** fs only: the parent folder; the vault lives in `path/<name>`. Default `./vaults`. */
  path?: string
  /** false: NotFoundError when the vault does not exist. Default true. */
  create?: boolean
  /** Recorded when the vault is created. */
  author?: string
  description?: string
  /** `strict` (default): a write resolves once durable. `relaxed`: at once; flushed within ~100 ms. */
  durability?: Durability
  /**
   * Browser: where the engine runs. Default: a dedicated module worker started from `assetBase` (or
   * next to this module). Pass a Worker you made (e.g. Vite's `?worker` import), a URL of the worker
   * script, or `false` to run the engine on this thread (memory and IndexedDB only).
   * Node: the engine always runs in-process.
   */
  worker?: Worker | string | URL | false
  /** URL of the folder holding `vault.worker.js` and `sql-wasm.wasm` (for CDN use). */
  assetBase?: string | URL
  /** URL of `sql-wasm.wasm` when it is not in `assetBase` (e.g. Vite's `?url` import). */
  wasmUrl?: string | URL
  /** Open without the right to write: writes reject with UnsupportedError. */
  readOnly?: boolean
  /**
   * Open a damaged vault anyway: rebuild a lost manifest from the newest image and log, and drop a
   * damaged log record with the intact records after it. Off by default (those were acknowledged).
   */
  repair?: boolean
  /** Abort opening. */
  signal?: AbortSignal
  /** Browser: ask for persistent storage (`navigator.storage.persist()`). Default true. */
  persist?: boolean
  /** Checkpoint once the log reaches this many bytes (default 16 MiB, or the image size if larger). */
  checkpointBytes?: number
  /**
   * Node (fs storage): `shared` (default) lets other processes open and write the vault at the same
   * time (a write takes the vault's lock file and catches up first); `exclusive` holds the lock from
   * open to close: no lock round trip per write, and other processes wait for it (LockTimeoutError).
   * Browsers always share between tabs (leader election); see README.md, "Sharing a vault".
   */
  sharing?: 'shared' | 'exclusive'
  /** How long a write (or `transaction`) waits for the vault's write lock before LockTimeoutError. Default 10 s. */
  lockTimeoutMs?: number
  /** Lease of the lock file (Node): a holder that is not known to be alive and silent this long is presumed dead. Default 5 s. */
  lockLeaseMs?: number
  /** Lease of running processes: a process whose holder is silent this long shows as crashed. Default 10 s. */
  processLeaseMs?: number
  /** Resume or roll back what crashed processes left in flight, at open (README.md, "Sharing a vault"). */
  restart?: boolean
}

/** Options of `listVaults()` and `deleteVault()`. */
export interface LocationOptions {
  storage?: StorageChoice
  path?: string
  worker?: Worker | string | URL | false
  assetBase?: string | URL
  wasmUrl?: string | URL
}

/** Pick the engine's settings out of openVault's options: one place, so no entry point forgets one. */
export function vaultSettings(o: OpenVaultOptions): VaultSettings {
  return {
    create: o.create,
    readOnly: o.readOnly,
    repair: o.repair,
    author: o.author,
    description: o.description,
    durability: o.durability,
    checkpointBytes: o.checkpointBytes,
    processLeaseMs: o.processLeaseMs,
  }
}
