// Runs before `npm start` and `npm test`: installs the dependencies when a fresh clone has none, so
// a newcomer needs only those two commands. (`npm install`, not `npm ci`: see .ci/run.)
import { existsSync } from 'node:fs'
import { execSync } from 'node:child_process'
import { resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const needed = ['vite', 'sql.js', '@playwright/test', 'tsx', 'typescript', 'msgpackr', 'idb', 'apache-arrow']
if (needed.some((name) => !existsSync(resolve(root, 'node_modules', name, 'package.json')))) {
  console.log('labvault: installing dependencies (npm install)…')
  execSync('npm install --no-audit --no-fund', { cwd: root, stdio: 'inherit' })
}

// The API reference's tools (TypeDoc + TypeScript 6) have their own folder: see scripts/apidocs.mjs.
// Not fatal here: the build skips the reference without them (and says so).
const { ensureApiDocsTools } = await import('./apidocs.mjs')
try {
  ensureApiDocsTools()
} catch (err) {
  console.warn(`labvault: could not install tools/apidocs (${err.message.split('\n')[0]}); the API reference will be missing`)
}

// `npm test` drives Chromium, Firefox ESR and WebKitGTK from Debian. As root on a Debian machine
// (these machines, CI), install whichever is missing, as .ci/run does; elsewhere say what to install
// (the tests that need a missing browser then fail, naming it).
if (process.env.npm_lifecycle_event === 'pretest') {
  const wanted = [['/usr/bin/chromium', 'CHROMIUM_PATH'], ['/usr/bin/firefox-esr', 'FIREFOX_PATH'], ['/usr/bin/WebKitWebDriver', 'WEBKIT_DRIVER_PATH'], ['/usr/bin/xvfb-run'], ['/usr/bin/xauth']]
  const missing = wanted.filter(([path, env]) => !existsSync(path) && !(env && process.env[env]))
  if (missing.length > 0) {
    if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
      execSync(`bash ${JSON.stringify(resolve(root, 'scripts/install-browsers.sh'))}`, { stdio: 'inherit' })
    } else {
      console.warn(`labvault: missing for the browser tests: ${missing.map(([p]) => p).join(', ')} (Debian: sudo bash scripts/install-browsers.sh; or set CHROMIUM_PATH / FIREFOX_PATH / WEBKIT_DRIVER_PATH)`)
    }
  }
}
