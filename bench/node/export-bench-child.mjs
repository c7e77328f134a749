// One measured operation of export-bench.mjs in a fresh process, so that its peak memory is its own
// (RSS never shrinks back within a process). Prints { ms, rss, arrayBuffers, maxRss } as JSON:
// peaks in MiB above the level after start-up (sampled every 10 ms), and the process's maxRSS.
import { createReadStream, createWriteStream, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { once } from 'node:events'
import { Unzip, UnzipInflate, Zip, ZipDeflate } from 'fflate'
import { exportVault, importVault } from '../../dist/node/node.js'

const MB = 1024 * 1024
const [op, a, b, c] = process.argv.slice(2)

async function toFile(chunks, file) {
  const out = createWriteStream(file)
  for await (const chunk of chunks) if (!out.write(chunk)) await once(out, 'drain')
  out.end()
  await once(out, 'finish')
}

/** A plain fflate zip of a folder, file by file (each read whole), deflate level 1, streamed to a file. */
async function plainZip(dir, file) {
  const out = createWriteStream(file)
  const pending = []
  const zip = new Zip((err, data) => {
    if (err) throw err
    pending.push(data)
  })
  for (const f of readdirSync(dir, { recursive: true }).map(String)) {
    const p = join(dir, f)
    if (!statSync(p).isFile()) continue
    const entry = new ZipDeflate(f, { level: 1 })
    zip.add(entry)
    entry.push(readFileSync(p), true)
    for (const d of pending.splice(0)) if (!out.write(d)) await once(out, 'drain')
  }
  zip.end()
  for (const d of pending.splice(0)) out.write(d)
  out.end()
  await once(out, 'finish')
}

/** A plain fflate unzip of a file into a folder (each entry collected whole, then written). */
async function plainUnzip(file, dir) {
  const done = []
  const unzip = new Unzip((f) => {
    const parts = []
    f.ondata = (err, data, final) => {
      if (err) throw err
      parts.push(data)
      if (final) done.push([f.name, parts])
    }
    f.start()
  })
  unzip.register(UnzipInflate)
  for await (const chunk of createReadStream(file, { highWaterMark: MB })) {
    unzip.push(chunk)
    for (const [name, parts] of done.splice(0)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true })
      writeFileSync(join(dir, name), Buffer.concat(parts))
    }
  }
  unzip.push(new Uint8Array(0), true)
}

const ops = {
  export: () => exportVault('big', { path: a, as: 'stream' }).then((s) => toFile(s, b)),
  exportBytes: async () => void (await exportVault('big', { path: a })),
  import: () => importVault(c, createReadStream(b, { highWaterMark: MB }), { path: a }),
  zip: () => plainZip(join(a, 'big'), b),
  unzip: () => plainUnzip(b, c),
}

const start = process.memoryUsage()
let rss = 0
let ab = 0
const sample = () => {
  const m = process.memoryUsage()
  rss = Math.max(rss, m.rss - start.rss)
  ab = Math.max(ab, m.arrayBuffers - start.arrayBuffers)
}
const timer = setInterval(sample, 10)
const t = performance.now()
await ops[op]()
const ms = performance.now() - t
clearInterval(timer)
sample()
process.stdout.write(JSON.stringify({ ms, rss: rss / MB, arrayBuffers: ab / MB, maxRss: process.resourceUsage().maxRSS / 1024 }) + '\n')
