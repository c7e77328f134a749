import { InvalidArgumentError } from '../errors/errors.js'
import { describeValue } from '../codec/checks.js'
import type { VaultSettings } from '../protocol/engine-types.js'
import type { Durability } from '../protocol/engine-types.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import type { VaultLogger } from './logging-port.js'

/**
 * Where a vault lives: a built-in backend by name, or your own adapter. `http`: read-only, from a
 * static host; the vault's name argument is then the URL of its folder (docs/http-storage.md).
 */
export type StorageChoice = 'auto' | 'opfs' | 'indexeddb' | 'memory' | 'fs' | 'http' | StorageAdapter

/** Options of a vault read over HTTP (`storage: 'http'`). */
export interface HttpOptions {
  /** How long to wait for an answer, then for each piece of its body, before NetworkError. Default 30 s. */
  timeoutMs?: number
  /** Bytes of blobs and column chunks kept in memory once fetched. Default 64 MiB. */
  cacheBytes?: number
}

/** Options of `openVault()`. */
export interface OpenVaultOptions {
  /**
   * `auto` (default): OPFS in a browser that has it, then IndexedDB; the filesystem on Node.
   * `http`: read-only from a static host, `openVault('https://host/vaults/lab/', { storage: 'http' })`.
   */
  storage?: StorageChoice
  /** `storage: 'http'` only: request timeout and cache size. */
  http?: HttpOptions
  /** fs only: the parent folder; the vault lives in `path/<name>`. Default `./vaults`. */
  path?: string
  /** false: NotFoundError when the vault does not exist. Default true. */
  create?: boolean
  /** Recorded when the vault is created. */
  author?: string
  /** Recorded when the vault is created (`vault.info().description`). */
  description?: string
  /**
   * `strict` (default): a write resolves once durable. `relaxed`: at once; flushed within ~100 ms.
   * Per handle: each handle's writes get its own durability, also when another handle (or the
   * leader tab) of the same vault is relaxed.
   */
  durability?: Durability
  /**
   * Browser: where the engine runs. Default: a dedicated module worker started from `assetBase` (or
   * next to this module). Pass a Worker you made (e.g. Vite's `?worker` import), a URL of the worker
   * script, a function that makes a Worker each time an engine starts (`() => new VaultWorker()`), or
   * `false` to run the engine on this thread (memory and IndexedDB only). A page can say it once for
   * every call with `configure({ worker })`. A worker that fails to start rejects with
   * UnsupportedError (at once when its script does not load).
   * Node: the engine always runs in-process.
   */
  worker?: WorkerOption
  /** URL of the folder holding `vault.worker.js` and `sql-wasm.wasm` (for CDN use). */
  assetBase?: string | URL
  /** URL of `sql-wasm.wasm` when it is not in `assetBase` (e.g. Vite's `?url` import). */
  wasmUrl?: string | URL
  /**
   * This handle may not write: its writes (and `transaction`, `checkpoint`) reject with
   * UnsupportedError before anything is sent. Per handle: another handle of the same vault (in
   * this realm or another tab) may write.
   */
  readOnly?: boolean
  /**
   * Open a damaged vault anyway: rebuild a lost manifest from the newest image and log, and drop a
   * damaged log record with the intact records after it. Off by default (those were acknowledged).
   */
  repair?: boolean
  /**
   * Stops the open wherever it waits (a lock, another tab's leader, a download, a slow host): the
   * promise rejects with the signal's reason at once; what the open goes on to open is closed when
   * ready. Aborting after openVault resolved changes nothing.
   */
  signal?: AbortSignal
  /**
   * Browser: ask for persistent storage (`navigator.storage.persist()`). Default true. Never awaited:
   * Firefox answers only after a permission prompt, so the vault opens meanwhile.
   */
  persist?: boolean
  /** Checkpoint once the log reaches this many bytes (default 16 MiB, or the image size if larger). */
  checkpointBytes?: number
  /**
   * Node (fs storage): `shared` (default) lets other processes open and write the vault at the same
   * time (a write takes the vault's lock file and catches up first); `exclusive` holds the lock from
   * open to close: no lock round trip per write, and other processes wait for it (LockTimeoutError).
   * Browsers always share between tabs (leader election); see docs/sharing.md.
   */
  sharing?: 'shared' | 'exclusive'
  /**
   * How long a write (or `transaction`) waits for the vault's write lock before LockTimeoutError.
   * Default 10 s. In a browser, where tabs share a vault, also how long a tab waits for another tab
   * to lead it; not how long its own engine may take to open (a slow download, a large replay).
   */
  lockTimeoutMs?: number
  /** Lease of the lock file (Node): a holder that is not known to be alive and silent this long is presumed dead. Default 5 s. */
  lockLeaseMs?: number
  /** Lease of running processes: a process whose holder is silent this long shows as crashed. Default 10 s. */
  processLeaseMs?: number
  /** Resume or roll back what crashed processes left in flight, at open (docs/processes.md). */
  restart?: boolean
  /**
   * Log every operation of this handle once it settles: domain, method, duration, outcome (never
   * the values, keys or names). A function that takes each entry, or a console-like object
   * (`console`): `debug` for successes, `warn` for failures. Silent by default.
   */
  logger?: VaultLogger
}

