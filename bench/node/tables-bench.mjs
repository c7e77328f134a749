// Node versioned-tables benchmark (issue 10): the built package on the fs adapter. The measurements
// are in bench/lib/tables-suite.mjs (shared with Chromium).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteVault, openVault } from '../../dist/node/node.js'
import { runTablesSuite } from '../lib/tables-suite.mjs'

export default async function runNodeTablesBench() {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-bench-tables-'))
  try {
    return await runTablesSuite({
      environment: 'node',
      open: (name) => openVault(name, { path: dir }),
      remove: (name) => deleteVault(name, { path: dir }),
      log: (msg) => console.log(`  ${msg}`),
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
