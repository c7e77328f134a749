// A page that uses only labvault's key-value store, built by Vite in production mode against the
// built package (scripts/build.mjs → dist-test/kv-only). Two things read it:
// - test/browser/cold-start.spec.ts: what its main thread loads (the module graph of the build),
//   and that the other domains still work when first used (their clients load then);
// - bench/pages/cold-start-bench.mjs: the time from `openVault` to the first `get` in a fresh profile.
// It opens a vault as soon as it loads when the URL says `?cold=<vault name>`.
import { configure, openVault, type Vault } from 'labvault'
import VaultWorker from 'labvault/worker?worker'
import wasmUrl from 'labvault/sql-wasm.wasm?url'

configure({ worker: () => new VaultWorker(), wasmUrl })

/**
 * What one cold start took, in ms: openVault → first get resolved, page start → the same moment,
 * and openVault → a first write (after that get) durable: a new vault answers its first reads
 * before its engine has opened, its writes wait for the engine (docs/cold-start.md).
 */
export interface ColdStart {
  openToGet: number
  sincePageStart: number
  openToSet: number
  value: unknown
}

async function coldStart(name: string): Promise<ColdStart> {
  const t0 = performance.now()
  const vault = await openVault(name)
  const value = await vault.kv().get('greeting')
  const t1 = performance.now()
  // Bytes, so that the write loads no value codec: the page's bytes stay those of the first get.
  await vault.kv().set('greeting', new Uint8Array(1))
  const t2 = performance.now()
  ;(window as unknown as { vault: Vault }).vault = vault
  return { openToGet: t1 - t0, sincePageStart: t1, openToSet: t2 - t0, value }
}

const app = { openVault, coldStart }
;(window as unknown as { app: typeof app }).app = app
const name = new URLSearchParams(location.search).get('cold')
// The result goes to the console, where the cold-start bench waits for it without touching the page
// (bench/pages/cold-start-bench.mjs, openAndWait).
if (name) coldStart(name).then((r) => console.log('cold', r), (e: Error) => console.log('cold', { error: String(e?.stack ?? e) }))
document.getElementById('status')!.textContent = 'ready'
;(window as unknown as { appReady: boolean }).appReady = true
