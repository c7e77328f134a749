import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, openVault, type Column, type Vault } from '../../src/node.js'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { mulberry32 as rng } from '../support/prng.js'
import { tempDir } from './helpers.js'

const dir = tempDir()
let counter = 0
async function fresh(durability: 'strict' | 'relaxed' = 'strict'): Promise<Vault> {
  return openVault(`col${++counter}`, { storage: 'fs', path: dir, durability })
}
async function reopen(v: Vault): Promise<Vault> {
  await v.close()
  return openVault(v.name, { storage: 'fs', path: dir })
}


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
  ['msgpack', [{ a: 1, b: [1, 2, { c: 'x' }] }, null, 'str', 42, [new Date(5)], new Map([[1, 2]])]],
  ['msgpack:32', [{ a: 1 }, 0, [0, 0], null, 'padded']],
  ['json', [{ a: 1, b: [true, null] }, 'text', 3.5, null, []]],
  ['vec:f32:3', [new Float32Array([1, 2, 3]), new Float32Array([-1, 0.5, 0])]],
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

describe('columns: dtypes', () => {
  test('every dtype round-trips through get, slice and a reopen', async () => {
    let v = await fresh()
    for (const [dtype, values] of dtypeCases) {
      const c = await v.columns.create(dtype.replaceAll(':', '_'), dtype)
      await c.extend(values)
      for (let i = 0; i < values.length; i++) assert.deepEqual(await c.get(i), expected(dtype, values[i]), `${dtype}[${i}]`)
      await c.append(values[0])
    }
    v = await reopen(v)
    for (const [dtype, values] of dtypeCases) {
      const c = await v.columns.get(dtype.replaceAll(':', '_'))
      assert.equal(c.dtype, dtype)
      const all = plain(await c.slice())
      assert.deepEqual(all, [...values, values[0]].map((x) => expected(dtype, x)), dtype)
    }
    const list = await v.columns.list()
    assert.deepEqual(
      list.map((c) => [c.dtype, c.length]),
      dtypeCases.map(([d, vals]) => [d, vals.length + 1]).sort((a, b) => String(a[0]).replaceAll(':', '_').localeCompare(String(b[0]).replaceAll(':', '_'))),
    )
    await v.close()
  })

  test('numeric slices are typed arrays; typed arrays extend in one piece', async () => {
    const v = await fresh()
    const f = await v.columns.create('f', 'f64')
    await f.extend(new Float64Array([1, 2, 3]))
    await f.extend(new Float32Array([4.5])) // converted
    await f.extend([5, 6])
    const s = await f.slice()
    assert.ok(s instanceof Float64Array)
    assert.deepEqual(Array.from(s), [1, 2, 3, 4.5, 5, 6])
    const i = await v.columns.create('i', 'i64')
    await i.extend(new BigInt64Array([1n, -2n]))
    await i.append(3) // a safe integer number is accepted
    const si = await i.slice()
    assert.ok(si instanceof BigInt64Array)
    assert.deepEqual(Array.from(si), [1n, -2n, 3n])
    const n = await v.columns.create('n', 'i32')
    await n.extend(new Int16Array([-5, 7]))
    assert.ok((await n.slice()) instanceof Int32Array)
    const vec = await v.columns.create('vec', 'vec:f32:2')
    await vec.extend([[1, 2], new Float32Array([3, 4])])
    const vs = await vec.slice()
    assert.ok(vs[1] instanceof Float32Array)
    assert.deepEqual(Array.from(vs[0]!), [1, 2])
    await v.close()
  })

  test('str:N never cuts a character and strips its padding; utf16le keeps surrogate pairs whole', async () => {
    const v = await fresh()
    const c = await v.columns.create('s', 'str:5:utf8')
    await c.extend(['aé€', 'ab🎉', 'abcdefg'])
    assert.deepEqual(await c.slice(), ['aé', 'ab', 'abcde'])
    const u = await v.columns.create('u', 'str:6:utf16le')
    await u.extend(['ab🎉', 'a🎉'])
    assert.deepEqual(await u.slice(), ['ab', 'a🎉'])
    await v.close()
  })
})

