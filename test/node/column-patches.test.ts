import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { openVault, type Column } from '../../src/node.js'

/**
 * Element patches of blob-backed column chunks (docs/format.md, "Element patches"), by generation:
 * after any sequence of sets, setSlices (short ones become patches; long ones, and the 1,025th
 * patched element of a chunk, fold the chunk), inserts and deletes on a column of full 256 KiB
 * blob chunks, the column reads as a plain array given the same calls says, live, after close +
 * reopen (log replay) and after checkpoint + reopen (image). Fixed size (f64) and variable size
 * (str:utf8, elements that shrink and grow). LABVAULT_PROP_RUNS (default 150, divided by 5 here) and
 * LABVAULT_PROP_SEED as in test/node/replay-invariant.test.ts.
 */

const RUNS = Math.max(5, Math.ceil(Number(process.env.LABVAULT_PROP_RUNS ?? 150) / 5))
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
const BLOB_CHUNKS = { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 }

type Edit =
  | { t: 'set'; at: number; v: number }
  | { t: 'setSlice'; at: number; n: number; v: number }
  | { t: 'insert'; at: number; v: number }
  | { t: 'delete'; at: number }

// Positions cluster in the first chunks (so that patches pile up on one chunk) with some anywhere.
const at = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 3_000 }) }, { weight: 1, arbitrary: fc.nat() })
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('set' as const), at, v: fc.integer({ min: -9, max: 9 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('setSlice' as const), at, n: fc.oneof(fc.integer({ min: 1, max: 80 }), fc.constant(1_100)), v: fc.integer({ min: -9, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('insert' as const), at, v: fc.integer({ min: -9, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), at }) },
)

/** The element value an edit writes at offset j of its range, per dtype (strings of varying length). */
function value(dtype: 'f64' | 'str:utf8', v: number, j: number): number | string {
  return dtype === 'f64' ? v * 1_000 + j + 0.5 : 'é'.repeat(Math.abs(v) * 3) + String(j)
}

async function applyEdit(col: Column, ref: unknown[], dtype: 'f64' | 'str:utf8', e: Edit): Promise<void> {
  const len = ref.length
  if (e.t === 'insert') {
    const i = e.at % (len + 1)
    const x = value(dtype, e.v, 0)
    await col.insert(i, x as never)
    ref.splice(i, 0, x)
    return
  }
  if (len === 0) return
  const i = e.at % len
  if (e.t === 'delete') {
    await col.delete(i)
    ref.splice(i, 1)
  } else if (e.t === 'set') {
    const x = value(dtype, e.v, 0)
    await col.set(i, x as never)
    ref[i] = x
  } else {
    const end = Math.min(len, i + e.n)
    const xs = Array.from({ length: end - i }, (_, j) => value(dtype, e.v, j))
    await col.setSlice(i, end, (dtype === 'f64' ? Float64Array.from(xs as number[]) : xs) as never)
    ref.splice(i, end - i, ...xs)
  }
}

let counter = 0

for (const dtype of ['f64', 'str:utf8'] as const) {
  test(`${dtype} column of blob chunks: random edits agree with an array, live, after replay and after a checkpoint (seed ${SEED}, ${RUNS} runs)`, async () => {
    const initial = dtype === 'f64' ? Array.from({ length: 70_000 }, (_, i) => i * 0.25) : Array.from({ length: 2_200 }, (_, i) => `${i}`.padEnd(240, 'x'))
    const out = await fc.check(
      fc.asyncProperty(fc.array(editArb, { minLength: 1, maxLength: 60 }), async (edits) => {
        const name = `patches-${++counter}`
        let v = await openVault(name, { storage: 'memory' })
        try {
          const col = (await v.columns.create('c', dtype, BLOB_CHUNKS)) as unknown as Column
          await col.extend((dtype === 'f64' ? Float64Array.from(initial as number[]) : initial) as never)
          const ref = [...initial]
          for (const e of edits) await applyEdit(col, ref, dtype, e)
          const read = async () => Array.from((await (await v.columns.get(col.name)).slice()) as ArrayLike<unknown>)
          assert.deepEqual(await read(), ref, 'live')
          await v.close()
          v = await openVault(name, { storage: 'memory' })
          assert.deepEqual(await read(), ref, 'after close and reopen (log replay)')
          await v.checkpoint()
          await v.close()
          v = await openVault(name, { storage: 'memory' })
          assert.deepEqual(await read(), ref, 'after checkpoint and reopen')
        } finally {
          await v.close()
        }
      }),
      { seed: SEED, numRuns: RUNS },
    )
    if (out.failed) throw new Error(`${fc.defaultReportMessage(out)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/column-patches.test.ts\n${(out.errorInstance as Error)?.stack ?? ''}`)
  })
}
