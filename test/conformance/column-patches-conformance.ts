/**
 * Element edits inside blob-backed column chunks (issue 10, "Column edits stay cheap"): a `set` or a
 * short `setSlice` there is stored as element patches laid over the chunk's blob, folded into a new
 * blob once a chunk's patches pass a threshold (docs/format.md, "Element patches"). Part of the
 * columns conformance suite (./columns-conformance.ts): Node (memory, fs) and Chromium (OPFS,
 * IndexedDB, a follower tab). Checks of files on disk stay in test/node/columns.test.ts.
 */
import type { Column, Vault } from '../../src/shared-exports.js'
import { mulberry32 } from '../support/prng.js'
import { check, equal } from './assert.js'
import type { VaultConformanceCase } from './vault-conformance.js'

/** 256 KiB chunks: every full chunk goes to the blob store (docs/format.md, "Columns"). */
const BLOB_CHUNKS = { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 }

/** One dtype of each family, with a value maker and how many values fill a blob chunk and more. */
const families: { dtype: string; count: number; make: (i: number) => unknown }[] = [
  { dtype: 'f64', count: 40_000, make: (i) => i * 0.5 },
  { dtype: 'i64', count: 40_000, make: (i) => BigInt(i) * -3n },
  { dtype: 'bool', count: 270_000, make: (i) => i % 3 === 0 },
  { dtype: 'bytes:4', count: 70_000, make: (i) => new Uint8Array([i & 255, (i >> 8) & 255, 7, 9]) },
  { dtype: 'str:8:utf8', count: 40_000, make: (i) => `s${i}` },
  { dtype: 'msgpack:32', count: 10_000, make: (i) => ({ i }) },
  { dtype: 'vec:f32:3', count: 25_000, make: (i) => new Float32Array([i, -i, 0.5]) },
  { dtype: 'str:utf8', count: 1_500, make: (i) => `é${'v'.repeat(200 + (i % 50))}${i}` },
  { dtype: 'bytes', count: 1_500, make: (i) => new Uint8Array(200 + (i % 70)).fill(i & 255) },
  { dtype: 'msgpack', count: 1_500, make: (i) => ({ i, pad: 'p'.repeat(200 + (i % 30)) }) },
  { dtype: 'json', count: 1_500, make: (i) => ({ i, pad: 'j'.repeat(200) }) },
  { dtype: 'vec:u8', count: 1_500, make: (i) => new Uint8Array(250 + (i % 9)).fill(i & 255) },
]

/** Elements as plain values (typed-array slices compare like arrays). */
function plain(xs: unknown): unknown[] {
  return Array.from(xs as ArrayLike<unknown>)
}

/**
 * A column's elements read through slice() and (unless `sliceOnly`) iteration in batches over a
 * window [start, end) (iterating yields one element at a time: the whole of a big column is slow).
 */
async function readsAgree(col: Column, ref: unknown[], what: string, sliceOnly = false, start = 0, end = 2_000): Promise<void> {
  equal(await col.length(), ref.length, `${what}: length`)
  equal(plain(await col.slice()), ref, `${what}: slice()`)
  if (sliceOnly) return
  const iterated: unknown[] = []
  for await (const x of col.iterate({ batchSize: 777, start, end })) iterated.push(x)
  equal(iterated, ref.slice(start, end), `${what}: iterate() over [${start}, ${end})`)
}

async function fill(v: Vault, name: string, dtype: string, count: number, make: (i: number) => unknown): Promise<[Column, unknown[]]> {
  const col = (await v.columns.create(name, dtype, BLOB_CHUNKS)) as Column
  const ref = Array.from({ length: count }, (_, i) => make(i))
  // Numbers as a typed array: extend copies it in one go.
  await col.extend(dtype === 'f64' ? Float64Array.from(ref as number[]) : dtype === 'i32' ? Int32Array.from(ref as number[]) : dtype === 'i64' ? BigInt64Array.from(ref as bigint[]) : ref)
  return [col, ref]
}

