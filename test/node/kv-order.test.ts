/**
 * Calls made in order on one key-value handle take effect in that order, even unawaited: a read
 * sees every write issued before it and none issued after it (docs/kv.md, "Call order"). The
 * property (test/conformance/kv-order.ts) over fast-check seeds, on memory and fs storage, on a
 * fresh handle and on one reopened read-only-then-written (whose first write enables writing).
 *
 * LABVAULT_PROP_RUNS runs (default 6); a failure prints its seed, LABVAULT_PROP_SEED=<seed>
 * replays it.
 */
import { test } from 'node:test'
import fc from 'fast-check'
import { deleteVault, openVault, type LocationOptions } from '../../src/node.js'
import { checkCallOrder } from '../conformance/kv-order.js'
import { tempDir } from './helpers.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 6)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const dir = tempDir('labvault-kv-order-')
const backends: [string, LocationOptions][] = [
  ['memory', { storage: 'memory' }],
  ['fs', { storage: 'fs', path: dir }],
]

let n = 0
for (const [backend, location] of backends) {
  test(`unawaited calls on one kv handle take effect in call order: ${backend} (seed ${SEED}, ${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        const name = `order-${++n}`
        const v = await openVault(name, location)
        try {
          await checkCallOrder(v.kv(), seed, 6, 24)
        } finally {
          await v.close()
          await deleteVault(name, location)
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    )
  })
}
