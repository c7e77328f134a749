// Runs the domain conformance suites (kv, columns, items) in Node, on memory and fs storage. The same
// cases run through the worker and from a follower tab in Chromium (test/browser/vault-conformance.spec.ts).
import { describe, test } from 'node:test'
import * as labvault from '../../src/node.js'
import { runVaultCase } from '../conformance/vault-conformance.js'
import { vaultSuites } from '../conformance/vault-suites.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-vault-conformance-')
const backends: { name: string; location: labvault.LocationOptions }[] = [
  { name: 'memory', location: { storage: 'memory' } },
  { name: 'fs', location: { storage: 'fs', path: dir } },
]

let counter = 0
for (const [suite, cases] of Object.entries(vaultSuites)) {
  for (const { name: backend, location } of backends) {
    describe(`${suite} conformance: node ${backend}`, () => {
      for (const c of cases) {
        test(c.name, async () => {
          // A vault of its own for each case, deleted afterwards (memory vaults live as long as the process).
          const name = `conformance-${++counter}`
          try {
            await runVaultCase(c, { lib: labvault, where: `node ${backend}`, open: (options) => labvault.openVault(name, { ...options, ...location }) })
          } finally {
            await labvault.deleteVault(name, location)
          }
        })
      }
    })
  }
}
