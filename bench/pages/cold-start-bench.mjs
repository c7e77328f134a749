// Cold start, as a new visitor meets it: a page built by Vite in production mode, loaded in a fresh
// browser profile kept on disk (launchPersistentContext, a new profile directory per sample), times
// `openVault` → the first `get` resolved; beside it, idb-keyval's first `get` in the same conditions.
// Also what the page's main thread downloads: the gzip size of every script the page itself loaded
// before the first `get` resolved (the engine's worker script and what it loads are not counted:
// they run off the main thread). Pages: test/browser/kv-only-app (built by scripts/build.mjs into
// dist-test/kv-only) and bench/pages/cold-idb-keyval (built here).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'vite'
import { median } from '../lib/stats.mjs'

const SAMPLES = 7

/** One sample: a fresh profile, one page load, the page's own timing and the scripts it fetched. */
async function sample(chromium, launchOptions, url, assetsDir) {
  const profile = mkdtempSync(join(tmpdir(), 'labvault-cold-'))
  const context = await chromium.launchPersistentContext(profile, launchOptions)
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    await page.goto(url)
    await page.waitForFunction(() => window.coldResult !== undefined, null, { timeout: 60_000 })
    const result = await page.evaluate(() => window.coldResult)
    if (result.error) throw new Error(`cold start failed: ${result.error}`)
    // Scripts this page's thread loaded (a worker's fetches are in the worker's own timeline).
    const scripts = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.js')),
    )
    // The worker's script and its chunks (`vault.worker-*.js`, `vault-worker-*.js`) show in the page's timeline too.
    const files = scripts.map((n) => basename(new URL(n).pathname)).filter((f) => !/vault[.-]worker/.test(f))
    const gzipBytes = files.reduce((sum, f) => sum + gzipSync(readFileSync(resolve(assetsDir, f))).length, 0)
    return { ...result, gzipBytes, files }
  } finally {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  }
}

export async function runColdStartBench({ chromium, launchOptions, base, root, log = () => {} }) {
  await build({
    root: resolve(root, 'bench/pages/cold-idb-keyval'),
    configFile: false,
    logLevel: 'warn',
    base: './',
    build: { outDir: resolve(root, 'dist-bench/cold-idb-keyval'), emptyOutDir: true, target: 'es2022', minify: true },
    resolve: { alias: [{ find: /^idb-keyval$/, replacement: resolve(root, 'bench/node_modules/idb-keyval/dist/index.js') }] },
  })
  const pages = {
    labvault: { url: `${base}/dist-test/kv-only/index.html?cold=cold-start`, assets: resolve(root, 'dist-test/kv-only/assets') },
    'idb-keyval': { url: `${base}/dist-bench/cold-idb-keyval/index.html`, assets: resolve(root, 'dist-bench/cold-idb-keyval/assets') },
  }
  const runs = { labvault: [], 'idb-keyval': [] }
  // Interleaved, so that a slow moment of the machine hits both alike.
  for (let i = 0; i < SAMPLES; i++) {
    for (const [name, p] of Object.entries(pages)) runs[name].push(await sample(chromium, launchOptions, p.url, p.assets))
    log(`cold start ${i + 1}/${SAMPLES}: labvault ${runs.labvault[i].openToGet.toFixed(1)} ms, idb-keyval ${runs['idb-keyval'][i].openToGet.toFixed(1)} ms`)
  }
  const results = {}
  const checks = []
  for (const [name, r] of Object.entries(runs)) {
    const open = r.map((x) => x.openToGet)
    const page = r.map((x) => x.sincePageStart)
    results[`${name}: first call → first get (ms)`] = { median: median(open), runs: open.map((t) => Math.round(t * 10) / 10) }
    results[`${name}: page start → first get (ms)`] = { median: median(page), runs: page.map((t) => Math.round(t * 10) / 10) }
    results[`${name}: main-thread JS before first get (KB gzip)`] = { median: median(r.map((x) => x.gzipBytes / 1024)), runs: [...new Set(r.map((x) => x.files.join(' ')))] }
  }
  const lv = results['labvault: first call → first get (ms)'].median
  const lvBytes = results['labvault: main-thread JS before first get (KB gzip)'].median
  checks.push({ figure: 'labvault openVault → first get, fresh profile (ms)', value: lv, bar: '≤ 100', pass: lv <= 100 })
  checks.push({ figure: 'labvault main-thread JS of a KV-only page (KB gzip)', value: lvBytes, bar: '≤ 20', pass: lvBytes <= 20 })
  checks.push({ figure: 'idb-keyval first get, fresh profile (ms)', value: results['idb-keyval: first call → first get (ms)'].median, bar: '(reported)' })
  checks.push({ figure: 'idb-keyval main-thread JS (KB gzip)', value: results['idb-keyval: main-thread JS before first get (KB gzip)'].median, bar: '(reported)' })
  return { environment: 'chromium', results, checks }
}
