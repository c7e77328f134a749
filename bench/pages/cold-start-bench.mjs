// Cold start, as a new visitor meets it: a page built by Vite in production mode, loaded in a fresh
// browser profile kept on disk (launchPersistentContext, a new profile directory per sample), times
// `openVault` → the first `get` resolved; beside it, idb-keyval's first `get` in the same conditions.
// Also what the page's main thread downloads: the gzip size of every script the page itself loaded
// before the first `get` resolved (the engine's worker script and what it loads are not counted:
// they run off the main thread). Pages: test/browser/kv-only-app (built by scripts/build.mjs into
// dist-test/kv-only) and bench/pages/cold-idb-keyval (built here). Beside them, the browser's own
// floor (bench/pages/cold-floor, built here): a do-nothing worker's first message, a Web Lock and
// OPFS's root, asked at once in the same conditions, which labvault's open cannot beat. And a
// returning visitor's open (reported): the data exists, each sample a new page of a browser in use
// (the server caches the bundler's hashed files as a static host does: scripts/bench.mjs).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'vite'
import { median } from '../lib/stats.mjs'

const SAMPLES = 7

/**
 * Load `url` and wait for its cold-start result without touching the page meanwhile: the page logs
 * `cold` and its result, which reach us through the DevTools protocol's console
 * events. Playwright's `waitForFunction` would inject its own script into the page and poll it on
 * every animation frame while the open runs: traced in a fresh profile, that script took 50–65 ms of
 * the page's main thread in the middle of the open, holding back the worker's messages
 * (docs/cold-start.md, "Twenty-fifth round"). A user's page runs no such script.
 */
async function openAndWait(page, url) {
  const logged = page.waitForEvent('console', { predicate: (m) => m.text().startsWith('cold '), timeout: 60_000 })
  logged.catch(() => {})
  await page.goto(url)
  return (await logged).args()[1].jsonValue()
}

/** One sample (exported for cold-start-compare.mjs): a fresh profile, one page load, the page's own timing and the scripts it fetched. */
export async function sample(chromium, launchOptions, url, assetsDir) {
  const profile = mkdtempSync(join(tmpdir(), 'labvault-cold-'))
  const context = await chromium.launchPersistentContext(profile, launchOptions)
  try {
    const page = context.pages()[0] ?? (await context.newPage())
    const result = await openAndWait(page, url)
    if (result.error) throw new Error(`cold start failed: ${result.error}`)
    // Scripts this page's thread loaded (a worker's fetches are in the worker's own timeline).
    const scripts = await page.evaluate(() =>
      performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.js')),
    )
    // The worker's script and its chunks (`vault.worker-*.js`, `vault-worker-*.js`) show in the page's timeline too.
    const files = scripts.map((n) => basename(new URL(n).pathname)).filter((f) => !/vault[.-]worker/.test(f))
    const gzipBytes = files.reduce((sum, f) => sum + gzipSync(readFileSync(resolve(assetsDir, f))).length, 0)
    return { ...result, gzipBytes, files, steps: await stepTimes(page, result) }
  } finally {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  }
}

/** The `labvault:<step>` marks of a timeline (src/protocol/start-marks.ts) and its script fetches, in absolute ms. */
function timeline() {
  const at = (t) => performance.timeOrigin + t
  const marks = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('labvault:')).map((m) => [m.name.slice(9), at(m.startTime)])
  const scripts = performance.getEntriesByType('resource').filter((e) => /\.(js|wasm)$/.test(e.name)).map((e) => [e.name.split('/').pop(), at(e.startTime), at(e.responseEnd)])
  return { origin: performance.timeOrigin, marks, scripts }
}

/**
 * Where the time of one open went: each mark of the page and of the engine's worker, in ms after
 * the page's `labvault:open`, and the worker's own start (its time origin) and script fetches.
 * Absent (empty) for a build without marks.
 */
