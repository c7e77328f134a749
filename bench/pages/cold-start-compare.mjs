// Before/after for cold start: builds of the key-value-only page (dist-test/kv-only, as
// scripts/build.mjs makes it) compared side by side, samples interleaved so that a slow moment of
// this shared machine hits every build alike, a fresh profile per sample. Prints, per build, the
// median of openVault → first get and of every step the page and worker marks show
// (docs/cold-start.md), with the load average before and after. The order within each round turns
// (a, b; then b, a), so that no build is always the one sampled first.
//
// Usage: node bench/pages/cold-start-compare.mjs [--samples 9] [--port 5921] [--json out.json] name=dir [name=dir…]
//   each dir is a copy of dist-test/kv-only under this checkout (it is served from here), e.g.
//   `cp -r dist-test/kv-only scratch/before` before a change, then `before=scratch/before after=dist-test/kv-only`.
import { spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { relative, resolve } from 'node:path'
import { chromium } from '@playwright/test'
import { median } from '../lib/stats.mjs'
import { sample, stepMedians } from './cold-start-bench.mjs'

const root = resolve(import.meta.dirname, '../..')
const args = process.argv.slice(2)
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback)
const samples = Number(opt('--samples', 9))
const port = Number(opt('--port', process.env.LABVAULT_BENCH_PORT ?? 4180))
const builds = args.filter((a) => a.includes('=') && !a.startsWith('--')).map((a) => {
  const [name, dir] = a.split('=')
  const path = relative(root, resolve(dir))
  if (!existsSync(resolve(root, path, 'index.html'))) throw new Error(`${dir}: no index.html (a copy of dist-test/kv-only under this checkout)`)
  return { name, url: `http://127.0.0.1:${port}/${path}/index.html?cold=cold-start`, assets: resolve(root, path, 'assets') }
})
if (builds.length === 0) throw new Error('name which builds to compare: before=scratch/before after=dist-test/kv-only')

const server = spawn(process.execPath, [resolve(root, 'scripts/serve.mjs'), '--port', String(port), '--root', root], { stdio: 'ignore' })
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
}
try {
  for (let i = 0; i < 50; i++) {
    if (await fetch(`http://127.0.0.1:${port}/package.json`).then((r) => r.ok, () => false)) break
    await new Promise((r) => setTimeout(r, 100))
  }
  const load = [loadavg()[0]]
  const runs = Object.fromEntries(builds.map((b) => [b.name, []]))
  for (let i = 0; i < samples; i++) {
    // The build sampled second in a pair ran slower, whichever it was (the previous profile's
    // browser is still shutting down): the order turns every pair so each build is first as often.
    const order = builds.map((_, k) => builds[(k + i) % builds.length])
    for (const b of order) runs[b.name].push(await sample(chromium, launchOptions, b.url, b.assets))
    console.log(`sample ${i + 1}/${samples}: ${builds.map((b) => `${b.name} ${runs[b.name][i].openToGet.toFixed(1)} ms`).join(', ')} (load ${loadavg()[0].toFixed(1)})`)
  }
  load.push(loadavg()[0])
  console.log(`\nload average ${load.map((l) => l.toFixed(1)).join(' → ')}; ${samples} fresh profiles each, interleaved; median ms after openVault`)
  const steps = Object.fromEntries(builds.map((b) => [b.name, stepMedians(runs[b.name])]))
  const names = [...new Set(builds.flatMap((b) => Object.keys(steps[b.name])))]
  console.log(`${'step'.padEnd(34)}${builds.map((b) => b.name.padStart(12)).join('')}`)
  const ms = (v) => (v === undefined ? '—' : (Math.round(v * 10) / 10).toFixed(1))
  for (const n of names) console.log(`${n.padEnd(34)}${builds.map((b) => ms(steps[b.name][n]).padStart(12)).join('')}`)
  if (args.includes('--json')) writeFileSync(resolve(opt('--json')), JSON.stringify(runs, null, 1))
  console.log(`${'openVault → first get'.padEnd(34)}${builds.map((b) => median(runs[b.name].map((r) => r.openToGet)).toFixed(1).padStart(12)).join('')}`)
} finally {
  server.kill()
}
