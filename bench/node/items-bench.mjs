// Node item-list benchmark (issue 4): the built package on the fs adapter, engine in-process,
// side by side with Orama and a plain-JS loop on the same thread. The measurements are in
// bench/lib/items-suite.mjs (shared with Chromium, where hnswlib-wasm runs too); lineage walks over a
// long chain in bench/lib/lineage-chain.mjs (Node only: the walk runs in the engine, the same code).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteVault, openVault } from '../../dist/node/node.js'
import { runItemsSuite } from '../lib/items-suite.mjs'
import { runLineageChain } from '../lib/lineage-chain.mjs'

export default async function runNodeItemsBench() {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-bench-items-'))
  try {
    const env = {
      open: (name) => openVault(name, { path: dir }),
      remove: (name) => deleteVault(name, { path: dir }),
      log: (msg) => console.log(`  ${msg}`),
    }
    const report = await runItemsSuite({ environment: 'node', ...env })
    const lineage = await runLineageChain(env)
    return { ...report, results: { ...report.results, ...lineage.results }, checks: [...report.checks, ...lineage.checks] }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
