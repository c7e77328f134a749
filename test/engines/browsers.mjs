// Firefox and WebKit behind one small interface, for test/engines/run-engines.mjs and the
// benchmarks (scripts/bench.mjs): launch a browser, open pages, run an async function in a page,
// close a page, close the browser. Chromium stays on Playwright (playwright.config.ts).
//
// Firefox: Debian's firefox-esr through puppeteer-core over WebDriver BiDi (no geckodriver), headless,
// a fresh profile directory, prefs that keep it off the network (updates, telemetry, remote settings).
// WebKit: Debian's WebKitGTK through WebKitWebDriver, started by us under xvfb-run, driving
// MiniBrowser in automation mode, through selenium-webdriver's client (`usingServer`: selenium never
// looks for or downloads a driver). Only STARTING a browser is retried, never a test.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr'
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver'
const MINIBROWSER_CANDIDATES = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.0/MiniBrowser']
export const MINIBROWSER_PATH = process.env.MINIBROWSER_PATH ?? MINIBROWSER_CANDIDATES.find((p) => existsSync(p))

const START_ATTEMPTS = 3
const START_TIMEOUT_MS = 60_000

/** Which engines this machine can run, and why not when it cannot. */
export function engineAvailability() {
  const xvfb = ['/usr/bin/xvfb-run', '/bin/xvfb-run'].some((p) => existsSync(p))
  return {
    firefox: existsSync(FIREFOX_PATH) ? { ok: true } : { ok: false, why: `no Firefox at ${FIREFOX_PATH} (apt-get install firefox-esr, or set FIREFOX_PATH)` },
    webkit: !existsSync(WEBKIT_DRIVER)
      ? { ok: false, why: `no WebKitWebDriver at ${WEBKIT_DRIVER} (apt-get install webkit2gtk-driver)` }
      : !MINIBROWSER_PATH
        ? { ok: false, why: 'no MiniBrowser (it ships with webkit2gtk-driver)' }
        : !xvfb
          ? { ok: false, why: 'no xvfb-run (apt-get install xvfb xauth)' }
          : { ok: true },
  }
}

function withTimeout(promise, ms, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

async function retryStart(what, start, log) {
  let last
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      return await start()
    } catch (err) {
      last = err
      log(`${what}: start attempt ${attempt} failed: ${err?.message ?? err}`)
      await new Promise((r) => setTimeout(r, 1000 * attempt))
    }
  }
  throw new Error(`${what} did not start after ${START_ATTEMPTS} attempts: ${last?.message ?? last}`)
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Prefs that keep a test Firefox off the network (on top of puppeteer's own test prefs). */
const FIREFOX_PREFS = {
  'app.update.auto': false,
  'app.update.enabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.server': '',
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'browser.ping-centre.telemetry': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'network.connectivity-service.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
  'extensions.blocklist.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.aboutHomeSnippets.updateUrl': '',
  'media.gmp-gmpopenh264.enabled': false,
}

/**
 * Launch headless Firefox ESR with a fresh profile (or `profileDir`, kept afterwards); `prefs` adds prefs.
 * @returns {Promise<EngineBrowser>}
 */
export async function launchFirefox({ log = () => {}, profileDir, prefs = {} } = {}) {
  const puppeteer = (await import('puppeteer-core')).default
  const profile = profileDir ?? mkdtempSync(join(tmpdir(), 'labvault-firefox-'))
  const browser = await retryStart(
    'firefox',
    () =>
      withTimeout(
        puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX_PATH, headless: true, userDataDir: profile, extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs }, protocolTimeout: 15 * 60_000 }),
        START_TIMEOUT_MS,
        'firefox launch',
      ),
    log,
  )
  const proc = browser.process()
  return {
    name: 'firefox',
    async newPage() {
      const page = await browser.newPage()
      page.on('console', (m) => {
        if (m.type() === 'error') log(`[firefox console] ${m.text()}`)
      })
      return {
        async goto(url) {
          await page.goto(url, { waitUntil: 'load', timeout: 60_000 })
        },
        async run(fn, ...args) {
          return page.evaluate(fn, ...args)
        },
        async close() {
          await page.close()
        },
      }
    },
    async close() {
      try {
        await withTimeout(browser.close(), 20_000, 'firefox close')
      } catch {
        proc?.kill('SIGKILL')
      }
      if (!profileDir) rmSync(profile, { recursive: true, force: true })
    },
  }
}

