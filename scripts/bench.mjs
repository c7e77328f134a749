// `npm run bench`: every benchmark, Node and headless Chromium, side by side with the libraries
// people would use instead, in one run. Writes bench/results/<suite>-<environment>.json and
// bench/results/summary.md. Not part of `npm test` (timing on shared machines is noisy).
// Usage: npm run bench [-- --only kv,columns] [--skip-node] [--skip-browser] [--skip-engines] [--engines-only] [--engine webkit]
// (kv also runs in Firefox ESR and WebKitGTK when they are installed; --skip-engines leaves them out,
// --engine firefox or --engine webkit runs only that one.)
import { execSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'vite'

const root = resolve(import.meta.dirname, '..')
const args = process.argv.slice(2)
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : undefined
const wanted = (name) => !only || only.includes(name)
// --engine firefox|webkit: run the other engines' kv figures in that one only.
const onlyEngine = args.includes('--engine') ? args[args.indexOf('--engine') + 1] : undefined

const benchDeps = Object.keys(JSON.parse(readFileSync(resolve(root, 'bench/package.json'), 'utf8')).dependencies)
if (benchDeps.some((name) => !existsSync(resolve(root, 'bench/node_modules', name, 'package.json')))) {
  console.log('bench: installing the comparison libraries (bench/package.json)…')
  execSync('npm install --no-audit --no-fund', { cwd: resolve(root, 'bench'), stdio: 'inherit' })
}
if (!args.includes('--no-build')) execSync('npm run build', { cwd: root, stdio: 'inherit' })

const outDir = resolve(root, 'bench/results')
mkdirSync(outDir, { recursive: true })
const all = []

function record(suite, report) {
  writeFileSync(resolve(outDir, `${suite}-${report.environment}.json`), JSON.stringify({ suite, date: new Date().toISOString(), ...report }, null, 2))
  all.push({ suite, ...report })
  console.log(table(suite, report))
}

if (!args.includes('--skip-node')) {
  for (const file of readdirSync(resolve(root, 'bench/node')).filter((f) => f.endsWith('-bench.mjs')).sort()) {
    const suite = file.replace(/-bench\.mjs$/, '')
    if (!wanted(suite)) continue
    console.log(`bench: node ${suite}…`)
    const { default: run } = await import(pathToFileURL(resolve(root, 'bench/node', file)).href)
    record(suite, await run())
  }
}

if (!args.includes('--skip-browser')) {
  await build({ root: resolve(root, 'bench/browser'), configFile: false, logLevel: 'warn', base: './', build: { outDir: resolve(root, 'dist-bench'), emptyOutDir: true, target: 'es2022' } })
  // LABVAULT_BENCH_PORT: several checkouts may run benchmarks on one machine at once.
  const port = Number(process.env.LABVAULT_BENCH_PORT ?? 4180)
  // Served as a static host serves a bundler's output: the content-hashed files (`assets/*-<hash>.js`,
  // `.wasm`) cached and immutable, the rest not (only a returning visitor's pages find them cached:
  // every other sample is a fresh profile or a fresh browser context).
  const server = spawn(process.execPath, [resolve(root, 'scripts/serve.mjs'), '--port', String(port), '--root', root, '--cache-assets'], { stdio: 'ignore' })
  try {
    await waitForServer(`http://127.0.0.1:${port}/package.json`)
    // --engines-only: only the Firefox and WebKit runs (kv).
    if (!args.includes('--engines-only')) {
      const { chromium } = await import('@playwright/test')
      const executablePath = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined)
      // A persistent profile: an incognito-like context gets a small storage quota (the 200 MB vault
      // of the kv suite hits it), while users' browsers have a profile on disk.
      const profile = mkdtempSync(join(tmpdir(), 'labvault-bench-profile-'))
      const launchOptions = {
        executablePath,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
      }
      const launch = (dir) => chromium.launchPersistentContext(dir, launchOptions)
      const browser = await launch(profile)
      const page = await browser.newPage()
      page.on('console', (m) => console.log(`  [chromium] ${m.text()}`))
      await page.goto(`http://127.0.0.1:${port}/dist-bench/index.html`)
      await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 })
      const suites = await page.evaluate(() => Object.keys(window.benchSuites))
      for (const suite of suites.filter(wanted)) {
        console.log(`bench: chromium ${suite}…`)
        const report = await page.evaluate((name) => window.benchSuites[name]((msg) => console.log(msg)), suite)
        record(suite, report)
      }
      if (wanted('sharing')) {
        console.log('bench: chromium sharing (several pages)…')
        const { runTabSharingBench } = await import(pathToFileURL(resolve(root, 'bench/pages/tab-sharing-bench.mjs')).href)
        record('sharing', await runTabSharingBench(browser, `http://127.0.0.1:${port}`, (m) => console.log(`  ${m}`)))
      }
      await browser.close()
      rmSync(profile, { recursive: true, force: true })
      if (wanted('sql')) {
        console.log('bench: chromium sql, first query in a fresh page (a fresh profile per run)…')
        const { runSqlFirstQueryBench } = await import(pathToFileURL(resolve(root, 'bench/pages/sql-first-query-bench.mjs')).href)
        record('sql-first', await runSqlFirstQueryBench(launch, `http://127.0.0.1:${port}`, (m) => console.log(`  ${m}`)))
      }
      if (wanted('cold-start')) {
        console.log('bench: chromium cold-start (a fresh profile per sample)…')
        const { runColdStartBench } = await import(pathToFileURL(resolve(root, 'bench/pages/cold-start-bench.mjs')).href)
        record('cold-start', await runColdStartBench({ chromium, launchOptions, base: `http://127.0.0.1:${port}`, root, log: (m) => console.log(`  ${m}`) }))
      }
    }
    if (wanted('kv') && !args.includes('--skip-engines')) await benchOtherEngines(`http://127.0.0.1:${port}`)
  } finally {
    server.kill()
  }
}