describe('columns: list semantics', () => {
  test('slice follows Array.prototype.slice for every start/end', async () => {
    const v = await fresh()
    const c = await v.columns.create('c', 'i32', { minChunkBytes: 8, maxChunkBytes: 16 })
    const ref = Array.from({ length: 23 }, (_, i) => i * 3)
    await c.extend(ref)
    const bounds = [undefined, -30, -23, -5, -1, 0, 1, 4, 11, 22, 23, 40]
    for (const s of bounds) {
      for (const e of bounds) {
        assert.deepEqual(Array.from(await c.slice(s as number, e)), ref.slice(s, e), `slice(${s}, ${e})`)
      }
    }
    await v.close()
  })

  test('get/set/insert/delete with negative indices; out of range is a RangeError', async () => {
    const v = await fresh()
    const c = await v.columns.create('c', 'str:utf8')
    await c.extend(['a', 'b', 'c'])
    assert.equal(await c.get(-1), 'c')
    assert.equal(await c.get(-3), 'a')
    await c.set(-1, 'C')
    await c.insert(-1, 'x') // before the last, like Python's list.insert
    await c.insert(0, 'first')
    await c.insert(5, 'end') // insert at length appends
    assert.deepEqual(await c.slice(), ['first', 'a', 'b', 'x', 'C', 'end'])
    await c.delete(-2)
    await c.delete(0)
    assert.deepEqual(await c.slice(), ['a', 'b', 'x', 'end'])
    for (const bad of [4, -5, 100]) {
      await assert.rejects(c.get(bad), RangeError, `get(${bad})`)
      await assert.rejects(c.set(bad, 'z'), RangeError)
      await assert.rejects(c.delete(bad), RangeError)
    }
    await assert.rejects(c.insert(5, 'z'), RangeError)
    await assert.rejects(c.get(1.5), InvalidArgumentError)
    assert.deepEqual(await c.slice(), ['a', 'b', 'x', 'end'])
    await c.clear()
    assert.equal(await c.length(), 0)
    await assert.rejects(c.get(0), RangeError)
    await c.append('again')
    assert.deepEqual(await c.slice(), ['again'])
    await v.close()
  })

  test('async iteration streams every element in batches', async () => {
    const v = await fresh()
    const c = await v.columns.create('c', 'i32', { minChunkBytes: 64, maxChunkBytes: 256 })
    await c.extend(Int32Array.from({ length: 1000 }, (_, i) => i))
    const seen: number[] = []
    for await (const x of c) seen.push(x)
    assert.deepEqual(seen, Array.from({ length: 1000 }, (_, i) => i))
    const sizes: number[] = []
    for await (const b of c.batches({ batchSize: 300 })) sizes.push(b.length)
    assert.deepEqual(sizes, [300, 300, 300, 100])
    const s = await v.columns.create('s', 'str:ascii')
    await s.extend(['x', 'y', 'z'])
    const got: string[] = []
    for await (const x of s.iterate({ batchSize: 2, start: 1 })) got.push(x)
    assert.deepEqual(got, ['y', 'z'])
    await v.close()
  })
})

/** Apply random operations to a column and to a plain array; they must agree throughout. */
async function modelTest<D extends string>(col: Column<D>, gen: (r: () => number) => unknown, seed: number, ops: number, norm: (x: unknown) => unknown = (x) => x): Promise<unknown[]> {
  const c = col as unknown as Column
  const r = rng(seed)
  const ref: unknown[] = []
  const initial = Array.from({ length: 200 }, () => gen(r))
  await c.extend(initial)
  ref.push(...initial)
  for (let k = 0; k < ops; k++) {
    const op = r()
    const n = ref.length
    if (op < 0.2 || n === 0) {
      const vals = Array.from({ length: 1 + Math.floor(r() * 30) }, () => gen(r))
      await c.extend(vals)
      ref.push(...vals)
    } else if (op < 0.4) {
      const i = Math.floor(r() * n)
      const val = gen(r)
      await c.set(i, val)
      ref[i] = val
    } else if (op < 0.55) {
      const i = Math.floor(r() * (n + 1))
      const val = gen(r)
      await c.insert(i, val)
      ref.splice(i, 0, val)
    } else if (op < 0.7) {
      const i = Math.floor(r() * n)
      await c.delete(i)
      ref.splice(i, 1)
    } else if (op < 0.85) {
      const s = Math.floor(r() * n)
      const e = Math.min(n, s + Math.floor(r() * 40))
      const vals = Array.from({ length: e - s }, () => gen(r))
      await c.setSlice(s, e, vals)
      ref.splice(s, e - s, ...vals)
    } else {
      const s = Math.floor(r() * n)
      const e = s + Math.floor(r() * 60)
      assert.deepEqual(Array.from(await c.slice(s, e) as ArrayLike<unknown>).map(norm), ref.slice(s, e).map(norm), `slice after op ${k}`)
    }
  }
  assert.equal(await c.length(), ref.length)
  assert.deepEqual(Array.from(await c.slice() as ArrayLike<unknown>).map(norm), ref.map(norm))
  return ref
}

