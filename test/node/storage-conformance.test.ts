// Runs the storage conformance suite against the adapters that work in Node: memory (the reference)
// and node-fs. OPFS and IndexedDB run the same cases in Chromium (test/browser/storage-conformance.spec.ts).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { MemoryAdapter } from '../../src/storage/memory-adapter.js'
import { NodeFsAdapter } from '../../src/storage/node-fs-adapter.js'
import type { StorageAdapter } from '../../src/storage/storage-adapter.js'
import { storageConformanceCases } from '../conformance/storage-conformance.js'

/** Each case gets a fresh backing root from `newRoot`; the factory it receives reopens that root. */
const backends: { name: string; newRoot(): () => Promise<StorageAdapter> }[] = [
  {
    // Closing a MemoryAdapter keeps its files, so "reopening" is handing out the same instance.
    name: 'memory',
    newRoot() {
      const shared = new MemoryAdapter()
      return async () => shared
    },
  },
  {
    name: 'node-fs',
    newRoot() {
      const dir = mkdtempSync(join(tmpdir(), 'labvault-conformance-'))
      after(() => rmSync(dir, { recursive: true, force: true }))
      return async () => new NodeFsAdapter(join(dir, 'root'))
    },
  },
]

for (const backend of backends) {
  describe(`storage conformance: ${backend.name}`, () => {
    for (const c of storageConformanceCases) test(c.name, () => c.run(backend.newRoot()))
  })
}
