// exportVault / importVault (issue 13, part 4): throughput (MB/s of vault files) and peak memory of
// a ~200 MB vault on fs storage, streamed to and from a file, beside a plain fflate zip / unzip of
// the same folder (what a user would write by hand: no snapshot, no checks). Memory is sampled
// every 10 ms (process.memoryUsage rss and arrayBuffers) in a fresh process per operation
// (export-bench-child.mjs), reported as the peak above its level after start-up.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openVault } from '../../dist/node/node.js'
import { median, rng } from '../lib/stats.mjs'

const MB = 1024 * 1024
const RUNS = 3

/** A vault of ~200 MB: 44 float32 values of 4 MiB in kv (blobs), a 4M-element f64 column, item lists. */
async function makeVault(path) {
  const r = rng(11)
  const v = await openVault('big', { path })
  for (let i = 0; i < 44; i++) {
    const values = Float32Array.from({ length: MB }, () => r() * 100)
    await v.kv().set(`weights-${i}`, new Uint8Array(values.buffer))
  }
  const col = await v.columns.create('loss', 'f64')
  for (let i = 0; i < 4; i++) await col.extend(Float64Array.from({ length: MB }, () => r()))
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(Array.from({ length: 20_000 }, (_, i) => `document ${i} about run ${i % 97}`))
  await v.close()
}

function folderBytes(dir) {
  let n = 0
  for (const f of readdirSync(dir, { recursive: true })) {
    const s = statSync(join(dir, String(f)))
    if (s.isFile()) n += s.size
  }
  return n
}

/** One operation in a fresh process (export-bench-child.mjs): { ms, rss, arrayBuffers, maxRss }. */
function measured(...args) {
  const child = join(import.meta.dirname, 'export-bench-child.mjs')
  return JSON.parse(execFileSync(process.execPath, [child, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim().split('\n').at(-1))
}

export default async function runNodeExportBench() {
  const root = mkdtempSync(join(tmpdir(), 'labvault-export-bench-'))
  try {
    const path = join(root, 'vaults')
    await makeVault(path)
    const bytes = folderBytes(join(path, 'big'))
    const archive = join(root, 'big.zip')
    const runs = { export: [], exportBytes: [], import: [], zip: [], unzip: [] }
    for (let i = 0; i < RUNS; i++) {
      runs.export.push(measured('export', path, archive))
      runs.exportBytes.push(measured('exportBytes', path))
      const name = `copy-${i}`
      runs.import.push(measured('import', path, archive, name))
      runs.zip.push(measured('zip', path, join(root, 'plain.zip')))
      runs.unzip.push(measured('unzip', path, join(root, 'plain.zip'), join(root, `plain-${i}`)))
      rmSync(join(path, name), { recursive: true, force: true })
      rmSync(join(root, `plain-${i}`), { recursive: true, force: true })
    }
    const archiveBytes = statSync(archive).size
    const results = {}
    const row = (label, list) => {
      const ms = list.map((x) => x.ms)
      results[label] = { median: median(ms), runs: ms.map((t) => Math.round(t)), sizeBytes: bytes }
    }
    row('exportVault → stream → file (level 1)', runs.export)
    row('exportVault → Uint8Array (level 1)', runs.exportBytes)
    row('importVault ← file stream', runs.import)
    row('plain fflate zip of the folder (level 1)', runs.zip)
    row('plain fflate unzip to a folder', runs.unzip)
    const mbps = (list) => bytes / MB / (median(list.map((x) => x.ms)) / 1000)
    const peak = (list, k) => Math.max(...list.map((x) => x[k]))
    const checks = [
      info('vault size (MiB of files)', bytes / MB),
      info('archive size (MiB)', archiveBytes / MB),
      info('export throughput, streamed (MB/s)', mbps(runs.export)),
      info('import throughput (MB/s)', mbps(runs.import)),
      info('plain fflate zip throughput (MB/s)', mbps(runs.zip)),
      info('plain fflate unzip throughput (MB/s)', mbps(runs.unzip)),
      // Never the vault whole: what stays is the database image (held by the open database anyway),
      // a few 1 MiB pieces and V8's heap growth, about what a plain zip of the folder peaks at.
      check('export peak extra RSS, streamed (MiB)', peak(runs.export, 'rss'), '< vault size / 2', peak(runs.export, 'rss') < bytes / MB / 2),
      info('export peak extra arrayBuffers, streamed (MiB)', peak(runs.export, 'arrayBuffers')),
      info('export peak extra RSS, to a Uint8Array (MiB)', peak(runs.exportBytes, 'rss')),
      check('import peak extra RSS (MiB)', peak(runs.import, 'rss'), '< vault size / 2', peak(runs.import, 'rss') < bytes / MB / 2),
      info('import peak extra arrayBuffers (MiB)', peak(runs.import, 'arrayBuffers')),
      info('plain zip peak extra RSS (MiB)', peak(runs.zip, 'rss')),
      info('plain unzip peak extra RSS (MiB)', peak(runs.unzip, 'rss')),
      info('export process maxRSS, streamed (MiB)', peak(runs.export, 'maxRss')),
      info('import process maxRSS (MiB)', peak(runs.import, 'maxRss')),
      info('export time / plain zip time', median(runs.export.map((x) => x.ms)) / median(runs.zip.map((x) => x.ms))),
      info('import time / plain unzip time', median(runs.import.map((x) => x.ms)) / median(runs.unzip.map((x) => x.ms))),
    ]
    return { environment: 'node', results, checks }
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

function check(figure, value, bar, pass) {
  return { figure, value, bar, pass }
}

function info(figure, value) {
  return { figure, value, bar: '(reported)', pass: true }
}

// `node bench/node/export-bench.mjs` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await runNodeExportBench(), null, 1))
