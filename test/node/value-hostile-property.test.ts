/**
 * Values that must not change on the way in and out (docs/kv.md, "Values"), as a seeded property:
 * random values built from hostile corners — subclasses of Date, Map, Set, Array and typed arrays,
 * arrays with symbol, extra or non-enumerable properties, sparse arrays, objects with getters, null
 * prototypes, non-enumerable or symbol keys, boxed primitives, RegExp, Error, WeakMap, Proxy,
 * frozen objects, typed arrays over offset, shared or detached buffers, DataView, ArrayBuffer, a
 * Date, Map or Set with a key of its own, -0, NaN, bigint limits, lone surrogates, U+FEFF and
 * `__proto__` keys — nested in arrays, objects, Maps and Sets. Each is either stored and read back
 * deep-equal, prototypes included (after the documented changes: a hole reads back as an undefined
 * element, a null-prototype object as a plain object, an array's own string keys are not stored), or refused with
 * InvalidArgumentError and nothing written: through kv.set, kv.setMany (one refused value refuses
 * the whole call), a msgpack column's append and extend, and after the vault is reopened.
 *
 * LABVAULT_PROP_RUNS runs (default 3); a failure prints its seed, LABVAULT_PROP_SEED=<seed> replays it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidArgumentError, openVault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'
import { tempDir } from './helpers.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 3)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
const VALUES = 40

/** A value to store, and what it must read back as (REFUSED: InvalidArgumentError, nothing written). */
interface Case {
  value: unknown
  expected: unknown
}
const REFUSED = Symbol('refused')

class MyDate extends Date {}
class MyMap extends Map<unknown, unknown> {}
class MySet extends Set<unknown> {}
class MyArray extends Array {}
class MyBytes extends Uint8Array {}
class MyFloats extends Float64Array {}

const ok = (value: unknown, expected: unknown = value): Case => ({ value, expected })
const refused = (value: unknown): Case => ({ value, expected: REFUSED })

function detached(): Uint8Array {
  const bytes = new Uint8Array(4)
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] })
  return bytes
}

/** A leaf: a value from a hostile corner. */
function leaf(rand: () => number, tag: number): Case {
  const r = Math.floor(rand() * 46)
  switch (r) {
    case 0: return ok(-0)
    case 1: return ok(NaN)
    case 2: return ok(2n ** 64n * BigInt(tag + 1) - 1n)
    case 3: return ok(-(2n ** 63n))
    case 4: return ok('\uD800' + tag + '\uFEFF\uDFFF')
    case 5: return ok('')
    case 6: return ok(new Date(tag))
    case 7: return refused(new MyDate(tag))
    case 8: return refused(new MyMap([[tag, 1]]))
    case 9: return refused(new MySet([tag]))
    case 10: return refused(MyArray.from([tag]))
    case 11: return refused(new MyBytes([tag % 256]))
    case 12: return refused(new MyFloats([tag]))
    case 13: return refused(Object.assign([tag], { [Symbol('s')]: 1 }))
    // Documented: an array stores its elements; its other string keys are not looked for (a string
    // per element, more than encoding it costs) and are not stored.
    case 14: return ok(Object.assign(Object.defineProperty([tag], 'hidden', { value: 1 }), { extra: 'x' }), [tag])
    case 15: {
      // eslint-disable-next-line no-sparse-arrays
      const sparse = [tag, , -0]
      return ok(sparse, [tag, undefined, -0])
    }
    case 16: {
      const withGetter = { get g() { return tag }, plain: -0 }
      return ok(withGetter, { g: tag, plain: -0 })
    }
    case 17: {
      // Object.assign onto a null prototype: `__proto__` becomes an own key (no setter to call).
      const dict = Object.assign(Object.create(null) as Record<string, unknown>, { a: tag }, JSON.parse('{"__proto__": -1}'))
      return ok(dict, JSON.parse(`{"a": ${tag}, "__proto__": -1}`))
    }
    // Documented: a plain object stores its enumerable string keys; a non-enumerable property is
    // not stored (as structuredClone and JSON do; looking for one costs a second list of keys per
    // object, which made preparing an object-heavy value twice as slow).
    case 18: return ok(Object.defineProperty({ a: tag }, 'hidden', { value: 1, enumerable: false }), { a: tag })
    case 19: return refused({ a: tag, [Symbol('s')]: 1 })
    case 20: return refused(new Number(tag))
    case 21: return refused(new String('x'))
    case 22: return refused(Object(BigInt(tag)))
    case 23: return refused(new Boolean(false))
    case 24: return refused(/x/g)
    case 25: return refused(new Error('e' + tag))
    case 26: return refused(new WeakMap())
    case 27: return ok(new Proxy({ a: tag, b: [-0] }, {}), { a: tag, b: [-0] })
    case 28: return ok(Object.freeze({ a: Object.freeze([tag, -0]) }), { a: [tag, -0] })
    case 29: {
      const buffer = new ArrayBuffer(32)
      new Uint8Array(buffer).fill(7)
      return ok(new Float32Array(buffer, 8, 2), new Float32Array(new Uint8Array(buffer, 8, 8).slice().buffer))
    }
    case 30: return ok(new Uint8Array(new ArrayBuffer(16), 3, 5), new Uint8Array(5))
    case 31: return refused(new Int32Array(new SharedArrayBuffer(8)))
    case 32: return refused(detached())
    case 33: return refused(new DataView(new ArrayBuffer(4)))
    case 34: return refused(new ArrayBuffer(4))
    case 35: return refused(Object.assign(new Date(tag), { note: 'x' }))
    case 36: return refused(Object.assign(new Map(), { note: 'x' }))
    case 37: return refused(Object.assign(new Set(), { [Symbol('s')]: 1 }))
    case 38: return refused(Object.assign(new Float64Array([tag]), { [Symbol('s')]: 1 }))
    case 39: return ok(JSON.parse(`{"__proto__": {"x": ${tag}}, "\\uFEFF": -1}`))
    case 40: return refused(new Date(NaN))
    case 41: return refused(Object.create(Object.create(null)))
    case 42: return refused(Object.create({ inherited: tag }))
    case 43: return ok(new BigUint64Array([2n ** 64n - 1n, 0n]))
    case 44: return refused(Promise.resolve(tag))
    default: return ok({ a: undefined, b: [undefined, null] })
  }
}

