import { LockTimeoutError, UnsupportedError } from '../errors/errors.js'
import type { EnginePort } from '../protocol/engine-port.js'
import { BROWSER_ROOT } from '../storage/browser-root.js'
import { IndexedDbAdapter } from '../storage/indexeddb-adapter.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { inProcessPort } from './in-process-port.js'
import { vaultSettings, type OpenVaultOptions } from './options.js'
import { pageMemory } from './page-memory.js'

// The engine on the page's own thread (`worker: false`, or a StorageAdapter passed as `storage`).
// The browser entry imports this module only then: a page whose vaults run in a worker never
// downloads it, the IndexedDB adapter or the engine (docs/cold-start.md).

/** Storage for an engine on the page's own thread. */
async function pageStorage(storage: OpenVaultOptions['storage']): Promise<{ adapter: StorageAdapter; owned: boolean }> {
  if (typeof storage === 'object' && storage !== null) return { adapter: storage, owned: false }
  const s = storage ?? 'auto'
  if (s === 'memory') return { adapter: pageMemory(), owned: false }
  if (s === 'indexeddb' || s === 'auto') return { adapter: await IndexedDbAdapter.open(BROWSER_ROOT), owned: true }
  if (s === 'opfs') throw new UnsupportedError('OPFS needs the engine in a worker (synchronous access handles exist only there); leave `worker` unset')
  throw new UnsupportedError(`storage ${JSON.stringify(s)} is not available on the page's thread`)
}

/**
 * Hold vault `name`'s leader lock of IndexedDB (`labvault:indexeddb:<name>`, the one tabs elect
 * with: src/sharing/tabs/tab-sharing.ts) until the returned function is called. An engine on this
 * thread serves no other tab, so it must be the only engine on the vault's files: without the lock,
 * a tab sharing the vault through a worker (or a second `worker: false` open) ran a second engine
 * beside it, and whichever wrote its log last lost the other's acknowledged writes. Waits up to
 * `timeoutMs` for whoever holds it, then LockTimeoutError. Without Web Locks there are no tabs to
 * share with: nothing is held.
 */
function holdLeaderLock(name: string, timeoutMs: number): Promise<() => void> {
  if (typeof navigator === 'undefined' || typeof navigator.locks?.request !== 'function') return Promise.resolve(() => {})
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(`labvault:indexeddb:${name}`, { signal: AbortSignal.timeout(timeoutMs) }, () => new Promise<void>((release) => resolve(release)))
      .catch((err: unknown) => {
        const aborted = (err as { name?: string })?.name === 'TimeoutError' || (err as { name?: string })?.name === 'AbortError'
        reject(aborted ? new LockTimeoutError(`vault "${name}" is open in another tab, worker or handle of this origin (worker: false shares it with no one): close it there, or open it without worker: false`) : err)
      })
  })
}

/** Open the vault's engine on this thread; `wasmUrl` is where sql-wasm.wasm is. */
export async function openPageEngine(name: string, options: OpenVaultOptions, wasmUrl: string): Promise<EnginePort> {
  const { adapter, owned } = await pageStorage(options.storage)
  // Only the origin's own IndexedDB files can meet another engine (memory is this page's; an
  // adapter passed in is the caller's).
  const release = owned ? await holdLeaderLock(name, options.lockTimeoutMs ?? 10_000).catch((err: unknown) => adapter.close().then(() => Promise.reject(err), () => Promise.reject(err))) : () => {}
  try {
    // The engine itself is a chunk of its own (the worker has its own copy).
    const { openVaultEngine } = await import('../domains/registry.js')
    const engine = await openVaultEngine({ name, storage: adapter, ownsStorage: owned, ...vaultSettings(options), sqlJs: { wasmUrl } })
    const port = inProcessPort(engine)
    const close = port.close
    port.close = () => close().finally(release)
    return port
  } catch (err) {
    release()
    throw err
  }
}