/**
 * Start WebKitWebDriver under Xvfb and a MiniBrowser session through it.
 * @returns {Promise<EngineBrowser>}
 */
export async function launchWebKit({ log = () => {} } = {}) {
  const { Builder, Capabilities } = await import('selenium-webdriver')
  let driverProc
  const stopDriver = () => {
    // xvfb-run and its children (Xvfb, the driver, MiniBrowser) share the process group we made.
    if (driverProc?.pid && driverProc.exitCode === null) {
      try {
        process.kill(-driverProc.pid, 'SIGKILL')
      } catch {}
    }
  }
  // The driver's process group is detached: if this process dies without closing (a crash, an
  // uncaught error), kill it on the way out so no Xvfb, driver or MiniBrowser is left behind.
  process.on('exit', stopDriver)
  const driver = await retryStart(
    'webkit',
    async () => {
      const port = await freePort()
      driverProc = spawn('xvfb-run', ['-a', WEBKIT_DRIVER, `--port=${port}`], { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
      let stderr = ''
      driverProc.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)))
      try {
        const url = `http://127.0.0.1:${port}`
        const deadline = Date.now() + START_TIMEOUT_MS
        for (;;) {
          if (driverProc.exitCode !== null) throw new Error(`WebKitWebDriver exited (${driverProc.exitCode}): ${stderr}`)
          try {
            if ((await fetch(`${url}/status`)).ok) break
          } catch {}
          if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer on ${url}: ${stderr}`)
          await new Promise((r) => setTimeout(r, 100))
        }
        const caps = new Capabilities()
        caps.set('browserName', 'MiniBrowser')
        caps.set('webkitgtk:browserOptions', { binary: MINIBROWSER_PATH, args: ['--automation'] })
        const d = await withTimeout(new Builder().usingServer(url).withCapabilities(caps).build(), START_TIMEOUT_MS, 'webkit session')
        await d.manage().setTimeouts({ script: 15 * 60_000, pageLoad: 60_000 })
        return d
      } catch (err) {
        stopDriver()
        throw err
      }
    },
    log,
  )
  // One WebDriver session drives every window, one command at a time: pages take turns.
  let queue = Promise.resolve()
  const serial = (body) => {
    const next = queue.then(body, body)
    queue = next.catch(() => {})
    return next
  }
  // The session's first window stays open and blank: closing a test page's window must never end
  // the session (WebDriver ends it with its last window).
  const home = await driver.getWindowHandle()
  return {
    name: 'webkit',
    async newPage() {
      const handle = await serial(async () => {
        await driver.switchTo().newWindow('tab')
        return driver.getWindowHandle()
      })
      const focus = async () => {
        if ((await driver.getWindowHandle().catch(() => undefined)) !== handle) await driver.switchTo().window(handle)
      }
      return {
        goto: (url) =>
          serial(async () => {
            await focus()
            await driver.get(url)
          }),
        run: (fn, ...args) =>
          serial(async () => {
            await focus()
            const script = `const done = arguments[arguments.length - 1]
              const args = Array.prototype.slice.call(arguments, 0, -1)
              Promise.resolve().then(() => (${fn.toString()})(...args)).then(
                (value) => done({ ok: true, value: value === undefined ? null : value }),
                (e) => done({ ok: false, error: String((e && e.stack) || e) + ' ' + String(e && e.message) }))`
            const r = await driver.executeAsyncScript(script, ...args)
            if (!r?.ok) throw new Error(`in page: ${r?.error}`)
            return r.value === null ? undefined : r.value
          }),
        close: () =>
          serial(async () => {
            await focus()
            await driver.close()
            await driver.switchTo().window(home)
          }),
      }
    },
    async close() {
      try {
        await withTimeout(driver.quit(), 20_000, 'webkit quit')
      } catch {}
      stopDriver()
      process.off('exit', stopDriver)
    },
  }
}

/**
 * @typedef {{ goto(url: string): Promise<void>, run<T>(fn: (...args: any[]) => T | Promise<T>, ...args: unknown[]): Promise<T>, close(): Promise<void> }} EnginePage
 * @typedef {{ name: string, newPage(): Promise<EnginePage>, close(): Promise<void> }} EngineBrowser
 */

/** Wait until `fn` (run in the page) returns true. */
export async function waitInPage(page, fn, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await page.run(fn))) {
    if (Date.now() > deadline) throw new Error(`${what}: not ready within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