/** A value of up to `depth` levels: leaves inside arrays, objects, Maps and Sets. */
function hostile(rand: () => number, tag: number, depth: number): Case {
  if (depth === 0 || rand() < 0.4) return leaf(rand, tag)
  const parts = Array.from({ length: 1 + Math.floor(rand() * 3) }, (_, i) => hostile(rand, tag * 3 + i, depth - 1))
  const bad = parts.some((p) => p.expected === REFUSED)
  const wrap = (value: unknown, expected: () => unknown): Case => ({ value, expected: bad ? REFUSED : expected() })
  switch (Math.floor(rand() * 4)) {
    case 0: return wrap(parts.map((p) => p.value), () => parts.map((p) => p.expected))
    case 1: {
      const keys = ['__proto__', '\uFEFF', 'k\uD800', 'constructor']
      const obj = (xs: unknown[]) => Object.fromEntries(xs.map((x, i) => [keys[i]!, x]))
      return wrap(obj(parts.map((p) => p.value)), () => obj(parts.map((p) => p.expected)))
    }
    // Distinct keys (a part must not replace another): -0, the part itself inside an object, a number.
    case 2: return wrap(new Map(parts.map((p, i) => [i === 0 ? -0 : i === 1 ? { key: p.value } : i, p.value])), () => new Map(parts.map((p, i) => [i === 0 ? 0 : i === 1 ? { key: p.expected } : i, p.expected])))
    default: return wrap(new Set(parts.map((p) => p.value)), () => new Set(parts.map((p) => p.expected)))
  }
}

function refusedError(err: unknown): boolean {
  return err instanceof InvalidArgumentError
}

for (let run = 0; run < RUNS; run++) {
  const seed = (SEED + run) | 0
  test(`hostile values round-trip exactly or are refused with nothing written (seed ${seed})`, async () => {
    const rand = mulberry32(seed)
    const cases = Array.from({ length: VALUES }, (_, i) => hostile(rand, i, 3))
    const path = tempDir('labvault-value-hostile-')
    let vault = await openVault('values', { storage: 'fs', path })
    try {
      const kv = vault.kv()
      let column = await vault.columns.create('m', 'msgpack')
      const stored: { key: string; expected: unknown }[] = []
      const inColumn: unknown[] = []
      for (let i = 0; i < cases.length; i++) {
        const { value, expected } = cases[i]!
        const key = `k${i}`
        const where = `seed ${seed}, value ${i}`
        if (expected === REFUSED) {
          await assert.rejects(async () => kv.set(key, value), refusedError, `${where}: kv.set`)
          // setMany: a good value beside the refused one is not written either.
          await assert.rejects(async () => kv.setMany([[`${key}-ok`, 1], [key, value]]), refusedError, `${where}: kv.setMany`)
          assert.equal(await kv.has(key), false, `${where}: nothing written`)
          assert.equal(await kv.has(`${key}-ok`), false, `${where}: nothing of setMany written`)
          await assert.rejects(async () => column.append(value), refusedError, `${where}: append`)
          await assert.rejects(async () => column.extend([1, value]), refusedError, `${where}: extend`)
          assert.equal(await column.length(), inColumn.length, `${where}: nothing appended`)
          continue
        }
        if (rand() < 0.5) await kv.set(key, value)
        else await kv.setMany([[key, value]])
        assert.deepStrictEqual(await kv.get(key), expected, `${where}: kv read back`)
        stored.push({ key, expected })
        await column.append(value)
        inColumn.push(expected)
        assert.deepStrictEqual(await column.get(-1), expected, `${where}: column read back`)
      }
      await vault.close()
      vault = await openVault('values', { storage: 'fs', path })
      column = await vault.columns.get('m')
      assert.deepStrictEqual(await column.slice(), inColumn, `seed ${seed}: column after reopen`)
      assert.equal(await vault.kv().size(), stored.length, `seed ${seed}: only the stored keys`)
      for (const { key, expected } of stored) assert.deepStrictEqual(await vault.kv().get(key), expected, `seed ${seed}: ${key} after reopen`)
    } catch (err) {
      console.error(`value-hostile-property failed: LABVAULT_PROP_SEED=${seed}`)
      throw err
    } finally {
      await vault.close()
    }
  })
}

