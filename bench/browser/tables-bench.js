// Browser versioned-tables benchmark (issue 10), run in headless Chromium by scripts/bench.mjs: the
// built package (engine and code modules in its worker) on OPFS. The measurements are in
// bench/lib/tables-suite.mjs (shared with Node).
import { runTablesSuite } from '../lib/tables-suite.mjs'

const labvault = await import(/* @vite-ignore */ new URL('/dist/browser/labvault.js', location.href).href)
const { openVault, deleteVault } = labvault
const assetBase = new URL('/dist/browser/', location.href).href

export function runBrowserTablesBench(log = () => {}) {
  return runTablesSuite({
    environment: 'chromium',
    open: (name) => openVault(name, { storage: 'opfs', assetBase }),
    remove: (name) => deleteVault(name, { storage: 'opfs', assetBase }),
    log,
  })
}
