// Browser typed-column benchmark (issue 3), run in headless Chromium by scripts/bench.mjs: the
// built package (engine in its worker) on OPFS. The measurements are in bench/lib/columns-suite.mjs
// (shared with Node).
import { runColumnsSuite } from '../lib/columns-suite.mjs'

const labvault = await import(/* @vite-ignore */ new URL('/dist/browser/labvault.js', location.href).href)
const { openVault, deleteVault } = labvault
const assetBase = new URL('/dist/browser/', location.href).href

export function runBrowserColumnsBench(log = () => {}) {
  return runColumnsSuite({
    environment: 'chromium',
    open: (name) => openVault(name, { storage: 'opfs', assetBase }),
    remove: (name) => deleteVault(name, { storage: 'opfs', assetBase }),
    log,
  })
}