/**
 * Where a vault's engine runs in a browser: a Worker you made, the URL of `vault.worker.js`, a
 * function that makes a Worker (called each time an engine starts), or `false` (this thread).
 */
export type WorkerOption = Worker | string | URL | (() => Worker) | false

/** Options of `listVaults()` and `deleteVault()`. */
export interface LocationOptions {
  /** Where the vaults are, as `openVault`'s `storage` (default `auto`). */
  storage?: StorageChoice
  /** fs only: the parent folder of the vaults (default `./vaults`). */
  path?: string
  /** Browser: the worker to use, as `openVault`'s `worker`. */
  worker?: WorkerOption
  /** As `openVault`'s `assetBase`: the folder holding `vault.worker.js` and `sql-wasm.wasm`. */
  assetBase?: string | URL
  /** As `openVault`'s `wasmUrl`. */
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

// ---------------------------------------------------------------------------------------------
// Validation: every public option is checked here (and openVault's others in open-options.ts),
// before anything is opened or sent, so a typo (`durabilty`, `durability: 'stict'`) is an error and
// never silently means a weaker guarantee.

const storageNames = ['auto', 'opfs', 'indexeddb', 'memory', 'fs', 'http']
const adapterMethods = ['read', 'readRange', 'write', 'append', 'truncate', 'size', 'sync', 'remove', 'list', 'close'] as const

/** Checks one option's value (`name` is how a message names it); throws InvalidArgumentError. */
export type Check = (value: unknown, name: string) => void

export { describeValue }

/** The InvalidArgumentError of an option that is not what it must be. */
export function fail(name: string, expected: string, value: unknown): never {
  throw new InvalidArgumentError(`option "${name}" must be ${expected}, got ${describeValue(value)}`)
}

const urlLike: Check = (v, n) => {
  if (typeof v !== 'string' && !(typeof URL !== 'undefined' && v instanceof URL)) fail(n, 'a string or a URL', v)
}
const path: Check = (v, n) => {
  if (typeof v !== 'string' || v.length === 0) fail(n, 'a non-empty string', v)
  if (v.includes('\0')) throw new InvalidArgumentError(`option "${n}" must not contain a NUL character`)
}
const storage: Check = (v, n) => {
  if (typeof v === 'string') {
    if (!storageNames.includes(v)) fail(n, `one of ${storageNames.map((s) => JSON.stringify(s)).join(', ')} or a StorageAdapter`, v)
    return
  }
  if (typeof v !== 'object' || v === null) fail(n, 'a storage name or a StorageAdapter', v)
  const missing = adapterMethods.filter((m) => typeof (v as Record<string, unknown>)[m] !== 'function')
  if (missing.length > 0 || typeof (v as { kind?: unknown }).kind !== 'string') {
    throw new InvalidArgumentError(`option "${n}" is an object but not a StorageAdapter (missing ${missing.length ? missing.join(', ') : 'kind'})`)
  }
}
const worker: Check = (v, n) => {
  if (v === false || typeof v === 'string' || typeof v === 'function' || (typeof URL !== 'undefined' && v instanceof URL)) return
  if (typeof v === 'object' && v !== null && typeof (v as Worker).postMessage === 'function' && typeof (v as Worker).terminate === 'function') return
  fail(n, 'a Worker, a URL (string or URL) of the worker script, a function returning a Worker, or false', v)
}
/** The checks of the options where a vault is (also the first of openVault's: src/client/open-options.ts). */
export const locationChecks: Record<keyof LocationOptions, Check> = { storage, path, worker, assetBase: urlLike, wasmUrl: urlLike }

/** Check `options` against `checks` (unknown keys refused, undefined values skipped). */
export function validate(options: unknown, checks: Record<string, Check>, call: string): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`the options of ${call} must be an object, got ${describeValue(options)}`)
  }
  for (const key of Object.keys(options)) {
    const check = Object.hasOwn(checks, key) ? checks[key] : undefined
    if (!check) {
      throw new InvalidArgumentError(`unknown option "${key}" of ${call} (known: ${Object.keys(checks).join(', ')})`)
    }
    const value = (options as Record<string, unknown>)[key]
    // An option set to undefined means "the default", as when it is left out.
    if (value !== undefined) check(value, key)
  }
}

