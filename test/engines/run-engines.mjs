// `npm run test:engines` (part of `npm test`): the browser tests that are environment-neutral, run in
// Firefox ESR and WebKitGTK through the same pages Chromium's Playwright specs drive
// (test/browser/fixtures/*.html against the built package): the storage conformance suite, every
// domain conformance suite (OPFS and IndexedDB where the engine has them), the same suites from a
// follower tab (tab sharing), the 12-step smoke, and close-the-page durability rounds.
// What an engine cannot do is not run (and docs/engines.md says why): nothing is skipped-and-passed.
// The last line is `N passed, N failed`; the exit code is non-zero on any failure.
// Usage: node test/engines/run-engines.mjs [--engine firefox,webkit] [--only <substring>] [--list] [--serial]
// Build first (npm run build). LABVAULT_TEST_PORT: the static server's port (default 4173).
import { spawn } from 'node:child_process'
import { resolve } from 'node:path'
import { engineAvailability, launchFirefox, launchWebKit } from './browsers.mjs'
import { engineTests } from './engine-tests.mjs'

const root = resolve(import.meta.dirname, '../..')
const args = process.argv.slice(2)
const opt = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined)
const engines = (opt('--engine') ?? 'firefox,webkit').split(',')
const only = opt('--only')
const port = Number(process.env.LABVAULT_TEST_PORT ?? 4173)
const base = `http://127.0.0.1:${port}`
const log = (m) => console.log(`  ${m}`)

/** Serve the checkout, unless a server on that port already serves it (as Playwright's may). */
async function startServer() {
  if (await serves()) return undefined
  const server = spawn(process.execPath, [resolve(root, 'scripts/serve.mjs'), '--port', String(port), '--root', root], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    if (await serves()) return server
    await new Promise((r) => setTimeout(r, 100))
  }
  server.kill()
  throw new Error(`the static server did not start on ${base}`)
}

async function serves() {
  try {
    return (await fetch(`${base}/dist-test/smoke.html`)).ok
  } catch {
    return false
  }
}

const launchers = { firefox: launchFirefox, webkit: launchWebKit }
/** A test that runs longer fails, and its browser is replaced (a hung page would hold every later test). */
const TEST_TIMEOUT_MS = Number(process.env.LABVAULT_ENGINE_TEST_TIMEOUT_MS ?? 6 * 60_000)
const openBrowsers = new Set()
// Ctrl-C or a CI timeout: leave no browser, driver or Xvfb behind.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    Promise.allSettled([...openBrowsers].map((b) => b.close())).finally(() => process.exit(130))
  })
}

function timeLimit(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms / 1000} s`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
let passed = 0
let failed = 0
const started = Date.now()

/** Run one engine's tests in its own browser; returns when all ran. */
async function runEngine(engine) {
  if (!launchers[engine]) throw new Error(`unknown engine ${engine} (firefox, webkit)`)
  const available = engineAvailability()[engine]
  const tests = engineTests(engine).filter((t) => !only || t.name.includes(only))
  if (args.includes('--list')) {
    for (const t of tests) console.log(`${engine}: ${t.name}`)
    return
  }
  if (!available.ok) {
    // A machine without the engine fails loudly: CI installs it (.ci/run), so this is a setup error.
    console.log(`✘ ${engine}: cannot run: ${available.why}`)
    failed += tests.length
    return
  }
  console.log(`${engine}: ${tests.length} tests`)
  let browser
  const launch = async () => {
    browser = await launchers[engine]({ log: (m) => log(`[${engine}] ${m}`) })
    openBrowsers.add(browser)
  }
  const retire = async () => {
    openBrowsers.delete(browser)
    await browser?.close()
    browser = undefined
  }
  try {
    for (const t of tests) {
      const t0 = Date.now()
      try {
        if (!browser) await launch()
        const note = await timeLimit(t.run({ browser, base, log }), TEST_TIMEOUT_MS, t.name)
        passed++
        console.log(`✓ [${engine}] ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)${note ? `: ${note}` : ''}`)
      } catch (err) {
        failed++
        console.log(`✘ [${engine}] ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n    ${String(err?.stack ?? err).split('\n').slice(0, 12).join('\n    ')}`)
        // The browser may be stuck in the failed test: the next test gets a fresh one.
        await retire()
      }
    }
  } finally {
    await retire()
  }
}

const server = args.includes('--list') ? undefined : await startServer()
try {
  // The engines run side by side (each is mostly one busy thread): the added time stays near the slower one's.
  if (args.includes('--serial')) for (const e of engines) await runEngine(e)
  else await Promise.all(engines.map(runEngine))
} finally {
  server?.kill()
}
if (args.includes('--list')) process.exit(0)
console.log(`engines: ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 || passed === 0 ? 1 : 0)
