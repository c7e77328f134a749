// A read-only vault over HTTP (issue 13 part 5, docs/http-storage.md): the built package on Node,
// a vault folder served by scripts/serve.mjs (which honours Range) on LABVAULT_BENCH_PORT. Beside
// it, what a static site does without labvault: fetch one whole file and read from it.
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { openVault } from '../../dist/node/node.js'
import { median, timeRuns } from '../lib/stats.mjs'

const N = 4_000_000 // f64 values: a 32 MB column
const RUNS = 5

export default async function runNodeHttpBench() {
  const root = mkdtempSync(join(tmpdir(), 'labvault-bench-http-'))
  const port = Number(process.env.LABVAULT_BENCH_PORT ?? 4180)
  const server = spawn(process.execPath, [resolve(import.meta.dirname, '../../scripts/serve.mjs'), '--port', String(port), '--root', root], { stdio: 'ignore' })
  // Bytes received, counted from the answers' Content-Length (every static answer has one).
  let received = 0
  const realFetch = globalThis.fetch
  globalThis.fetch = async (...args) => {
    const res = await realFetch(...args)
    if ((args[1]?.method ?? 'GET') !== 'HEAD') received += Number(res.headers.get('content-length') ?? 0)
    return res
  }
  try {
    const values = new Float64Array(N)
    for (let i = 0; i < N; i++) values[i] = Math.sin(i / 1000)
    const w = await openVault('lab', { storage: 'fs', path: root })
    await w.kv().set('config', { model: 'pls', lr: 3e-4 })
    await (await w.columns.create('loss', 'f64')).extend(values)
    await w.close()
    // The alternative: the same numbers as one raw binary file (the leanest thing a site can ship).
    writeFileSync(join(root, 'loss.f64'), new Uint8Array(values.buffer))
    const folderBytes = du(join(root, 'lab'))
    await waitForServer(`http://127.0.0.1:${port}/loss.f64`)
    const url = `http://127.0.0.1:${port}/lab/`
    const mid = N / 2

    const results = {}
    results['fs (read-only): open + first get'] = await timeRuns(async () => {
      const v = await openVault('lab', { storage: 'fs', path: root, readOnly: true })
      await v.kv().get('config')
      await v.close()
    }, { runs: RUNS })
    const openBytes = []
    results['http: open + first get'] = await timeRuns(async () => {
      received = 0
      const v = await openVault(url, { storage: 'http' })
      await v.kv().get('config')
      openBytes.push(received)
      await v.close()
    }, { runs: RUNS })
    const sliceBytes = []
    results['http: open + 3 values from the middle of a 32 MB column'] = await timeRuns(async () => {
      received = 0
      const v = await openVault(url, { storage: 'http' })
      await (await v.columns.get('loss')).slice(mid, mid + 3)
      sliceBytes.push(received)
      await v.close()
    }, { runs: RUNS })
    const wholeBytes = []
    results['plain fetch: the whole 32 MB file, then 3 values'] = await timeRuns(async () => {
      received = 0
      const buf = await (await fetch(`http://127.0.0.1:${port}/loss.f64`, { cache: 'no-store' })).arrayBuffer()
      new Float64Array(buf, mid * 8, 3).slice()
      wholeBytes.push(received)
    }, { runs: RUNS })
    const m = (k) => results[k].median
    const slice = m('http: open + 3 values from the middle of a 32 MB column')
    const whole = m('plain fetch: the whole 32 MB file, then 3 values')
    const checks = [
      info('http open + first get / fs open + first get (medians, localhost)', m('http: open + first get') / m('fs (read-only): open + first get')),
      info('bytes downloaded by opening (MiB) / vault folder (MiB)', `${mib(median(openBytes))} / ${mib(folderBytes)}`),
      info('bytes downloaded for 3 column values after opening (MiB) / the whole raw file (MiB)', `${mib(median(sliceBytes) - median(openBytes))} / ${mib(median(wholeBytes))}`),
      { figure: 'open + 3 values over http / fetch of the whole raw file (medians, localhost)', value: slice / whole, bar: '< 1', pass: slice < whole },
    ]
    return { environment: 'node', results, checks }
  } finally {
    globalThis.fetch = realFetch
    server.kill()
    rmSync(root, { recursive: true, force: true })
  }
}

function info(figure, value) {
  return { figure, value, bar: '(reported)', pass: true }
}

const mib = (bytes) => (bytes / 2 ** 20).toFixed(2)

function du(dir) {
  let total = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) total += e.isDirectory() ? du(join(dir, e.name)) : statSync(join(dir, e.name)).size
  return total
}

async function waitForServer(url) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url, { method: 'HEAD' })).ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`server did not start: ${url}`)
}
