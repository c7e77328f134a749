// Node typed-column benchmark (issue 3): the built package on the fs adapter. The measurements
// are in bench/lib/columns-suite.mjs (shared with Chromium).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteVault, openVault } from '../../dist/node/node.js'
import { runColumnsSuite } from '../lib/columns-suite.mjs'

export default async function runNodeColumnsBench() {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-bench-columns-'))
  try {
    return await runColumnsSuite({
      environment: 'node',
      open: (name) => openVault(name, { path: dir }),
      remove: (name) => deleteVault(name, { path: dir }),
      log: (msg) => console.log(`  ${msg}`),
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