test('a subclass instance, or a Date, Map, Set or object with properties that would be lost, is refused naming where it sits', async () => {
  const vault = await openVault('values-named', { storage: 'memory' })
  try {
    const kv = vault.kv()
    const cases: [unknown, RegExp][] = [
      [{ when: new MyDate(5) }, /^value\.when is an instance of MyDate/],
      [[new MyMap()], /^value\[0\] is an instance of MyMap/],
      [new Map([['k', new MySet()]]), /^value\.get\(k\) is an instance of MySet/],
      [{ list: MyArray.from([1]) }, /^value\.list is an instance of MyArray/],
      [new MyBytes(2), /^value is an instance of MyBytes/],
      [new DataView(new ArrayBuffer(2)), /^value is an instance of DataView/],
      [{ d: Object.assign(new Date(0), { note: 1 }) }, /^value\.d has symbol keys or extra properties/],
      [Object.assign(new Map(), { note: 1 }), /^value has/],
      [[Object.assign([1], { [Symbol('s')]: 1 })], /^value\[0\] has/],
    ]
    for (const [value, message] of cases) {
      await assert.rejects(async () => kv.set('k', value), (e: Error) => e instanceof InvalidArgumentError && message.test(e.message), String(message))
    }
    assert.equal(await kv.size(), 0)
    // A Map keyed by an object without a prototype: naming its value's place threw a TypeError (String(key)).
    const byDict = new Map<unknown, unknown>([[Object.assign(Object.create(null) as object, { id: 1 }), 'run'], ['n', 2]])
    await kv.set('k', byDict)
    assert.deepStrictEqual(await kv.get('k'), new Map<unknown, unknown>([[{ id: 1 }, 'run'], ['n', 2]]))
    await assert.rejects(async () => kv.set('bad', new Map([[Object.create(null) as object, () => 1]])), (e: Error) => e instanceof InvalidArgumentError && /^value\.get\(…\) is a function/.test(e.message))
  } finally {
    await vault.close()
  }
})

test("encoding 'json' refuses an Array subclass and a toJSON method (it read back as an Array, or as whatever toJSON gave)", async () => {
  class Tagged extends Array {
    toJSON(): unknown {
      return 'something else'
    }
  }
  const vault = await openVault('values-json', { storage: 'memory' })
  try {
    const kv = vault.kv()
    await assert.rejects(async () => kv.set('j', { list: Tagged.from([1]) }, { encoding: 'json' }), (e: Error) => e instanceof InvalidArgumentError && /^value\.list is a Tagged/.test(e.message))
    await assert.rejects(async () => kv.set('j', [MyArray.from([1])], { encoding: 'json' }), (e: Error) => e instanceof InvalidArgumentError && /^value\[0\] is a MyArray/.test(e.message))
    await assert.rejects(async () => kv.set('j', Object.assign([1], { [Symbol('s')]: 1 }), { encoding: 'json' }), InvalidArgumentError)
    // An array's own toJSON: JSON.stringify stored what it returned.
    await assert.rejects(async () => kv.set('j', { a: Object.assign([1], { toJSON: () => 'x' }) }, { encoding: 'json' }), (e: Error) => e instanceof InvalidArgumentError && /^value\.a is a value with a toJSON method/.test(e.message))
    assert.equal(await kv.has('j'), false)
    await kv.set('j', [[1], { a: [2] }], { encoding: 'json' })
    assert.deepStrictEqual(await kv.get('j'), [[1], { a: [2] }])
  } finally {
    await vault.close()
  }
})

test('a cbor column refuses what it would read back as another class or without some of its properties', async () => {
  const vault = await openVault('values-cbor', { storage: 'memory' })
  try {
    const column = await vault.columns.create('c', 'cbor')
    const refusedValues = [
      new MyDate(1), new MyMap([[1, 2]]), new MySet([1]), MyArray.from([1]), new MyBytes(2), Buffer.from([1]),
      Object.defineProperty({ a: 1 }, 'hidden', { value: 1 }), { a: 1, [Symbol('s')]: 2 }, Object.assign(new Date(1), { note: 1 }),
      [Object.assign(new Map(), { note: 1 })], { nested: [Object.assign([1], { [Symbol('s')]: 1 })] },
    ]
    for (const value of refusedValues) await assert.rejects(column.append(value), InvalidArgumentError, String(value))
    assert.equal(await column.length(), 0)
    const fine = [new Date(1), new Map([[1, 2]]), new Set([1]), [1, [2]], new Float64Array([1.5]), { a: { b: [1] } }]
    await column.extend(fine)
    assert.deepStrictEqual(await column.slice(), fine)
  } finally {
    await vault.close()
  }
})
