import { UnsupportedError } from '../errors/errors.js'
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

/** Open the vault's engine on this thread; `wasmUrl` is where sql-wasm.wasm is. */
export async function openPageEngine(name: string, options: OpenVaultOptions, wasmUrl: string): Promise<EnginePort> {
  const { adapter, owned } = await pageStorage(options.storage)
  // The engine itself is a chunk of its own (the worker has its own copy).
  const { openVaultEngine } = await import('../domains/registry.js')
  const engine = await openVaultEngine({ name, storage: adapter, ownsStorage: owned, ...vaultSettings(options), sqlJs: { wasmUrl } })
  return inProcessPort(engine)
}