export const columnPatchCases: VaultConformanceCase[] = [
  {
    name: 'edits inside blob chunks of every dtype family read back through get, slice, iterate, Arrow, a reopen and a checkpoint',
    async run(t) {
      let v = await t.open()
      const refs = new Map<string, unknown[]>()
      for (const { dtype, count, make } of families) {
        const [col, ref] = await fill(v, dtype.replaceAll(':', '_'), dtype, count, make)
        const r = mulberry32(count)
        // Single sets all over (the first chunks are full blob chunks), one of them set twice.
        for (let k = 0; k < 12; k++) {
          const i = Math.floor(r() * (count - 1))
          ref[i] = make(count + k)
          await col.set(i, ref[i] as never)
        }
        ref[3] = make(count + 100)
        await col.set(3, ref[3] as never)
        ref[3] = make(count + 101)
        await col.set(3, ref[3] as never)
        // A short range, and one element read where a patch and the blob meet.
        const s = Math.floor(count / 2)
        const vals = [make(count + 200), make(count + 201), make(count + 202)]
        await col.setSlice(s, s + 3, vals as never)
        ref.splice(s, 3, ...vals)
        equal(await col.get(3), ref[3], `${dtype}: get of an element set twice`)
        equal(plain(await col.slice(s - 2, s + 5)), ref.slice(s - 2, s + 5), `${dtype}: a slice around patched elements`)
        await readsAgree(col, ref, dtype, false, s - 1_000, s + 1_000)
        const arrow = await col.toArrow(s, s + 3)
        equal(arrow.length, 3, `${dtype}: Arrow length`)
        refs.set(dtype, ref)
      }
      const f = await v.columns.get<'f64'>('f64')
      equal(Array.from((await f.toArrow()).toArray() as Float64Array), refs.get('f64'), 'f64 as Arrow sees the patched values')
      const s = await v.columns.get<'str:utf8'>('str_utf8')
      equal([...(await s.toArrow())], refs.get('str:utf8'), 'str:utf8 as Arrow sees the patched values')
      v = await t.reopen(v)
      for (const { dtype } of families) await readsAgree(await v.columns.get(dtype.replaceAll(':', '_')), refs.get(dtype)!, `${dtype} after reopen`, true)
      await v.checkpoint()
      v = await t.reopen(v)
      for (const { dtype } of families) await readsAgree(await v.columns.get(dtype.replaceAll(':', '_')), refs.get(dtype)!, `${dtype} after a checkpoint and reopen`, true)
      equal(await v.integrityCheck(), ['ok'], 'integrityCheck')
    },
  },

  {
    name: 'many edits to one blob chunk cross the fold threshold; inserts, deletes and clear on patched chunks',
    async run(t) {
      let v = await t.open()
      const [f, ref] = await fill(v, 'f', 'i32', 200_000, (i) => i)
      // 1500 distinct elements of chunk 0 (past the 1024-element threshold), in one transaction.
      await v.transaction(async (tx) => {
        const c = await tx.columns.get<'i32'>('f')
        for (let k = 0; k < 1500; k++) {
          ref[k * 40] = -1 - k
          await c.set(k * 40, -1 - k)
        }
      })
      equal(plain(await f.slice(0, 65_536)), ref.slice(0, 65_536), 'chunk 0 after 1500 edits')
      // Variable size: a few large values pass the byte threshold.
      const [s, sref] = await fill(v, 's', 'str:utf8', 3_000, (i) => `x${i}`.padEnd(300, '.'))
      for (let k = 0; k < 40; k++) {
        sref[k * 7] = 'L'.repeat(3_000 + k)
        await s.set(k * 7, sref[k * 7] as never)
      }
      sref[1] = ''
      await s.set(1, '')
      equal(plain(await s.slice(0, 400)), sref.slice(0, 400), 'strings after large edits')
      // Patched, then structurally edited: the patches are kept in the rewritten chunks.
      await f.set(70_000, -7)
      ref[70_000] = -7
      await f.insert(69_999, -8)
      ref.splice(69_999, 0, -8)
      await f.delete(65_540)
      ref.splice(65_540, 1)
      await s.set(2_000, 'patched')
      sref[2_000] = 'patched'
      await s.insert(1_999, 'inserted')
      sref.splice(1_999, 0, 'inserted')
      await readsAgree(f, ref, 'i32 after structural edits')
      await readsAgree(s, sref, 'str after structural edits')
      v = await t.reopen(v)
      await readsAgree(await v.columns.get('f'), ref, 'i32 after reopen')
      await readsAgree(await v.columns.get('s'), sref, 'str after reopen')
      // Clear and delete a patched column: a new column reusing chunk ids sees none of the patches.
      const f2 = await v.columns.get<'i32'>('f')
      await f2.set(10, 99)
      await f2.clear()
      equal(await f2.length(), 0, 'cleared')
      await v.columns.get<'str:utf8'>('s').then((c) => c.set(5, 'gone'))
      await v.columns.delete('s')
      const [g, gref] = await fill(v, 'g', 'i32', 140_000, (i) => i * 2)
      await readsAgree(g, gref, 'a new column after patched ones were cleared and deleted')
      equal(await v.integrityCheck(), ['ok'], 'integrityCheck')
    },
  },

  {
    name: 'an edit in a blob chunk rolled back with its transaction leaves the old value, also for the next read; edits inside withCache',
    async run(t) {
      const v = await t.open()
      const [f] = await fill(v, 'f', 'f64', 70_000, (i) => i)
      await f.get(5) // the chunk's bytes are cached now
      await v
        .transaction(async (tx) => {
          const c = await tx.columns.get<'f64'>('f')
          await c.set(5, -1)
          equal(await c.get(5), -1, 'inside the transaction')
          throw new Error('roll back')
        })
        .catch(() => {})
      equal(await f.get(5), 5, 'after the rollback')
      equal(plain(await f.slice(0, 8)), [0, 1, 2, 3, 4, 5, 6, 7], 'a slice after the rollback')
      await f.set(6, -6)
      equal(plain(await f.slice(4, 8)), [4, 5, -6, 7], 'a later edit')
      // Inside the write cache: buffered appends are flushed before the edit, reads see both.
      await f.withCache({}, async () => {
        await f.append(1e6)
        await f.set(8, -8)
        equal(plain(await f.slice(6, 10)), [-6, 7, -8, 9], 'an edit inside withCache')
        equal(await f.get(-1), 1e6, 'the buffered append')
      })
    },
  },
  {
    name: 'edits of one blob chunk issued at once through two handles (patches and rewrites interleaved) all land',
    async run(t) {
      const v = await t.open()
      const other = await t.open({ durability: 'relaxed' })
      const [f, ref] = await fill(v, 'f', 'i32', 70_000, (i) => i)
      const g = await other.columns.get<'i32'>('f')
      await f.set(5, -999) // chunk 0 has a patch: a rewrite of it folds (and drops) its patches
      const calls: Promise<void>[] = []
      for (let k = 0; k < 30; k++) {
        // Patches through one handle; inserts and deletes far behind them (chunk 0 rewritten, the
        // patched positions unmoved) through the other, each handle's calls in its own order.
        calls.push(f.set(100 + k, -1 - k))
        if (k % 3 === 0) calls.push(g.insert(60_000, 5_000_000 + k))
        if (k % 5 === 0) calls.push(g.delete(61_000))
      }
      await Promise.all(calls)
      for (let k = 0; k < 30; k++) ref[100 + k] = -1 - k
      ref[5] = -999
      const got = Array.from(await f.slice()) as number[]
      equal(got.length, ref.length + 10 - 6, 'length after 10 inserts and 6 deletes')
      equal(got.slice(0, 60_000), ref.slice(0, 60_000), 'every patch landed where it was made')
      for (let k = 0; k < 30; k += 3) check(got.includes(5_000_000 + k), `the insert of ${5_000_000 + k} landed`)
    },
  },
]