export async function stepTimes(page, result) {
  const own = await page.evaluate(timeline)
  const open = own.marks.find(([n]) => n === 'open')?.[1]
  if (open === undefined) return {}
  const steps = {}
  const put = (name, t) => (steps[name] ??= Math.round((t - open) * 10) / 10)
  for (const [n, t] of own.marks) put(`page: ${n}`, t)
  // The worker's first script, fetched for the worker (it shows in the page's timeline).
  const entry = own.scripts.find(([f]) => /^vault\.worker/.test(f))
  if (entry) put('worker: first script fetched', entry[2])
  put('page: first get', open + result.openToGet)
  for (const worker of page.workers()) {
    const w = await worker.evaluate(timeline).catch(() => undefined)
    if (!w) continue
    put('worker: started', w.origin)
    for (const [n, t] of w.marks) put(`worker: ${n}`, t)
    // The worker's script fetches: the last script fetched before its first mark, and the wasm.
    const first = w.marks[0]?.[1] ?? Infinity
    const before = w.scripts.filter(([f, , end]) => f.endsWith('.js') && end <= first)
    if (before.length > 0) put('worker: scripts fetched', Math.max(...before.map(([, , end]) => end)))
    const wasm = w.scripts.find(([f]) => f.endsWith('.wasm'))
    if (wasm) put('worker: wasm fetched', wasm[2])
  }
  return steps
}

/** Median of each step over the samples that have it, in the order of the medians. */
export function stepMedians(samples) {
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.steps ?? {})))]
  const out = names.map((n) => [n, median(samples.map((s) => s.steps?.[n]).filter((v) => v !== undefined))])
  return Object.fromEntries(out.sort((a, b) => a[1] - b[1]))
}

/**
 * A returning visitor: one browser with its profile in use, the data there already (each page's
 * first visit, untimed), then `samples` new pages per library, alternating, each timed from its
 * first call to its first `get` (labvault: `openVault` of the existing vault, a new worker per page).
 */
async function inUseSamples(chromium, launchOptions, pages, samples) {
  const profile = mkdtempSync(join(tmpdir(), 'labvault-in-use-'))
  const context = await chromium.launchPersistentContext(profile, launchOptions)
  const visit = async (url) => {
    const page = await context.newPage()
    try {
      const result = await openAndWait(page, url)
      if (result.error) throw new Error(`open in a browser in use failed: ${result.error}`)
      return { ...result, steps: await stepTimes(page, result) }
    } finally {
      await page.close()
    }
  }
  try {
    const names = Object.keys(pages)
    for (const name of names) await visit(pages[name])
    const runs = Object.fromEntries(names.map((name) => [name, []]))
    for (let i = 0; i < samples; i++) for (const name of i % 2 ? names : [...names].reverse()) runs[name].push(await visit(pages[name]))
    return runs
  } finally {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  }
}

