/**
 * `setMany` writes large batches in key order (src/domains/kv/engine/kv-engine.ts, `writeRows`),
 * not in call order, for speed. Property: for any batch (string and byte keys, duplicates, hostile
 * characters, sizes on both sides of the sorted threshold and of the 64-row statements), the vault
 * afterwards holds exactly what one `set()` per entry, in order, would leave: a later duplicate
 * wins. Checked live and after reopen (log replay).
 *
 * LABVAULT_PROP_RUNS runs (default 40); a failure prints its seed, LABVAULT_PROP_SEED=<seed>
 * replays it.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { MemoryAdapter, openVault } from '../../src/node.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 40)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

// A small alphabet makes duplicates likely; it holds astral characters (whose UTF-16 order differs
// from UTF-8's), NUL, and characters either side of the surrogate range.
const char = fc.constantFrom('a', 'b', 'B', 'é', '\0', '😀', '\u{10FFFF}', '\uFFFD', '\uD7FF', '\uE000', '~')
const stringKey = fc.string({ unit: char, maxLength: 3 })
const bytesKey = fc.uint8Array({ maxLength: 2, max: 3 })
const key = fc.oneof({ weight: 4, arbitrary: stringKey }, { weight: 1, arbitrary: bytesKey })
const batch = fc.array(fc.tuple(key, fc.integer({ min: -5, max: 5 })), { maxLength: 400, size: 'max' })

const id = (k: string | Uint8Array) => (typeof k === 'string' ? `s:${k}` : `b:${[...k].join(',')}`)

test(`setMany = one set() per entry in order, for any batch (seed ${SEED}, ${RUNS} runs)`, async () => {
  let run = 0
  await fc.assert(
    fc.asyncProperty(batch, async (entries) => {
      const model = new Map<string, number>()
      for (const [k, v] of entries) model.set(id(k), v)
      const storage = new MemoryAdapter()
      const name = `order-${run++}`
      const v = await openVault(name, { storage })
      try {
        await v.kv().set('\u{10FFFF}', 99) // an existing key the batch may replace
        if (!model.has(id('\u{10FFFF}'))) model.set(id('\u{10FFFF}'), 99)
        assert.equal(await v.kv().setMany(entries), entries.length)
        const live = new Map((await v.kv().entries()).map(([k, x]) => [id(k as string | Uint8Array), x as number]))
        assert.deepEqual(live, model)
      } finally {
        await v.close()
      }
      const again = await openVault(name, { storage })
      try {
        const replayed = new Map((await again.kv().entries()).map(([k, x]) => [id(k as string | Uint8Array), x as number]))
        assert.deepEqual(replayed, model)
      } finally {
        await again.close()
      }
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  )
})