describe('columns: chunked storage', () => {
  test('fixed size, tiny chunks: random edits agree with an array, also after reopen', async () => {
    let v = await fresh('relaxed')
    const c = await v.columns.create('c', 'i32', { minChunkBytes: 4, maxChunkBytes: 12 })
    const ref = await modelTest(c, (r) => Math.floor(r() * 1e6), 1, 400)
    v = await reopen(v)
    assert.deepEqual(Array.from(await (await v.columns.get('c')).slice()), ref)
    await v.close()
  })

  test('variable size, tiny chunks: updates that shrink, keep or grow leave every neighbour intact', async () => {
    let v = await fresh('relaxed')
    const c = await v.columns.create('c', 'str:utf8', { minChunkBytes: 8, maxChunkBytes: 32 })
    const ref = await modelTest(c, (r) => 'é'.repeat(Math.floor(r() * 4)) + 'x'.repeat(Math.floor(r() * 40)), 2, 400)
    v = await reopen(v)
    assert.deepEqual(await (await v.columns.get('c')).slice(), ref)
    await v.close()
  })

  test('thousands of variable-size elements in tiny chunks', async () => {
    const v = await fresh()
    const c = await v.columns.create('c', 'bytes', { minChunkBytes: 16, maxChunkBytes: 64 })
    const r = rng(3)
    const vals = Array.from({ length: 5000 }, (_, i) => Uint8Array.from({ length: Math.floor(r() * 50) }, () => i & 0xff))
    await c.extend(vals)
    await c.setSlice(1000, 1010, vals.slice(0, 10).map((b) => Uint8Array.from([...b, ...b])))
    vals.splice(1000, 10, ...vals.slice(0, 10).map((b) => Uint8Array.from([...b, ...b])))
    assert.deepEqual(await c.slice(), vals)
    assert.deepEqual(await c.slice(2500, 2600), vals.slice(2500, 2600))
    await v.close()
  })

  test('blob-stored chunks (fixed and variable size): random edits agree with an array, also after reopen', async () => {
    let v = await fresh('relaxed')
    // 64k i32 per 256 KiB chunk: full chunks go to the blob store.
    const f = await v.columns.create('f', 'i32', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
    const big = Int32Array.from({ length: 200_000 }, (_, i) => i)
    await f.extend(big)
    const fref = Array.from(big)
    await f.set(70_000, -1)
    fref[70_000] = -1
    await f.insert(65_536, -2) // into a full blob chunk: it splits
    fref.splice(65_536, 0, -2)
    await f.delete(5)
    fref.splice(5, 1)
    await f.setSlice(131_000, 131_100, new Int32Array(100).fill(-3))
    fref.splice(131_000, 100, ...new Array(100).fill(-3))
    assert.deepEqual(Array.from(await f.slice()), fref)
    const s = await v.columns.create('s', 'str:utf8', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
    const sref = await modelTest(s, (r) => 'y'.repeat(500 + Math.floor(r() * 3000)), 4, 150)
    v = await reopen(v)
    assert.deepEqual(Array.from(await (await v.columns.get('f')).slice()), fref)
    assert.deepEqual(await (await v.columns.get('s')).slice(), sref)
    const hashes = await v.integrityCheck()
    assert.deepEqual(hashes, ['ok'])
    await v.close()
  })

  test('10M f64: extend, read back whole and in slices, reopen', async () => {
    let v = await fresh()
    const c = await v.columns.create('big', 'f64')
    const data = new Float64Array(10_000_000)
    for (let i = 0; i < data.length; i++) data[i] = i * 0.5
    await c.extend(data)
    assert.equal(await c.length(), 10_000_000)
    const back = await c.slice()
    assert.equal(back.length, data.length)
    assert.ok(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(data.buffer)))
    assert.deepEqual(Array.from(await c.slice(4_194_300, 4_194_310)), Array.from(data.subarray(4_194_300, 4_194_310)))
    await c.set(-1, -1)
    v = await reopen(v)
    const c2 = await v.columns.get<'f64'>('big')
    assert.equal(await c2.get(9_999_999), -1)
    assert.equal(await c2.get(1234567), 1234567 * 0.5)
    const again = await c2.slice(0, 5_000_000)
    assert.ok(Buffer.from(again.buffer, again.byteOffset, again.byteLength).equals(Buffer.from(data.buffer, 0, 40_000_000)))
    await v.close()
  })

  test('an element update logs only the changed bytes, not its chunk', async () => {
    const v = await fresh()
    const c = await v.columns.create('c', 'i32', { minChunkBytes: 200 * 1024, maxChunkBytes: 200 * 1024 })
    await c.extend(new Int32Array(40_000)) // one inline chunk of 160 KB
    const logBytes = () => readdirSync(join(dir, v.name)).filter((f) => f.endsWith('.log')).reduce((n, f) => n + statSync(join(dir, v.name, f)).size, 0)
    const before = logBytes()
    for (let i = 0; i < 20; i++) await c.set(i * 1000, i)
    await c.append(7)
    await c.insert(100, 5)
    await c.delete(200)
    await c.setSlice(300, 310, new Int32Array(10))
    const grown = logBytes() - before
    assert.ok(grown < 20_000, `log grew ${grown} bytes for 23 element changes`)
    await v.close()
  })
})

describe('columns: ordering and blobs', () => {
  test('calls issued without awaiting apply in call order (also around blob puts)', async () => {
    const v = await fresh()
    const c = await v.columns.create('c', 'i32', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
    const block = (k: number) => new Int32Array(65_536).fill(k) // one full blob chunk each
    const pending = [c.extend(block(1)), c.append(2), c.extend(block(3)), c.set(0, 9), c.append(4)]
    const len = c.length()
    await Promise.all(pending)
    assert.equal(await len, 65_536 * 2 + 2)
    const all = await c.slice()
    assert.deepEqual([all[0], all[1], all[65_536], all[65_537], all[all.length - 1]], [9, 1, 2, 3, 4])
    await v.close()
  })

  test('a checkpoint keeps the blobs of live chunks and drops replaced ones', async () => {
    let v = await fresh()
    const c = await v.columns.create('c', 'f64', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
    await c.extend(Float64Array.from({ length: 32_768 * 3 }, (_, i) => i))
    const blobFiles = () => readdirSync(join(dir, v.name, 'blobs'), { recursive: true }).filter((f) => String(f).length > 40).length
    assert.equal(blobFiles(), 3)
    await c.set(5, -5) // rewrites chunk 0 as a new blob
    await v.checkpoint()
    assert.equal(blobFiles(), 3)
    v = await reopen(v)
    const again = await v.columns.get<'f64'>('c')
    assert.equal(await again.get(5), -5)
    assert.equal(await again.get(-1), 32_768 * 3 - 1)
    await v.columns.delete('c')
    await v.checkpoint()
    assert.equal(blobFiles(), 0)
    await v.close()
  })
})

describe('columns: vault level', () => {
  test('create, ensure, get, list, delete', async () => {
    const v = await fresh()
    await v.columns.create('a', 'f64')
    await assert.rejects(v.columns.create('a', 'f64'), AlreadyExistsError)
    await assert.rejects(v.columns.get('missing'), NotFoundError)
    const e = await v.columns.ensure('a', 'f64')
    await e.append(1)
    await assert.rejects(v.columns.ensure('a', 'i32'), InvalidArgumentError)
    const b = await v.columns.ensure('b', 'str:utf8')
    await b.extend(['x', 'y'])
    assert.deepEqual(await v.columns.list(), [
      { name: 'a', dtype: 'f64', length: 1 },
      { name: 'b', dtype: 'str:utf8', length: 2 },
    ])
    assert.equal(await v.columns.delete('a'), true)
    assert.equal(await v.columns.delete('a'), false)
    await assert.rejects(v.columns.get('a'), NotFoundError)
    // The name is free again, for any dtype.
    const a2 = await v.columns.create('a', 'i32')
    assert.equal(await a2.length(), 0)
    await v.close()
  })

  test('unknown and malformed dtypes are refused', async () => {
    const v = await fresh()
    for (const d of ['f16', 'str', 'str:ebcdic', 'bytes:0', 'bytes:-1', 'vec:f64:3', 'vec:f32', 'msgpack:x', '', 'i32:4']) {
      await assert.rejects(v.columns.create('x', d), InvalidArgumentError, d)
    }
    assert.deepEqual(await v.columns.list(), [])
    await v.close()
  })
})

describe('columns: errors change nothing', () => {
  test('wrong types, too long values, non-ASCII, length mismatch', async () => {
    const v = await fresh()
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
    for (const [dtype, good, badValue] of cases) {
      const c = await v.columns.create(`c${counter++}`, dtype)
      await c.extend(good)
      const before = plain(await c.slice())
      await assert.rejects(c.append(badValue), InvalidArgumentError, `${dtype} append ${String(badValue)}`)
      await assert.rejects(c.extend([good[0], badValue]), InvalidArgumentError, `${dtype} extend`)
      await assert.rejects(c.set(0, badValue), InvalidArgumentError, `${dtype} set`)
      await assert.rejects(c.insert(0, badValue), InvalidArgumentError, `${dtype} insert`)
      await assert.rejects(c.setSlice(0, 1, [badValue]), InvalidArgumentError, `${dtype} setSlice`)
      await c.withCache({}, async () => {
        await assert.rejects(c.append(badValue), InvalidArgumentError, `${dtype} cached append`)
      })
      assert.deepEqual(plain(await c.slice()), before, dtype)
    }
    const c = await v.columns.create('m', 'f64')
    await c.extend([1, 2, 3])
    await assert.rejects(c.setSlice(0, 2, [9]), (err: Error) => err instanceof InvalidArgumentError && /2 elements.*1 values/.test(err.message))
    await assert.rejects(c.setSlice(2, 10, [9, 9, 9]), InvalidArgumentError) // end is clamped to the length
    await assert.rejects(c.extend('abc' as never), InvalidArgumentError)
    assert.deepEqual(Array.from(await c.slice()), [1, 2, 3])
    await v.close()
  })
})

describe('columns: transactions', () => {
  test('a rolled back transaction leaves columns (and the engine cache) as they were', async () => {
    const v = await fresh()
    const c = await v.columns.create('c', 'str:utf8', { minChunkBytes: 16, maxChunkBytes: 64 })
    await c.extend(['a', 'b', 'c'])
    await assert.rejects(
      v.transaction(async (tx) => {
        const t = await tx.columns.get('c')
        await t.append('d')
        await t.set(0, 'A')
        await t.delete(1)
        assert.deepEqual(await t.slice(), ['A', 'c', 'd'])
        await tx.columns.create('new', 'f64')
        throw new Error('boom')
      }),
      /boom/,
    )
    assert.deepEqual(await c.slice(), ['a', 'b', 'c'])
    assert.deepEqual((await v.columns.list()).map((x) => x.name), ['c'])
    await v.transaction(async (tx) => {
      const t = await tx.columns.get('c')
      await t.withCache({}, async () => {
        for (const x of ['d', 'e']) await t.append(x)
      })
      const n = await tx.columns.create('n', 'i64')
      await n.extend([1n, 2n])
    })
    assert.deepEqual(await c.slice(), ['a', 'b', 'c', 'd', 'e'])
    assert.deepEqual(Array.from(await (await v.columns.get('n')).slice()), [1n, 2n])
    await v.close()
  })

  test('columns and key-value commit together', async () => {
    const v = await fresh()
    const c = await v.columns.create('c', 'f64')
    await assert.rejects(
      v.transaction(async (tx) => {
        await (await tx.columns.get('c')).extend([1, 2])
        await tx.kv().set('k', 1)
        throw new Error('no')
      }),
    )
    assert.equal(await c.length(), 0)
    assert.equal(await v.kv().get('k'), undefined)
    await v.close()
  })
})

describe('columns: write cache', () => {
  test('appends are buffered; length and reads see them; written when the callback throws', async () => {
    let v = await fresh()
    const c = await v.columns.create('c', 'f64')
    await assert.rejects(
      c.withCache({ flushThreshold: 1 << 20 }, async () => {
        for (let i = 0; i < 1000; i++) await c.append(i)
        assert.equal(await c.length(), 1000)
        assert.equal(await c.get(999), 999) // a read flushes first
        await c.extend(new Float64Array([1000, 1001]))
        await c.extend([1002])
        throw new Error('interrupted')
      }),
      /interrupted/,
    )
    assert.equal(c.cacheEnabled, false)
    v = await reopen(v)
    const again = await v.columns.get<'f64'>('c')
    assert.equal(await again.length(), 1003)
    assert.equal(await again.get(-1), 1002)
    await v.close()
  })

  test('small thresholds flush in batches; structural changes see buffered values', async () => {
    const v = await fresh()
    const c = await v.columns.create('c', 'str:utf8', { minChunkBytes: 32, maxChunkBytes: 128 })
    await c.withCache({ flushThreshold: 50 }, async () => {
      for (let i = 0; i < 100; i++) await c.append(`v${i}`)
      await c.insert(0, 'first')
      await c.append('last')
      await c.delete(1)
    })
    const all = await c.slice()
    assert.equal(all.length, 101)
    assert.deepEqual([all[0], all[1], all[100]], ['first', 'v1', 'last'])
    await v.close()
  })

  test('enableCache without a callback is flushed by vault.close()', async () => {
    let v = await fresh()
    const c = await v.columns.create('c', 'i32')
    c.enableCache({ flushThreshold: 1 << 30 })
    for (let i = 0; i < 500; i++) await c.append(i)
    v = await reopen(v)
    assert.equal(await (await v.columns.get('c')).length(), 500)
    await v.close()
  })
})

describe('columns: Arrow', () => {
  test('toArrow gives vectors of the matching Arrow types', async () => {
    const v = await fresh()
    const f = await v.columns.create('f', 'f64')
    await f.extend([1, 2.5])
    const fa = await f.toArrow()
    assert.equal(String(fa.type), 'Float64')
    assert.deepEqual(fa.toArray(), new Float64Array([1, 2.5]))
    const i = await v.columns.create('i', 'i64')
    await i.extend([5n])
    assert.equal((await i.toArrow()).get(0), 5n)
    const s = await v.columns.create('s', 'str:utf8')
    await s.extend(['a', 'bé', ''])
    const sa = await s.toArrow()
    assert.equal(String(sa.type), 'Utf8')
    assert.deepEqual([...sa], ['a', 'bé', ''])
    const l = await v.columns.create('l', 'str:latin1')
    await l.extend(['ÿ'])
    assert.deepEqual([...(await l.toArrow())], ['ÿ'])
    const b = await v.columns.create('b', 'bool')
    await b.extend([true, false])
    assert.deepEqual([...(await b.toArrow())], [true, false])
    const vec = await v.columns.create('vec', 'vec:f32:2')
    await vec.extend([[1, 2], [3, 4]])
    const va = await vec.toArrow()
    assert.deepEqual(Array.from(va.get(1) as Iterable<number>), [3, 4])
    const bin = await v.columns.create('bin', 'bytes:2')
    await bin.extend([new Uint8Array([1, 2])])
    assert.deepEqual((await bin.toArrow()).get(0), new Uint8Array([1, 2]))
    const j = await v.columns.create('j', 'json')
    await j.extend([{ a: 1 }])
    assert.deepEqual(JSON.parse((await j.toArrow()).get(0) as string), { a: 1 })
    await v.close()
  })
})
