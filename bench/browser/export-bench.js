// exportVault / importVault in Chromium (issue 13, part 4), run by scripts/bench.mjs: a ~200 MB vault
// on OPFS exported as a stream (the pieces counted, not kept) and imported back from a Blob of the
// archive, beside a plain fflate zip of the same folder read through OPFS's asynchronous API on the
// page. Memory: the page's JS heap (performance.memory, sampled every 10 ms), peak above the start;
// the engine's worker is not visible to it (the zip runs there), so this bounds what the page holds.
import { Zip, ZipDeflate } from 'fflate'
import { median, rng } from '../lib/stats.mjs'

const labvault = await import(/* @vite-ignore */ new URL('/dist/browser/labvault.js', location.href).href)
const { openVault, deleteVault, exportVault, importVault } = labvault

const MB = 1024 * 1024
const RUNS = 3

function heapSampler() {
  const start = performance.memory?.usedJSHeapSize ?? 0
  let peak = 0
  const timer = setInterval(() => (peak = Math.max(peak, (performance.memory?.usedJSHeapSize ?? 0) - start)), 10)
  return () => {
    clearInterval(timer)
    return peak / MB
  }
}

async function timed(fn) {
  const stop = heapSampler()
  const t = performance.now()
  await fn()
  return { ms: performance.now() - t, heap: stop() }
}

async function folderFiles(dir, prefix = '') {
  const out = []
  for await (const [name, handle] of dir.entries()) {
    if (handle.kind === 'directory') out.push(...(await folderFiles(handle, `${prefix}${name}/`)))
    else out.push([`${prefix}${name}`, handle])
  }
  return out
}

/** A plain fflate zip of the vault's OPFS folder, each file read whole, level 1; output bytes counted. */
async function plainZip(name) {
  const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('labvault')
  const files = await folderFiles(await root.getDirectoryHandle(name))
  let size = 0
  const zip = new Zip((err, data) => {
    if (err) throw err
    size += data.length
  })
  for (const [path, handle] of files) {
    const entry = new ZipDeflate(path, { level: 1 })
    zip.add(entry)
    entry.push(new Uint8Array(await (await handle.getFile()).arrayBuffer()), true)
  }
  zip.end()
  return size
}

export async function runBrowserExportBench(log = () => {}) {
  const r = rng(11)
  await deleteVault('export-bench', { storage: 'opfs' })
  const v = await openVault('export-bench', { storage: 'opfs', durability: 'relaxed' })
  for (let i = 0; i < 36; i++) await v.kv().set(`weights-${i}`, new Uint8Array(Float32Array.from({ length: MB }, () => r() * 100).buffer))
  const col = await v.columns.create('loss', 'f64')
  for (let i = 0; i < 4; i++) await col.extend(Float64Array.from({ length: MB }, () => r()))
  const bytes = (await v.info()).sizeBytes
  await v.close()
  log(`export bench: vault of ${(bytes / MB).toFixed(0)} MiB`)
  const runs = { export: [], import: [], zip: [] }
  let archive
  for (let i = 0; i < RUNS; i++) {
    runs.export.push(
      await timed(async () => {
        const parts = []
        const stream = await exportVault('export-bench', { storage: 'opfs', as: 'stream' })
        // Kept as a Blob (the browser may page it out), as a page offering a download would.
        for await (const piece of stream) parts.push(new Blob([piece]))
        archive = new Blob(parts)
      }),
    )
    await deleteVault('export-bench-copy', { storage: 'opfs' })
    runs.import.push(await timed(() => importVault('export-bench-copy', archive.stream(), { storage: 'opfs' })))
    runs.zip.push(await timed(() => plainZip('export-bench')))
  }
  await deleteVault('export-bench-copy', { storage: 'opfs' })
  await deleteVault('export-bench', { storage: 'opfs' })
  const results = {}
  const row = (label, list) => (results[label] = { median: median(list.map((x) => x.ms)), runs: list.map((x) => Math.round(x.ms)), sizeBytes: bytes })
  row('exportVault → stream (OPFS, level 1)', runs.export)
  row('importVault ← Blob stream (OPFS)', runs.import)
  row('plain fflate zip of the OPFS folder on the page (level 1)', runs.zip)
  const mbps = (list) => bytes / MB / (median(list.map((x) => x.ms)) / 1000)
  const peak = (list) => Math.max(...list.map((x) => x.heap))
  const info = (figure, value) => ({ figure, value, bar: '(reported)', pass: true })
  const checks = [
    info('vault size (MiB)', bytes / MB),
    info('archive size (MiB)', archive.size / MB),
    info('export throughput (MB/s)', mbps(runs.export)),
    info('import throughput (MB/s)', mbps(runs.import)),
    info('plain fflate zip throughput (MB/s)', mbps(runs.zip)),
    info('export peak page JS heap above start (MiB)', peak(runs.export)),
    info('import peak page JS heap above start (MiB)', peak(runs.import)),
    info('plain zip peak page JS heap above start (MiB)', peak(runs.zip)),
  ]
  return { environment: 'chromium', results, checks }
}
