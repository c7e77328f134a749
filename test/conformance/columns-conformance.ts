/**
 * The typed-columns conformance suite: `vault.columns` through the public API, the same cases in Node
 * (memory, fs), through the worker in Chromium (OPFS, IndexedDB) and from a follower tab (see
 * ./vault-conformance.ts). Checks that look at files on disk (log growth, blob counts), the 10M
 * element run and longer random edits under relaxed durability stay in test/node/columns.test.ts.
 */
import type { Column } from '../../src/shared-exports.js'
import { mulberry32 } from '../support/prng.js'
import { check, equal, rejects } from './assert.js'
import { columnPatchCases } from './column-patches-conformance.js'
import type { VaultConformanceCase } from './vault-conformance.js'

/** Values of every dtype (docs: "Columns"), written and read back. */
const dtypeCases: [string, unknown[]][] = [
  ['i32', [0, -1, 2147483647, -2147483648, 42]],
  ['i64', [0n, -1n, 9223372036854775807n, -9223372036854775808n, 12345678901234n]],
  ['f32', [0, 1.5, -2.25, Infinity, 1e-3]],
  ['f64', [0, Math.PI, -Infinity, NaN, 1e300]],
  ['bool', [true, false, false, true]],
  ['bytes:4', [new Uint8Array([1, 2, 3, 4]), new Uint8Array([9]), new Uint8Array([])]],
  ['bytes', [new Uint8Array([1, 2, 3]), new Uint8Array([]), new Uint8Array(1000).fill(7)]],
  ['str:utf8', ['héllo', '', '✓ unicode 🎉', 'x'.repeat(500)]],
  ['str:8:utf8', ['abc', '', 'exactly8', 'longer than eight', 'ééééé']],
  ['str:latin1', ['café', '', 'ÿ']],
  ['str:ascii', ['plain', '', '~!@#']],
  ['str:utf16le', ['héllo 🎉', '', 'ß']],
  ['str:utf16be', ['héllo 🎉', '', 'ß', '\ud800 lone']],
  ['str:6:utf16be', ['ab', '', 'abc']],
  ['msgpack', [{ a: 1, b: [1, 2, { c: 'x' }] }, null, 'str', 42, [new Date(5)], new Map([[1, 2]])]],
  ['msgpack:32', [{ a: 1 }, 0, [0, 0], null, 'padded']],
  ['json', [{ a: 1, b: [true, null] }, 'text', 3.5, null, []]],
  ['cbor', [{ a: 1, b: [1, 2n ** 70n, { c: 'x' }] }, null, undefined, 'str', 42, -1.5, [new Date(5)], new Map([[1, 2]]), new Set(['s']), new Uint8Array([1, 2]), new Float32Array([1.5])]],
  ['cbor:24', [{ a: 1 }, 0, [0, 0], null, 'padded', false]],
  ['vec:f32:3', [new Float32Array([1, 2, 3]), new Float32Array([-1, 0.5, 0])]],
  ['vec:f64:2:2', [new Float64Array([1, 2, 3, Math.PI]), new Float64Array([-1, 0, NaN, 1e300])]],
  ['vec:i8:3', [new Int8Array([-128, 0, 127])]],
  ['vec:u16:2', [new Uint16Array([0, 65535])]],
  ['vec:i64:2', [new BigInt64Array([-(1n << 63n), 5n])]],
  ['vec:u64:1', [new BigUint64Array([(1n << 64n) - 1n])]],
  ['vec:u8', [new Uint8Array([1, 2, 3]), new Uint8Array([]), new Uint8Array(300).fill(9)]],
  ['vec:f32', [new Float32Array([0.5]), new Float32Array(1000).fill(-2)]],
]

/** What reading back gives for a written value (fixed-size forms pad or truncate). */
function expected(dtype: string, v: unknown): unknown {
  if (dtype === 'bytes:4') {
    const out = new Uint8Array(4)
    out.set(v as Uint8Array)
    return out
  }
  if (dtype === 'str:8:utf8') {
    const b = new TextEncoder().encode(v as string)
    let cut = Math.min(8, b.length)
    while (cut < b.length && cut > 0 && (b[cut]! & 0xc0) === 0x80) cut--
    return new TextDecoder().decode(b.subarray(0, cut))
  }
  if (dtype === 'f32') return Math.fround(v as number)
  return v
}

/** Typed-array slices as plain arrays (element values compare the same either way). */
function plain(x: unknown): unknown {
  return ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<unknown>) : x
}

/**
 * Apply seeded random edits to a column and to a plain array; they must agree throughout. Also used
 * by test/node/columns.test.ts for longer runs under relaxed durability.
 */
