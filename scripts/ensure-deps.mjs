// Runs before `npm start` and `npm test`: installs the dependencies when a fresh clone has none, so
// a newcomer needs only those two commands. (`npm install`, not `npm ci`: see .ci/run.)
import { existsSync } from 'node:fs'
import { execSync } from 'node:child_process'
import { resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const needed = ['vite', 'sql.js', '@playwright/test', 'tsx', 'typescript', 'comlink', 'msgpackr', 'idb', 'apache-arrow']
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
