import { isBlobPath } from '../persistence/format.js'
import { methodKind } from '../protocol/method-kinds.js'
import { portCalls, type EnginePort } from '../protocol/engine-port.js'
import { checkHttpOptions, httpNotFound, httpVaultLocation } from './http-location.js'
import { handlePort } from './handle-port.js'
import { loggingPort } from './logging-port.js'
import { vaultSettings, type OpenVaultOptions } from './options.js'
import { Vault } from './vault.js'
import { stoppableOpen } from './abortable-open.js'
import { openWorkerPort } from './worker-port.js'

// `openVault(url, { storage: 'http' })` in a browser (src/index.ts): a module of its own, loaded
// only by a page that opens such a vault (docs/cold-start.md, "Main-thread bytes").

/** Where sql.js's wasm is for an engine on the page's thread. */
function pageSqlJs(options: OpenVaultOptions): { wasmUrl: string } {
  if (options.wasmUrl !== undefined) return { wasmUrl: String(options.wasmUrl) }
  if (options.assetBase !== undefined) return { wasmUrl: new URL('sql-wasm.wasm', new URL(String(options.assetBase).replace(/\/?$/, '/'), globalThis.location?.href)).href }
  return { wasmUrl: new URL('sql-wasm.wasm', import.meta.url).href }
}

/**
 * A vault read from a static host (`storage: 'http'`, docs/http-storage.md): `url` is its folder's
 * URL, relative to the page or absolute (another origin must allow it with CORS). Read-only, so no
 * tab elects a leader and nothing is locked: each open has its own engine (in its worker, or on
 * this thread with `worker: false`) and its own cache.
 */
export async function openHttpInBrowser(url: string, options: OpenVaultOptions): Promise<Vault> {
  checkHttpOptions(options)
  const location = httpVaultLocation(url, globalThis.location?.href)
  options.signal?.throwIfAborted()
  let port: EnginePort
  try {
    // Stopped by `signal` wherever it waits (a slow host): src/client/abortable-open.ts.
    port = await stoppableOpen(options.signal, httpPort(location, options), (p) => p.close())
  } catch (err) {
    throw httpNotFound(location, err)
  }
  port = handlePort(port, { durability: options.durability ?? 'strict', readOnly: true }, location.name)
  return new Vault(loggingPort(port, options.logger, location.name, { portCalls, methodKind }), location.name)
}

/** The engine's port of a vault over HTTP: in its own worker, or on this thread with `worker: false`. */
async function httpPort(location: ReturnType<typeof httpVaultLocation>, options: OpenVaultOptions): Promise<EnginePort> {
  const http = { root: location.root, timeoutMs: options.http?.timeoutMs, cacheBytes: options.http?.cacheBytes }
  const settings = { ...vaultSettings(options), readOnly: true, create: false }
  if (options.worker === false) {
    // Loaded only here, as for any engine on the page's thread.
    const [{ openVaultEngine }, { HttpAdapter }, { inProcessPort }] = await Promise.all([import('../domains/registry.js'), import('../storage/http-adapter.js'), import('./in-process-port.js')])
    const adapter = new HttpAdapter(http.root, { timeoutMs: http.timeoutMs, cacheBytes: http.cacheBytes, cacheable: isBlobPath })
    const engine = await openVaultEngine({ name: location.name, storage: adapter, ownsStorage: true, ...settings, sqlJs: pageSqlJs(options) }).catch(async (err: unknown) => {
      await adapter.close()
      throw err
    })
    return inProcessPort(engine)
  }
  const opened = await openWorkerPort(location.name, { worker: options.worker, assetBase: options.assetBase, wasmUrl: options.wasmUrl }, { storage: 'http', http, ...settings })
  return opened.port
}