export async function runColdStartBench({ chromium, launchOptions, base, root, log = () => {} }) {
  // The comparison pages, built by Vite in production mode as labvault's page is (idb-keyval resolved
  // from bench/, where the comparison libraries are installed).
  const idbKeyval = [{ find: /^idb-keyval$/, replacement: resolve(root, 'bench/node_modules/idb-keyval/dist/index.js') }]
  for (const [page, alias] of [['cold-idb-keyval', idbKeyval], ['cold-floor', []]]) {
    await build({
      root: resolve(root, 'bench/pages', page),
      configFile: false,
      logLevel: 'warn',
      base: './',
      build: { outDir: resolve(root, 'dist-bench', page), emptyOutDir: true, target: 'es2022', minify: true },
      resolve: { alias },
    })
  }
  const pages = {
    labvault: { url: `${base}/dist-test/kv-only/index.html?cold=cold-start`, assets: resolve(root, 'dist-test/kv-only/assets') },
    'idb-keyval': { url: `${base}/dist-bench/cold-idb-keyval/index.html`, assets: resolve(root, 'dist-bench/cold-idb-keyval/assets') },
    floor: { url: `${base}/dist-bench/cold-floor/index.html`, assets: resolve(root, 'dist-bench/cold-floor/assets') },
  }
  const runs = { labvault: [], 'idb-keyval': [], floor: [] }
  // Interleaved, so that a slow moment of the machine hits both alike.
  for (let i = 0; i < SAMPLES; i++) {
    for (const [name, p] of Object.entries(pages)) runs[name].push(await sample(chromium, launchOptions, p.url, p.assets))
    log(`cold start ${i + 1}/${SAMPLES}: labvault ${runs.labvault[i].openToGet.toFixed(1)} ms (set ${runs.labvault[i].openToSet.toFixed(1)}), idb-keyval ${runs['idb-keyval'][i].openToGet.toFixed(1)} ms (set ${runs['idb-keyval'][i].openToSet.toFixed(1)}), floor ${runs.floor[i].openToGet.toFixed(1)} ms`)
  }
  const results = {}
  const checks = []
  const floor = runs.floor
  delete runs.floor
  for (const [name, r] of Object.entries(runs)) {
    const open = r.map((x) => x.openToGet)
    const page = r.map((x) => x.sincePageStart)
    results[`${name}: first call → first get (ms)`] = { median: median(open), runs: open.map((t) => Math.round(t * 10) / 10) }
    results[`${name}: page start → first get (ms)`] = { median: median(page), runs: page.map((t) => Math.round(t * 10) / 10) }
    const set = r.map((x) => x.openToSet)
    results[`${name}: first call → a first set after it, durable (ms)`] = { median: median(set), runs: set.map((t) => Math.round(t * 10) / 10) }
    results[`${name}: main-thread JS before first get (KB gzip)`] = { median: median(r.map((x) => x.gzipBytes / 1024)), runs: [...new Set(r.map((x) => x.files.join(' ')))] }
  }
  // The browser's floor: when each of the three answered (asked at once), and all three.
  for (const [what, field] of [['a do-nothing worker\'s first message', 'workerMs'], ['a Web Lock granted', 'lockMs'], ['OPFS\'s root folder', 'opfsMs'], ['all three, asked at once', 'openToGet']]) {
    const times = floor.map((x) => x[field])
    results[`browser floor: ${what} (ms after the first call)`] = { median: median(times), runs: times.map((t) => Math.round(t * 10) / 10) }
  }
  // A returning visitor: the data exists, the browser runs (not a goal of issue 13: reported).
  const inUse = await inUseSamples(chromium, launchOptions, { labvault: `${pages.labvault.url.replace(/cold=[^&]*/, 'cold=in-use')}`, 'idb-keyval': pages['idb-keyval'].url }, 2 * SAMPLES)
  for (const [name, visits] of Object.entries(inUse)) {
    const times = visits.map((v) => v.openToGet)
    results[`${name}: existing data, a new page of a browser in use: first call → first get (ms)`] = { median: median(times), runs: times.map((t) => Math.round(t * 10) / 10) }
  }
  for (const [step, ms] of Object.entries(stepMedians(inUse.labvault))) {
    results[`labvault returning-visitor step ${step} (ms after openVault)`] = { median: ms, runs: inUse.labvault.map((r) => r.steps?.[step] ?? null) }
  }
  // Where labvault's time goes: median ms after openVault was called, per step (page and worker marks).
  for (const [step, ms] of Object.entries(stepMedians(runs.labvault))) {
    results[`labvault step ${step} (ms after openVault)`] = { median: ms, runs: runs.labvault.map((r) => r.steps?.[step] ?? null) }
  }
  const lv = results['labvault: first call → first get (ms)'].median
  const lvBytes = results['labvault: main-thread JS before first get (KB gzip)'].median
  checks.push({ figure: 'labvault openVault → first get, fresh profile (ms)', value: lv, bar: '≤ 100', pass: lv <= 100 })
  checks.push({ figure: 'labvault main-thread JS of a KV-only page (KB gzip)', value: lvBytes, bar: '≤ 20', pass: lvBytes <= 20 })
  checks.push({ figure: 'idb-keyval first get, fresh profile (ms)', value: results['idb-keyval: first call → first get (ms)'].median, bar: '(reported)' })
  checks.push({ figure: 'labvault openVault of an existing vault → first get, new page of a browser in use (ms)', value: results['labvault: existing data, a new page of a browser in use: first call → first get (ms)'].median, bar: '(reported)' })
  checks.push({ figure: 'idb-keyval first get of existing data, new page of a browser in use (ms)', value: results['idb-keyval: existing data, a new page of a browser in use: first call → first get (ms)'].median, bar: '(reported)' })
  checks.push({ figure: 'browser floor: a worker, a Web Lock and OPFS, fresh profile (ms)', value: results['browser floor: all three, asked at once (ms after the first call)'].median, bar: '(reported)' })
  checks.push({ figure: 'labvault openVault → a first set after the get, durable (ms)', value: results['labvault: first call → a first set after it, durable (ms)'].median, bar: '(reported)' })
  checks.push({ figure: 'idb-keyval first set after its get (ms)', value: results['idb-keyval: first call → a first set after it, durable (ms)'].median, bar: '(reported)' })
  checks.push({ figure: 'idb-keyval main-thread JS (KB gzip)', value: results['idb-keyval: main-thread JS before first get (KB gzip)'].median, bar: '(reported)' })
  return { environment: 'chromium', results, checks }
}