/**
 * The key-value figures in Firefox ESR and WebKitGTK (issue 13 part 7), beside idb-keyval and Dexie in
 * the same page: bench/browser/kv-bench.js's runBrowserKvEngineBench, driven through
 * test/engines/browsers.mjs. Firefox gets a profile directory on disk for the run (as users' browsers
 * have); WebKit's MiniBrowser keeps its automation session's data where WebKitGTK puts it.
 */
async function benchOtherEngines(base) {
  const { engineAvailability, launchFirefox, launchWebKit } = await import(pathToFileURL(resolve(root, 'test/engines/browsers.mjs')).href)
  const available = engineAvailability()
  for (const [engine, launch] of [['firefox', launchFirefox], ['webkit', launchWebKit]]) {
    if (onlyEngine && engine !== onlyEngine) continue
    if (!available[engine].ok) {
      console.log(`bench: ${engine} kv not run: ${available[engine].why}`)
      continue
    }
    console.log(`bench: ${engine} kv…`)
    const profileDir = engine === 'firefox' ? mkdtempSync(join(tmpdir(), 'labvault-bench-firefox-')) : undefined
    // Firefox rounds performance.now() to 1 ms in a page that is not cross-origin isolated: single
    // calls of well under a millisecond would all read 0 or 1. The benchmark turns the rounding off.
    const prefs = { 'privacy.reduceTimerPrecision': false }
    const browser = await launch({ log: (m) => console.log(`  [${engine}] ${m}`), profileDir, prefs })
    try {
      const page = await browser.newPage()
      await page.goto(`${base}/dist-bench/index.html`)
      for (let i = 0; !(await page.run(() => window.benchReady === true)); i++) {
        if (i > 600) throw new Error(`${engine}: the bench page did not load`)
        await new Promise((r) => setTimeout(r, 100))
      }
      const report = await page.run((env) => window.benchEngineSuites.kv((m) => console.log(m), env), engine)
      // Results in the order the page measured them (WebDriver does not keep an object's key order).
      const { order, ...rest } = report
      record('kv', { ...rest, results: Object.fromEntries(order.map((k) => [k, report.results[k]])) })
    } finally {
      await browser.close()
      if (profileDir) rmSync(profileDir, { recursive: true, force: true })
    }
  }
}

// The summary covers every suite's latest results (a run with --only keeps the others' tables).
const latest = readdirSync(outDir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(resolve(outDir, f), 'utf8')))
const md = ['# labvault benchmarks', '', `Medians; machine: ${process.arch}, Node ${process.version}; each table says when it ran.`, '', ...latest.map((r) => table(`${r.suite}, ${r.date}`, r))].join('\n')
writeFileSync(resolve(outDir, 'summary.md'), md + '\n')
console.log(`bench: wrote ${outDir}/summary.md`)

function fmt(x) {
  return typeof x === 'number' ? (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : String(x)
}

function table(suite, report) {
  const lines = [`## ${suite} (${report.environment})`, '', '| measurement | median ms | p90 / runs |', '|---|---|---|']
  for (const [name, r] of Object.entries(report.results)) lines.push(`| ${name} | ${fmt(r.median)} | ${r.p90 !== undefined ? fmt(r.p90) : (r.runs ?? []).map(fmt).join(', ')}${r.sizeBytes ? ` (vault ${(r.sizeBytes / 2 ** 20).toFixed(0)} MiB)` : ''} |`)
  if (report.checks?.length) {
    lines.push('', '| figure | value | bar | met |', '|---|---|---|---|')
    for (const c of report.checks) lines.push(`| ${c.figure} | ${fmt(c.value)} | ${c.bar} | ${c.bar === '(reported)' ? '—' : c.pass ? 'yes' : '**no**'} |`)
  }
  return lines.join('\n') + '\n'
}

async function waitForServer(url) {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(url)).ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`server did not start: ${url}`)
}
