// Browser item-list benchmark (issue 4), run in headless Chromium by scripts/bench.mjs: the built
// package (engine in its worker) on OPFS, side by side with Orama, a plain-JS loop (both on the
// page's main thread) and hnswlib-wasm (approximate HNSW, on the page). The measurements are in
// bench/lib/items-suite.mjs (shared with Node).
import { latencies } from '../lib/stats.mjs'
import { runItemsSuite } from '../lib/items-suite.mjs'

const labvault = await import(/* @vite-ignore */ new URL('/dist/browser/labvault.js', location.href).href)
const { openVault, deleteVault } = labvault
const assetBase = new URL('/dist/browser/', location.href).href

// hnswlib's defaults for M and efConstruction would be 16 / 200; efConstruction 100 keeps the
// build (its wasm is an unoptimised, assertion-enabled build) within a few minutes.
const M = 16
const EF_CONSTRUCTION = 100
const EF_SEARCH = [50, 200]

/** Build an HNSW index over `matrix` with hnswlib-wasm and time top-k queries at a few efSearch values. */
async function hnswlib({ matrix, dim, n, queries, k, log }) {
  // The package ships its wasm inlined as base64 (no fetch): it loads offline.
  const { loadHnswlib } = await import('hnswlib-wasm')
  const lib = await loadHnswlib()
  const index = new lib.HierarchicalNSW('cosine', dim, '')
  index.initIndex(n, M, EF_CONSTRUCTION, 100)
  const t = performance.now()
  const batch = 1000
  for (let b = 0; b < n; b += batch) {
    const items = []
    const labels = []
    for (let i = b; i < Math.min(n, b + batch); i++) {
      items.push(matrix.subarray(i * dim, (i + 1) * dim))
      labels.push(i)
    }
    index.addPoints(items, labels, false)
    if ((b / batch) % 20 === 19) log(`  hnswlib-wasm: ${b + batch} points in ${((performance.now() - t) / 1000).toFixed(0)} s`)
  }
  const buildMs = performance.now() - t
  const q = (i) => queries.subarray(i * dim, (i + 1) * dim)
  const count = queries.length / dim
  const searches = []
  for (const ef of EF_SEARCH) {
    index.setEfSearch(ef)
    const top = []
    for (let i = 0; i < count; i++) top.push(Array.from(index.searchKnn(q(i), k, undefined).neighbors)) // warm
    const latency = await latencies(count, (i) => index.searchKnn(q(i), k, undefined))
    searches.push({ ef, top, latency })
  }
  return { buildMs, searches, params: `M ${M}, efConstruction ${EF_CONSTRUCTION}, cosine` }
}

export function runBrowserItemsBench(log = () => {}) {
  return runItemsSuite({
    environment: 'chromium',
    open: (name) => openVault(name, { storage: 'opfs', assetBase }),
    remove: (name) => deleteVault(name, { storage: 'opfs', assetBase }),
    approximate: hnswlib,
    log,
  })
}
