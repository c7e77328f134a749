// Node item-list benchmark (issue 4): the built package on the fs adapter, engine in-process,
// side by side with Orama and a plain-JS loop on the same thread. The measurements are in
// bench/lib/items-suite.mjs (shared with Chromium, where hnswlib-wasm runs too).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteVault, openVault } from '../../dist/node/node.js'
import { runItemsSuite } from '../lib/items-suite.mjs'

export default async function runNodeItemsBench() {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-bench-items-'))
  try {
    return await runItemsSuite({
      environment: 'node',
      open: (name) => openVault(name, { path: dir }),
      remove: (name) => deleteVault(name, { path: dir }),
      log: (msg) => console.log(`  ${msg}`),
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
