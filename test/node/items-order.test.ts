/**
 * Calls made in order on item lists take effect in that order, even unawaited: a read sees every
 * append issued before it and none issued after it, also when an append first sends files or a
 * large matrix to the blob store (docs/items.md, "Call order"). The property
 * (test/conformance/items-order.ts) over fast-check seeds, on memory and fs storage.
 *
 * Also: reads issued before `lists.delete` (search, lineage, list reads) on a new vault, whose
 * search clients and indexes are cold, still see the list (checkReadsBeforeDelete).
 *
 * LABVAULT_PROP_RUNS runs (default 6); a failure prints its seed, LABVAULT_PROP_SEED=<seed>
 * replays it.
 */
import { test } from 'node:test'
import fc from 'fast-check'
import { deleteVault, openVault, type LocationOptions } from '../../src/node.js'
import { checkItemsCallOrder, checkReadsBeforeDelete } from '../conformance/items-order.js'
import { tempDir } from './helpers.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 6)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const dir = tempDir('labvault-items-order-')
const backends: [string, LocationOptions][] = [
  ['memory', { storage: 'memory' }],
  ['fs', { storage: 'fs', path: dir }],
]

let n = 0
for (const [backend, location] of backends) {
  test(`unawaited calls on item lists take effect in call order: ${backend} (seed ${SEED}, ${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        const name = `items-order-${++n}`
        const v = await openVault(name, location)
        try {
          await checkItemsCallOrder(v, 'o', seed, 4, 20)
        } finally {
          await v.close()
          await deleteVault(name, location)
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    )
  })
}

for (const [backend, location] of backends) {
  test(`reads issued before lists.delete see the list, also a vault's first search: ${backend}`, async () => {
    const name = `items-order-delete-${++n}`
    const v = await openVault(name, location)
    try {
      await checkReadsBeforeDelete(v, 'd')
    } finally {
      await v.close()
      await deleteVault(name, location)
    }
  })
}