/**
 * True when `options` names only where the vault is (or nothing): options.ts's checks then say all
 * there is to say, and a page need not load open-options.ts.
 */
export function onlyLocationOptions(options: unknown): boolean {
  return options === undefined || (typeof options === 'object' && options !== null && !Array.isArray(options) && Object.keys(options).every((k) => Object.hasOwn(locationChecks, k)))
}

/** Check the options of `listVaults` / `deleteVault`. */
export function validateLocationOptions(options: unknown, call: 'listVaults' | 'deleteVault' | 'configure' | 'exportVault' | 'importVault' | 'openVault'): asserts options is LocationOptions | undefined {
  validate(options, locationChecks, call)
}

/** Where a page's workers and wasm are, said once with `configure` (src/index.ts). */
export interface WorkerConfiguration {
  /**
   * The worker of every vault opened without a `worker` option: the URL of `vault.worker.js`, a
   * function that makes a Worker (`() => new VaultWorker()` from a bundler's worker import), or
   * `false` to run engines on the page's thread. Not a Worker object: each engine needs its own.
   */
  worker?: string | URL | (() => Worker) | false
  /** The folder holding `vault.worker.js` and `sql-wasm.wasm` (a path is relative to the page). */
  assetBase?: string | URL
  /** The URL of `sql-wasm.wasm`, when it is not in `assetBase`. */
  wasmUrl?: string | URL
}

/** Check `configure`'s argument (InvalidArgumentError naming what is wrong); its known fields. */
export function validateConfiguration(configuration: unknown): WorkerConfiguration {
  // (Nothing given is no configuration: refused like any value that is not an object.)
  validate(configuration ?? null, locationChecks, 'configure')
  const { worker, assetBase, wasmUrl, ...rest } = configuration as LocationOptions
  if (Object.keys(rest).length > 0) throw new InvalidArgumentError(`configure() takes worker, assetBase and wasmUrl, not ${Object.keys(rest).join(', ')}`)
  if (typeof worker === 'object' && worker !== null && !(typeof URL !== 'undefined' && (worker as unknown) instanceof URL)) {
    throw new InvalidArgumentError('configure(): option "worker" is a Worker object, which runs one engine only; pass a function that makes one: () => new VaultWorker()')
  }
  return { worker: worker as WorkerConfiguration['worker'], assetBase, wasmUrl }
}