export async function agreesWithArray(col: Column, gen: (r: () => number) => unknown, seed: number, ops: number): Promise<unknown[]> {
  const r = mulberry32(seed)
  const ref: unknown[] = Array.from({ length: 200 }, () => gen(r))
  await col.extend(ref)
  for (let k = 0; k < ops; k++) {
    const op = r()
    const n = ref.length
    if (op < 0.2 || n === 0) {
      const vals = Array.from({ length: 1 + Math.floor(r() * 30) }, () => gen(r))
      await col.extend(vals)
      ref.push(...vals)
    } else if (op < 0.4) {
      const i = Math.floor(r() * n)
      const val = gen(r)
      await col.set(i, val)
      ref[i] = val
    } else if (op < 0.55) {
      const i = Math.floor(r() * (n + 1))
      const val = gen(r)
      await col.insert(i, val)
      ref.splice(i, 0, val)
    } else if (op < 0.7) {
      const i = Math.floor(r() * n)
      await col.delete(i)
      ref.splice(i, 1)
    } else if (op < 0.85) {
      const s = Math.floor(r() * n)
      const e = Math.min(n, s + Math.floor(r() * 40))
      const vals = Array.from({ length: e - s }, () => gen(r))
      await col.setSlice(s, e, vals)
      ref.splice(s, e - s, ...vals)
    } else {
      const s = Math.floor(r() * n)
      const e = s + Math.floor(r() * 60)
      equal(plain(await col.slice(s, e)), ref.slice(s, e), `slice(${s}, ${e}) after op ${k}`)
    }
  }
  equal(await col.length(), ref.length, 'length after the edits')
  equal(plain(await col.slice()), ref, 'every element after the edits')
  return ref
}

/** Every case of the suite, in a stable order. */
export const columnsConformanceCases: VaultConformanceCase[] = [
  {
    name: 'every dtype round-trips through get, slice and a reopen; list reports each column',
    async run(t) {
      let v = await t.open()
      const name = (dtype: string) => dtype.replaceAll(':', '_')
      for (const [dtype, values] of dtypeCases) {
        const c = await v.columns.create(name(dtype), dtype)
        await c.extend(values)
        for (let i = 0; i < values.length; i++) equal(await c.get(i), expected(dtype, values[i]), `${dtype}[${i}]`)
        await c.append(values[0])
      }
      v = await t.reopen(v)
      for (const [dtype, values] of dtypeCases) {
        const c = await v.columns.get(name(dtype))
        equal(c.dtype, dtype, `dtype of ${name(dtype)}`)
        equal(plain(await c.slice()), [...values, values[0]].map((x) => expected(dtype, x)), `${dtype} after reopen`)
      }
      equal(
        (await v.columns.list()).map((c) => [c.name, c.dtype, c.length]),
        dtypeCases.map(([d, vals]) => [name(d), d, vals.length + 1]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
        'list',
      )
    },
  },

  {
    name: 'numeric slices are typed arrays; typed arrays and plain arrays extend alike',
    async run(t) {
      const v = await t.open()
      const f = await v.columns.create('f', 'f64')
      await f.extend(new Float64Array([1, 2, 3]))
      await f.extend(new Float32Array([4.5])) // converted
      await f.extend([5, 6])
      const s = await f.slice()
      check(s instanceof Float64Array, 'an f64 slice is a Float64Array')
      equal(Array.from(s), [1, 2, 3, 4.5, 5, 6], 'f64 values')
      const i = await v.columns.create('i', 'i64')
      await i.extend(new BigInt64Array([1n, -2n]))
      await i.append(3) // a safe integer number is accepted
      const si = await i.slice()
      check(si instanceof BigInt64Array, 'an i64 slice is a BigInt64Array')
      equal(Array.from(si), [1n, -2n, 3n], 'i64 values')
      const n = await v.columns.create('n', 'i32')
      await n.extend(new Int16Array([-5, 7]))
      check((await n.slice()) instanceof Int32Array, 'an i32 slice is an Int32Array')
      const vec = await v.columns.create('vec', 'vec:f32:2')
      await vec.extend([[1, 2], new Float32Array([3, 4])])
      const vs = await vec.slice()
      check(vs[1] instanceof Float32Array, 'a vector element is a Float32Array')
      equal(Array.from(vs[0]!), [1, 2], 'the first vector')
    },
  },

  {
    name: 'vec:T:d1:d2 columns: typed arrays out, nested or flat arrays in, the shape in info() and list()',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      let v = await t.open()
      const m = await v.columns.create('m', 'vec:i32:2:3')
      equal(await m.info(), { name: 'm', dtype: 'vec:i32:2:3', length: 0, shape: [2, 3] }, 'info reports the shape')
      await m.append([[1, 2, 3], [4, 5, 6]])
      await m.append([7, 8, 9, 10, 11, 12]) // flat, row-major
      await m.append(new Int32Array(6).fill(-1))
      await m.append(new Float64Array([1, 2, 3, 4, 5, 6])) // another typed array: converted when every value fits
      const s = await m.slice()
      check(s.every((x) => x instanceof Int32Array), 'elements are Int32Arrays')
      equal(s.map((x) => Array.from(x)), [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12], [-1, -1, -1, -1, -1, -1], [1, 2, 3, 4, 5, 6]], 'values, row-major')
      const u = await v.columns.create('u', 'vec:u64:2')
      await u.append([1, 2n])
      equal(await u.get(0), new BigUint64Array([1n, 2n]), 'u64 takes bigints and safe integers')
      const bad: [unknown, RegExp][] = [
        [[[1, 2, 3]], /length 1, expected 2/],
        [[1, 2, 3, 4, 5], /6 values.*got 5/],
        [[[1, 2, 3], [4, 5, 'x']], /component 5 is a string/],
        [[[1, 2, 3], [4, 5, 2 ** 31]], /component 5 is 2147483648.*i32/],
        [[[1, 2, 3], [4, 5, 1.5]], /component 5 is 1.5/],
        [new Int32Array(5), /6 values.*got 5/],
        [new BigInt64Array(6), /component 0 is a bigint/],
        ['abcdef', /typed arrays/],
        [[[1, 2, [3]], [4, 5, 6]], /deeper than the shape/],
      ]
      for (const [value, pattern] of bad) {
        await rejects(m.append(value as never), InvalidArgumentError, `vec:i32:2:3 refuses ${JSON.stringify(value, (_k, x) => (typeof x === 'bigint' ? String(x) : x))}`, pattern)
      }
      await rejects(m.set(0, [[1, 2, 3]] as never), InvalidArgumentError, 'set with a wrong shape')
      await rejects(u.append([-1, 0]), InvalidArgumentError, 'a negative u64', /u64/)
      equal(await m.length(), 4, 'nothing was written by the refused calls')
      const arrow = await m.toArrow()
      equal(String(arrow.type), 'FixedSizeList[6]<Int32>', 'Arrow type')
      equal(Array.from(arrow.get(1) as Iterable<number>), [7, 8, 9, 10, 11, 12], 'Arrow values')
      v = await t.reopen(v)
      const listed = (await v.columns.list()).find((c) => c.name === 'm')
      equal(listed, { name: 'm', dtype: 'vec:i32:2:3', length: 4, shape: [2, 3] }, 'list reports the shape')
      equal(Array.from((await (await v.columns.get('m')).get(1)) as Int32Array), [7, 8, 9, 10, 11, 12], 'after reopen')
      equal((await (await v.columns.get('u')).info()).shape, [2], 'a one-dimensional shape')
    },
  },

  {
    name: 'shapeless vec:T columns: each element keeps its own length and shape',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      let v = await t.open()
      const c = await v.columns.create('c', 'vec:f64', { minChunkBytes: 32, maxChunkBytes: 64 })
      equal(await c.info(), { name: 'c', dtype: 'vec:f64', length: 0 }, 'no shape for a shapeless column')
      await c.extend([new Float64Array([1, 2, 3]), [[1, 2], [3, 4], [5, 6]], { data: new Float64Array([9, 8, 7, 6]), shape: [2, 1, 2] }, new Float64Array(0)])
      await c.append({ data: [42], shape: [] })
      const s = await c.slice()
      check(s.every((x) => x instanceof Float64Array), 'elements are Float64Arrays')
      equal(s.map((x) => Array.from(x)), [[1, 2, 3], [1, 2, 3, 4, 5, 6], [9, 8, 7, 6], [], [42]], 'values')
      equal(s.map((x) => x.shape), [[3], [3, 2], [2, 1, 2], [0], []], 'shapes')
      await c.set(0, [[1], [2]])
      await c.insert(1, new Float64Array(50).fill(0.5)) // grows past its chunk
      equal((await c.get(0)).shape, [2, 1], 'the shape after set')
      equal((await c.get(1)).length, 50, 'the inserted element')
      for (const [value, pattern] of [
        [[[1, 2], [3]], /length 1, expected 2/],
        [{ data: [1, 2, 3], shape: [2, 2] }, /3 values but shape \[2, 2\] needs 4/],
        [{ data: [1], shape: [1.5] }, /shape must be/],
        [[1, 'x'], /component 1 is a string/],
        [7, /typed arrays/],
      ] as [unknown, RegExp][]) {
        await rejects(c.append(value as never), InvalidArgumentError, `vec:f64 refuses ${JSON.stringify(value)}`, pattern)
      }
      const i = await v.columns.create('i', 'vec:i16')
      await i.append([[1, -2], [3, 4]])
      await rejects(i.append([40000]), InvalidArgumentError, 'an i16 out of range', /i16/)
      const arrow = await c.toArrow()
      equal(String(arrow.type), 'List<Float64>', 'Arrow type')
      equal(Array.from(arrow.get(2) as Iterable<number>), [1, 2, 3, 4, 5, 6], 'Arrow values (the shape left out)')
      v = await t.reopen(v)
      const again = await (await v.columns.get<'vec:f64'>('c')).slice()
      equal(again.map((x) => x.shape), [[2, 1], [50], [3, 2], [2, 1, 2], [0], []], 'shapes after reopen')
      equal(Array.from((await (await v.columns.get('i')).get(0)) as Int16Array), [1, -2, 3, 4], 'vec:i16 after reopen')
    },
  },

  {
    name: 'str:N never cuts a character and strips its padding; utf16le keeps surrogate pairs whole',
    async run(t) {
      const v = await t.open()
      const c = await v.columns.create('s', 'str:5:utf8')
      await c.extend(['aé€', 'ab🎉', 'abcdefg'])
      equal(await c.slice(), ['aé', 'ab', 'abcde'], 'str:5:utf8')
      const u = await v.columns.create('u', 'str:6:utf16le')
      await u.extend(['ab🎉', 'a🎉'])
      equal(await u.slice(), ['ab', 'a🎉'], 'str:6:utf16le')
      const be = await v.columns.create('be', 'str:6:utf16be')
      await be.extend(['ab🎉', 'a🎉', 'abcd'])
      equal(await be.slice(), ['ab', 'a🎉', 'abc'], 'str:6:utf16be')
    },
  },

  {
    name: 'str:utf16be stores big-endian UTF-16; str:N is str:N:utf8',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      let v = await t.open()
      const be = await v.columns.create('be', 'str:utf16be')
      await be.extend(['A€', '\udc00'])
      equal([...(await be.toArrow(0, 1))], ['A€'], 'utf16be through Arrow (Utf8)')
      const short = await v.columns.create('short', 'str:4')
      equal(short.dtype, 'str:4:utf8', 'str:4 is reported by its full name')
      await short.extend(['abcdef', 'é€', ''])
      equal(await short.slice(), ['abcd', 'é', ''], 'str:4 truncates UTF-8 bytes, never mid-character')
      await rejects(short.append('\ud800'), InvalidArgumentError, 'str:4 is UTF-8: a lone surrogate is refused')
      equal((await v.columns.ensure('short', 'str:4:utf8')).dtype, 'str:4:utf8', 'ensure with the full name finds the shorthand column')
      await v.columns.ensure('short', 'str:4')
      await rejects(v.columns.ensure('short', 'str:4:latin1'), InvalidArgumentError, 'ensure with another encoding')
      v = await t.reopen(v)
      equal(await (await v.columns.get('short')).slice(), ['abcd', 'é', ''], 'str:4 after reopen')
      equal(await (await v.columns.get('be')).slice(), ['A€', '\udc00'], 'str:utf16be after reopen')
      equal((await v.columns.list()).map((c) => c.dtype), ['str:utf16be', 'str:4:utf8'], 'list reports the canonical dtypes')
    },
  },

  {
    name: 'slice follows Array.prototype.slice for every start and end, across tiny chunks',
    async run(t) {
      const v = await t.open()
      const c = await v.columns.create('c', 'i32', { minChunkBytes: 8, maxChunkBytes: 16 })
      const ref = Array.from({ length: 23 }, (_, i) => i * 3)
      await c.extend(ref)
      const bounds = [undefined, -30, -23, -5, -1, 0, 1, 4, 11, 22, 23, 40]
      for (const s of bounds) {
        for (const e of bounds) equal(Array.from(await c.slice(s, e)), ref.slice(s, e), `slice(${s}, ${e})`)
      }
    },
  },

  {
    name: 'get, set, insert and delete take negative indices; out of range is a RangeError and changes nothing',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      const v = await t.open()
      const c = await v.columns.create('c', 'str:utf8')
      await c.extend(['a', 'b', 'c'])
      equal(await c.get(-1), 'c', 'get(-1)')
      equal(await c.get(-3), 'a', 'get(-3)')
      await c.set(-1, 'C')
      await c.insert(-1, 'x') // before the last, like Python's list.insert
      await c.insert(0, 'first')
      await c.insert(5, 'end') // insert at length appends
      equal(await c.slice(), ['first', 'a', 'b', 'x', 'C', 'end'], 'after set and inserts')
      await c.delete(-2)
      await c.delete(0)
      equal(await c.slice(), ['a', 'b', 'x', 'end'], 'after deletes')
      for (const bad of [4, -5, 100]) {
        await rejects(c.get(bad), RangeError, `get(${bad})`)
        await rejects(c.set(bad, 'z'), RangeError, `set(${bad})`)
        await rejects(c.delete(bad), RangeError, `delete(${bad})`)
      }
      await rejects(c.insert(5, 'z'), RangeError, 'insert past the end')
      await rejects(c.get(1.5), InvalidArgumentError, 'a fractional index')
      equal(await c.slice(), ['a', 'b', 'x', 'end'], 'unchanged by the refused calls')
      await c.clear()
      equal(await c.length(), 0, 'length after clear')
      await rejects(c.get(0), RangeError, 'get of a cleared column')
      await c.append('again')
      equal(await c.slice(), ['again'], 'append after clear')
    },
  },

  {
    name: 'async iteration streams every element, in batches',
    async run(t) {
      const v = await t.open()
      const c = await v.columns.create('c', 'i32', { minChunkBytes: 64, maxChunkBytes: 256 })
      await c.extend(Int32Array.from({ length: 1000 }, (_, i) => i))
      const seen: number[] = []
      for await (const x of c) seen.push(x)
      equal(seen, Array.from({ length: 1000 }, (_, i) => i), 'every element in order')
      const sizes: number[] = []
      for await (const b of c.batches({ batchSize: 300 })) sizes.push(b.length)
      equal(sizes, [300, 300, 300, 100], 'batch sizes')
      const s = await v.columns.create('s', 'str:ascii')
      await s.extend(['x', 'y', 'z'])
      const got: string[] = []
      for await (const x of s.iterate({ batchSize: 2, start: 1 })) got.push(x)
      equal(got, ['y', 'z'], 'iterate from an index')
    },
  },

  {
    name: 'fixed size in tiny chunks: random edits agree with an array, also after reopen',
    async run(t) {
      let v = await t.open()
      const c = await v.columns.create('c', 'i32', { minChunkBytes: 4, maxChunkBytes: 12 })
      const ref = await agreesWithArray(c as unknown as Column, (r) => Math.floor(r() * 1e6), 1, 250)
      v = await t.reopen(v)
      equal(Array.from(await (await v.columns.get('c')).slice()), ref, 'after reopen')
    },
  },

  {
    name: 'variable size in tiny chunks: edits that shrink, keep or grow an element leave its neighbours intact',
    async run(t) {
      let v = await t.open()
      const c = await v.columns.create('c', 'str:utf8', { minChunkBytes: 8, maxChunkBytes: 32 })
      const ref = await agreesWithArray(c as unknown as Column, (r) => 'é'.repeat(Math.floor(r() * 4)) + 'x'.repeat(Math.floor(r() * 40)), 2, 250)
      v = await t.reopen(v)
      equal(await (await v.columns.get('c')).slice(), ref, 'after reopen')
    },
  },

  {
    name: 'thousands of variable-size elements in tiny chunks',
    async run(t) {
      const v = await t.open()
      const c = await v.columns.create('c', 'bytes', { minChunkBytes: 16, maxChunkBytes: 64 })
      const r = mulberry32(3)
      const vals = Array.from({ length: 5000 }, (_, i) => Uint8Array.from({ length: Math.floor(r() * 50) }, () => i & 0xff))
      await c.extend(vals)
      const doubled = vals.slice(0, 10).map((b) => Uint8Array.from([...b, ...b]))
      await c.setSlice(1000, 1010, doubled)
      vals.splice(1000, 10, ...doubled)
      equal(await c.slice(), vals, 'every element')
      equal(await c.slice(2500, 2600), vals.slice(2500, 2600), 'a slice')
    },
  },

  {
    name: 'chunks large enough for the blob store (fixed and variable size): edits split and rewrite them, also after reopen',
    async run(t) {
      let v = await t.open()
      // 64k i32 per 256 KiB chunk: full chunks go to the blob store.
      const f = await v.columns.create('f', 'i32', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
      const big = Int32Array.from({ length: 200_000 }, (_, i) => i)
      await f.extend(big)
      const ref = Array.from(big)
      await f.set(70_000, -1)
      ref[70_000] = -1
      await f.insert(65_536, -2) // into a full blob chunk: it splits
      ref.splice(65_536, 0, -2)
      await f.delete(5)
      ref.splice(5, 1)
      await f.setSlice(131_000, 131_100, new Int32Array(100).fill(-3))
      ref.splice(131_000, 100, ...new Array<number>(100).fill(-3))
      equal(Array.from(await f.slice()), ref, 'after the edits')
      const s = await v.columns.create('s', 'str:utf8', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
      const sref = await agreesWithArray(s as unknown as Column, (r) => 'y'.repeat(500 + Math.floor(r() * 3000)), 4, 150)
      v = await t.reopen(v)
      equal(Array.from(await (await v.columns.get('f')).slice()), ref, 'fixed size after reopen')
      equal(await (await v.columns.get('s')).slice(), sref, 'variable size after reopen')
      equal(await v.integrityCheck(), ['ok'], 'integrityCheck after reopen')
      await v.checkpoint()
      v = await t.reopen(v)
      const again = await v.columns.get<'i32'>('f')
      equal(Array.from(await again.slice()), ref, 'after a checkpoint and reopen')
      equal(Array.from(await again.slice(65_530, 65_540)), ref.slice(65_530, 65_540), 'a slice across the split')
      equal(await (await v.columns.get('s')).slice(), sref, 'variable size after a checkpoint and reopen')
      equal(await v.integrityCheck(), ['ok'], 'integrityCheck after a checkpoint and reopen')
    },
  },

  {
    name: 'a million f64 round-trip whole and in slices',
    async run(t) {
      let v = await t.open()
      const c = await v.columns.create('big', 'f64')
      const data = Float64Array.from({ length: 1_000_000 }, (_, i) => i * 0.5)
      await c.extend(data)
      equal(await c.length(), 1_000_000, 'length')
      equal(await c.slice(), data, 'the whole column')
      equal(await c.slice(524_280, 524_300), data.subarray(524_280, 524_300), 'a slice across chunks')
      await c.set(-1, -1)
      v = await t.reopen(v)
      const again = await v.columns.get<'f64'>('big')
      equal(await again.get(999_999), -1, 'the set element after reopen')
      equal(await again.get(123_456), 123_456 * 0.5, 'an element after reopen')
    },
  },

  {
    name: 'calls issued without awaiting apply in call order (also around blob-sized chunks)',
    async run(t) {
      const v = await t.open()
      const c = await v.columns.create('c', 'i32', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
      const block = (k: number) => new Int32Array(65_536).fill(k) // one full blob chunk each
      const pending = [c.extend(block(1)), c.append(2), c.extend(block(3)), c.set(0, 9), c.append(4)]
      const len = c.length()
      await Promise.all(pending)
      equal(await len, 65_536 * 2 + 2, 'length read after the unawaited writes')
      const all = await c.slice()
      equal([all[0], all[1], all[65_536], all[65_537], all[all.length - 1]], [9, 1, 2, 3, 4], 'values in call order')
    },
  },

  {
    name: 'create, ensure, get, has, list and delete; a deleted name is free for any dtype',
    async run(t) {
      const { AlreadyExistsError, InvalidArgumentError, NotFoundError } = t.lib
      const v = await t.open()
      await v.columns.create('a', 'f64')
      await rejects(v.columns.create('a', 'f64'), AlreadyExistsError, 'create of an existing name')
      await rejects(v.columns.get('missing'), NotFoundError, 'get of a missing column')
      const e = await v.columns.ensure('a', 'f64')
      await e.append(1)
      await rejects(v.columns.ensure('a', 'i32'), InvalidArgumentError, 'ensure with another dtype')
      const b = await v.columns.ensure('b', 'str:utf8')
      await b.extend(['x', 'y'])
      equal(await v.columns.has('b'), true, 'has')
      equal(
        await v.columns.list(),
        [
          { name: 'a', dtype: 'f64', length: 1 },
          { name: 'b', dtype: 'str:utf8', length: 2 },
        ],
        'list',
      )
      equal(await v.columns.delete('a'), true, 'delete')
      equal(await v.columns.delete('a'), false, 'delete again')
      equal(await v.columns.has('a'), false, 'has after delete')
      await rejects(v.columns.get('a'), NotFoundError, 'get after delete')
      const a2 = await v.columns.create('a', 'i32')
      equal(await a2.length(), 0, 'a new column under the deleted name is empty')
    },
  },

  {
    name: 'cbor columns: CBOR bytes any CBOR reader understands; keys kept exactly; what CBOR cannot hold is refused',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      const v = await t.open()
      const c = await v.columns.create('c', 'cbor')
      await c.append({ a: 1 })
      const raw = new Uint8Array(await (await c.toArrow()).get(0) as Uint8Array)
      equal(Array.from(raw), [0xa1, 0x61, 0x61, 0x01], 'the element is the standard CBOR map {"a": 1}')
      const tricky = JSON.parse('{"__proto__": {"x": 1}, "constructor": 2}') as Record<string, unknown>
      await c.append(tricky)
      const back = (await c.get(1)) as Record<string, unknown>
      equal(Object.keys(back), ['__proto__', 'constructor'], '__proto__ stays an own key')
      check(Object.getPrototypeOf(back) === Object.prototype, 'and never becomes the prototype')
      equal(await c.get(1), tricky, 'the value round-trips')
      class Point { x = 1 }
      await rejects(c.append(new Point()), InvalidArgumentError, 'a class instance')
      await rejects(c.append(() => 1), InvalidArgumentError, 'a function')
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      await rejects(c.append(cyclic), InvalidArgumentError, 'a cycle', /cycle/)
      const fixed = await v.columns.create('f', 'cbor:4')
      await rejects(fixed.append('too long for four'), InvalidArgumentError, 'a value over N bytes', /more than the 4/)
      equal(await c.length(), 2, 'the refused writes changed nothing')
      equal(await fixed.length(), 0, 'nor the fixed column')
    },
  },

  {
    name: 'unknown and malformed dtypes are refused',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      const v = await t.open()
      for (const d of ['f16', 'str', 'str:ebcdic', 'str:utf16', 'str:0', 'str:4:', 'str:4:utf8:x', 'bytes:0', 'bytes:-1', 'vec:f16:3', 'vec:f32:0', 'vec', 'vec:f32:2:x', 'msgpack:x', '', 'i32:4']) {
        await rejects(v.columns.create('x', d), InvalidArgumentError, JSON.stringify(d))
      }
      equal(await v.columns.list(), [], 'no column was created')
    },
  },

  {
    name: 'values a dtype cannot hold are refused by every write, and change nothing',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      const v = await t.open()
      const cases: [string, unknown[], unknown][] = [
        ['i32', [1, 2], 1.5],
        ['i32', [1, 2], 2 ** 31],
        ['i32', [1, 2], '3'],
        ['i64', [1n], 1.5],
        ['i64', [1n], 2n ** 64n],
        ['f64', [1], 'x'],
        ['bool', [true], 1],
        ['bytes:2', [new Uint8Array(2)], new Uint8Array(3)],
        ['bytes', [new Uint8Array(2)], 'not bytes'],
        ['str:ascii', ['ok'], 'café'],
        ['str:latin1', ['ok'], '€'],
        ['str:utf8', ['ok'], 5],
        ['msgpack', [{ a: 1 }], () => 1],
        ['msgpack:4', [1], 'much too long for four bytes'],
        ['json', [1], undefined],
        ['vec:f32:2', [new Float32Array(2)], new Float32Array(3)],
      ]
      for (const [i, [dtype, good, badValue]] of cases.entries()) {
        const c = await v.columns.create(`c${i}`, dtype)
        await c.extend(good)
        const before = plain(await c.slice())
        const what = `${dtype} with ${typeof badValue}`
        await rejects(c.append(badValue), InvalidArgumentError, `${what}: append`)
        await rejects(c.extend([good[0], badValue]), InvalidArgumentError, `${what}: extend`)
        await rejects(c.set(0, badValue), InvalidArgumentError, `${what}: set`)
        await rejects(c.insert(0, badValue), InvalidArgumentError, `${what}: insert`)
        await rejects(c.setSlice(0, 1, [badValue]), InvalidArgumentError, `${what}: setSlice`)
        await c.withCache({}, async () => {
          await rejects(c.append(badValue), InvalidArgumentError, `${what}: cached append`)
        })
        equal(plain(await c.slice()), before, `${what}: unchanged`)
      }
      const c = await v.columns.create('m', 'f64')
      await c.extend([1, 2, 3])
      await rejects(c.setSlice(0, 2, [9]), InvalidArgumentError, 'setSlice with too few values', /2 elements.*1 values/)
      await rejects(c.setSlice(2, 10, [9, 9, 9]), InvalidArgumentError, 'setSlice past the end (end is clamped)')
      await rejects(c.extend('abc' as never), InvalidArgumentError, 'extend with a string')
      equal(Array.from(await c.slice()), [1, 2, 3], 'unchanged')
    },
  },

  {
    name: 'a rolled back transaction leaves columns as they were; columns and key-value commit together',
    async run(t) {
      const v = await t.open()
      const c = await v.columns.create('c', 'str:utf8', { minChunkBytes: 16, maxChunkBytes: 64 })
      await c.extend(['a', 'b', 'c'])
      await rejects(
        v.transaction(async (tx) => {
          const inTx = await tx.columns.get('c')
          await inTx.append('d')
          await inTx.set(0, 'A')
          await inTx.delete(1)
          equal(await inTx.slice(), ['A', 'c', 'd'], 'the transaction sees its writes')
          await tx.columns.create('new', 'f64')
          await tx.kv().set('k', 1)
          throw new Error('boom')
        }),
        Error,
        'the transaction rejects with its callback error',
        /boom/,
      )
      equal(await c.slice(), ['a', 'b', 'c'], 'the column after the rollback')
      equal((await v.columns.list()).map((x) => x.name), ['c'], 'the created column is gone')
      equal(await v.kv().get('k'), undefined, 'the key-value write is gone')
      await v.transaction(async (tx) => {
        const inTx = await tx.columns.get('c')
        await inTx.withCache({}, async () => {
          for (const x of ['d', 'e']) await inTx.append(x)
        })
        const n = await tx.columns.create('n', 'i64')
        await n.extend([1n, 2n])
        await tx.kv().set('k', 2)
      })
      equal(await c.slice(), ['a', 'b', 'c', 'd', 'e'], 'the column after the commit')
      equal(Array.from(await (await v.columns.get('n')).slice()), [1n, 2n], 'the created column')
      equal(await v.kv().get('k'), 2, 'the key-value write')
    },
  },

  {
    name: 'the write cache: reads see buffered appends; they are written when the callback throws',
    async run(t) {
      let v = await t.open()
      const c = await v.columns.create('c', 'f64')
      await rejects(
        c.withCache({ flushThreshold: 1 << 20 }, async () => {
          for (let i = 0; i < 1000; i++) await c.append(i)
          equal(await c.length(), 1000, 'length sees the buffer')
          equal(await c.get(999), 999, 'a read sees the buffer')
          await c.extend(new Float64Array([1000, 1001]))
          await c.extend([1002])
          throw new Error('interrupted')
        }),
        Error,
        'the callback error comes through',
        /interrupted/,
      )
      equal(c.cacheEnabled, false, 'the cache is off after withCache')
      v = await t.reopen(v)
      const again = await v.columns.get<'f64'>('c')
      equal(await again.length(), 1003, 'length after reopen')
      equal(await again.get(-1), 1002, 'the last value')
    },
  },

  {
    name: 'the write cache: small thresholds flush in batches; inserts and deletes see buffered values',
    async run(t) {
      const v = await t.open()
      const c = await v.columns.create('c', 'str:utf8', { minChunkBytes: 32, maxChunkBytes: 128 })
      await c.withCache({ flushThreshold: 50 }, async () => {
        for (let i = 0; i < 100; i++) await c.append(`v${i}`)
        await c.insert(0, 'first')
        await c.append('last')
        await c.delete(1)
      })
      const all = await c.slice()
      equal(all.length, 101, 'length')
      equal([all[0], all[1], all[100]], ['first', 'v1', 'last'], 'values')
    },
  },

  {
    name: 'enableCache without a callback is flushed by vault.close()',
    async run(t) {
      let v = await t.open()
      const c = await v.columns.create('c', 'i32')
      c.enableCache({ flushThreshold: 1 << 30 })
      for (let i = 0; i < 500; i++) await c.append(i)
      v = await t.reopen(v)
      equal(await (await v.columns.get('c')).length(), 500, 'length after reopen')
    },
  },

  {
    name: 'the vault-level cache: withCache, enableCache and disableCache switch every column at once',
    async run(t) {
      let v = await t.open()
      const a = await v.columns.create('a', 'f64')
      const b = await v.columns.create('b', 'str:utf8')
      const out = await v.columns.withCache({ flushThreshold: 1 << 20 }, async () => {
        equal(v.columns.cacheEnabled, true, 'on inside withCache')
        equal([a.cacheEnabled, b.cacheEnabled], [true, true], 'every open column buffers')
        const c = await v.columns.create('c', 'i32') // opened inside: buffers too
        equal(c.cacheEnabled, true, 'a column created inside buffers')
        for (let i = 0; i < 100; i++) {
          await a.append(i)
          await b.append(`s${i}`)
          await c.append(i)
        }
        await a.withCache({}, async () => a.append(100)) // nested: shares the vault-level cache
        equal(a.cacheEnabled, true, 'a nested column withCache leaves the cache on')
        equal(await a.length(), 101, 'length counts buffered values')
        equal(await b.get(99), 's99', 'a read flushes and sees the buffer')
        await a.set(0, -1) // a structural change flushes first
        return 'done'
      })
      equal(out, 'done', 'withCache returns what the callback returns')
      equal([v.columns.cacheEnabled, a.cacheEnabled, b.cacheEnabled], [false, false, false], 'every cache is off after withCache')
      equal(await a.get(0), -1, 'the set after the flushed appends')
      await rejects(
        v.columns.withCache({}, async () => {
          await a.append(101)
          await (await v.columns.get('c')).append(100)
          throw new Error('stop')
        }),
        Error,
        'the callback error comes through',
        /stop/,
      )
      v.columns.enableCache({ flushThreshold: 1 << 30 })
      v.columns.enableCache({}) // already on: no-op
      const a2 = await v.columns.get<'f64'>('a')
      equal(a2.cacheEnabled, true, 'a handle got while the cache is on buffers')
      await a2.append(102)
      await v.columns.disableCache()
      equal([v.columns.cacheEnabled, a2.cacheEnabled], [false, false], 'disableCache turns every column off')
      v.columns.enableCache({ flushThreshold: 1 << 30 })
      await (await v.columns.get('b')).append('last')
      v = await t.reopen(v) // close() flushes what the vault-level cache holds
      equal(await (await v.columns.get('a')).length(), 103, 'a after reopen')
      equal(await (await v.columns.get('a')).get(-1), 102, 'the value appended before disableCache')
      equal(await (await v.columns.get('c')).length(), 101, 'c: the values buffered when the callback threw')
      equal(await (await v.columns.get('b')).get(-1), 'last', 'the value flushed by close()')
      equal(v.columns.cacheEnabled, false, 'a reopened vault starts without the cache')
    },
  },

  {
    name: 'toArrow gives vectors of the matching Arrow types',
    async run(t) {
      const v = await t.open()
      const f = await v.columns.create('f', 'f64')
      await f.extend([1, 2.5])
      const fa = await f.toArrow()
      equal(String(fa.type), 'Float64', 'f64 type')
      equal(fa.toArray(), new Float64Array([1, 2.5]), 'f64 values')
      const i = await v.columns.create('i', 'i64')
      await i.extend([5n])
      equal((await i.toArrow()).get(0), 5n, 'i64 value')
      const s = await v.columns.create('s', 'str:utf8')
      await s.extend(['a', 'bé', ''])
      const sa = await s.toArrow()
      equal(String(sa.type), 'Utf8', 'str type')
      equal([...sa], ['a', 'bé', ''], 'str values')
      const l = await v.columns.create('l', 'str:latin1')
      await l.extend(['ÿ'])
      equal([...(await l.toArrow())], ['ÿ'], 'latin1 values')
      const b = await v.columns.create('b', 'bool')
      await b.extend([true, false])
      equal([...(await b.toArrow())], [true, false], 'bool values')
      const vec = await v.columns.create('vec', 'vec:f32:2')
      await vec.extend([[1, 2], [3, 4]])
      equal(Array.from((await vec.toArrow()).get(1) as Iterable<number>), [3, 4], 'vector values')
      const bin = await v.columns.create('bin', 'bytes:2')
      await bin.extend([new Uint8Array([1, 2])])
      equal((await bin.toArrow()).get(0), new Uint8Array([1, 2]), 'bytes values')
      const j = await v.columns.create('j', 'json')
      await j.extend([{ a: 1 }])
      equal(JSON.parse((await j.toArrow()).get(0) as string), { a: 1 }, 'json values')
    },
  },
  ...columnPatchCases,
]
