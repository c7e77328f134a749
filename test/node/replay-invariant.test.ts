import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError, openVault, type Vault } from '../../src/node.js'
import { MAX_KEY_BYTES, MAX_VALUE_DEPTH, isWellFormed, utf8Length } from '../../src/codec/checks.js'
import { tempDir } from './helpers.js'

/**
 * The invariant of issue 8, tested by generation: after any sequence of operations on key-value
 * namespaces, typed columns and item lists — with keys, names and values from the hostile corners
 * (lone surrogates, NUL, `__proto__`, empty and huge, deep nesting, typed-array views with an
 * offset, -0, NaN, big bigints, Map/Set/Date) — the vault returns
 *   1. what a simple in-memory model of the operations says (refusals included: a key or name with
 *      a lone surrogate, a key over the size limit, a value nested too deep → InvalidArgumentError
 *      and nothing written),
 *   2. the same after close + reopen (log replay),
 *   3. the same after checkpoint + close + reopen (image).
 *
 * Budget: LABVAULT_PROP_RUNS runs (default 150, a few seconds) on memory storage, and a sixth of
 * that on fs storage (a temporary folder); sequences of up to 40 operations.
 * A failure prints its seed; LABVAULT_PROP_SEED=<seed> replays it (fast-check also prints the path
 * of the shrunk counterexample).
 */

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 150)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
const dir = tempDir()

// ---------------------------------------------------------------------------------------------
// Hostile building blocks

const hostileChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'é', '\0', '😀', ' ', '\u{10FFFF}', '\uFFFD', '\uD7FF', '\uE000', '\uFEFF') },
  { weight: 2, arbitrary: fc.constantFrom('\uD800', '\uDC00', '\uDBFF', '\uDFFF') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)
const hostileString = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: hostileChar, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', '', 'x😀'.slice(0, -1), 'hasOwnProperty', '\uFEFF', '\uFEFFa', 'a') },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((n) => ['a'.repeat(70_000), '\uD800'.repeat(9), 'é'.repeat(40_000), 'z'.repeat(300)][n]!) },
)
const wellFormedString = hostileString.filter(isWellFormed)

/** A Uint8Array, sometimes a view into a larger buffer (byteOffset ≠ 0), sometimes large. */
const bytesArb = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.nat(8)).map(([a, k]) => a.subarray(Math.min(k, a.length))) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 300 * 1024).chain((n) => fc.integer({ min: 0, max: 255 }).map((b) => new Uint8Array(n).fill(b))) },
)

const typedArb = fc.oneof(
  fc.float32Array({ maxLength: 6 }),
  fc.float64Array({ maxLength: 6 }).map((a) => (a.length > 1 ? a.subarray(1) : a)),
  fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 6 }).map((a) => new Int16Array(a)),
  fc.bigInt64Array({ maxLength: 4 }),
  fc.array(fc.nat(255), { maxLength: 8 }).map((a) => new Uint8ClampedArray(a)),
)

const numberArb = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31), 5e-324))
const bigArb = fc.oneof(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), fc.constantFrom(2n ** 64n, -(2n ** 63n), 2n ** 63n - 1n, 0n))
const dateArb = fc.date({ noInvalidDate: true, min: new Date(-8.64e15), max: new Date(8.64e15) })

const leaf = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 3, arbitrary: numberArb },
  { weight: 1, arbitrary: bigArb },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false) },
  { weight: 1, arbitrary: bytesArb },
  { weight: 1, arbitrary: typedArb },
  { weight: 1, arbitrary: dateArb },
)

/** An object built with defineProperty, so keys such as `__proto__` are own keys (as JSON.parse makes them). */
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
  return out
}

const { value: nestedValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.array(fc.tuple(hostileString, tie('value')), { maxLength: 4 }).map(objectOf) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(hostileString, numberArb, fc.constant(null)), tie('value')), { maxLength: 3 }).map((e) => new Map(e)) },
    { weight: 1, arbitrary: fc.array(fc.oneof(hostileString, numberArb, bigArb), { maxLength: 4 }).map((a) => new Set(a)) },
  ),
}))

/** Nesting around the refusal limit: arrays and objects inside one another, n levels. */
const deepValue = fc.integer({ min: MAX_VALUE_DEPTH - 2, max: MAX_VALUE_DEPTH + 2 }).map((n) => {
  let v: unknown = 'bottom'
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { d: v }
  return v
})

const valueArb = fc.oneof({ weight: 12, arbitrary: nestedValue }, { weight: 1, arbitrary: deepValue })

const keyArb = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: bytesArb.filter((b) => b.length < 100) },
  { weight: 1, arbitrary: fc.constantFrom(MAX_KEY_BYTES, MAX_KEY_BYTES + 1).map((n) => 'k'.repeat(n)) },
)
const namespaceArb = fc.constantFrom('default', 'n\0s', '__proto__', 'ns😀', 'ns\uD800', '', 'ns', '\uFEFFns')
const columnNameArb = fc.oneof(fc.constantFrom('c1', 'c2', '__proto__', 'c\0x', 'c\uDC00', '', '\uFEFFc1'), hostileString)
const listNameArb = fc.oneof(fc.constantFrom('docs', 'runs', 'emb', '__proto__', 'l\uD800', '\uFEFFdocs'), hostileString)

// ---------------------------------------------------------------------------------------------
// Operations

type Op =
  | { t: 'kv.set'; ns: string; key: string | Uint8Array; value: unknown }
  | { t: 'kv.delete'; ns: string; key: string | Uint8Array }
  | { t: 'kv.pop'; ns: string; key: string | Uint8Array }
  | { t: 'kv.setMany'; ns: string; pairs: [string | Uint8Array, unknown][] }
  | { t: 'kv.clear'; ns: string }
  | { t: 'kv.tx'; ops: { ns: string; key: string | Uint8Array; value?: unknown; del: boolean }[] }
  | { t: 'col.create'; name: string; dtype: DTypeName }
  | { t: 'col.append' | 'col.set' | 'col.insert'; pick: number; at: number; value: unknown }
  | { t: 'col.extend'; pick: number; values: unknown[] }
  | { t: 'col.delete'; pick: number; at: number }
  | { t: 'col.setSlice'; pick: number; at: number; values: unknown[] }
  | { t: 'col.createLarge'; dtype: 'f64' | 'str:utf8' }
  | { t: 'col.setMany'; pick: number; at: number; count: number; seed: number }
  | { t: 'list.create'; name: string; type: 'document' | 'record' | 'embedding' }
  | { t: 'list.append'; pick: number; values: unknown[]; index: number | null }

const DTYPES = ['f64', 'f32', 'i64', 'bool', 'bytes', 'bytes:4', 'str:utf8', 'str:utf16le', 'str:utf16be', 'str:6:utf8', 'str:6:utf16le', 'str:6:utf16be', 'msgpack', 'json', 'vec:f32:2'] as const
type DTypeName = (typeof DTYPES)[number]

function elementArb(dtype: DTypeName): fc.Arbitrary<unknown> {
  switch (dtype) {
    case 'f64':
      return numberArb
    case 'f32':
      return numberArb
    case 'i64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
    case 'bool':
      return fc.boolean()
    case 'bytes':
    case 'bytes:4':
      return bytesArb.filter((b) => b.length < 1000)
    case 'str:utf8':
    case 'str:utf16le':
    case 'str:utf16be':
    case 'str:6:utf8':
    case 'str:6:utf16le':
    case 'str:6:utf16be':
      return hostileString
    case 'vec:f32:2':
      return fc.oneof(fc.float32Array({ minLength: 2, maxLength: 2 }), fc.array(numberArb, { minLength: 1, maxLength: 3 }))
    case 'msgpack':
      return nestedValue
    case 'json':
      return fc.oneof(hostileString, fc.double(), fc.constant(null), fc.array(hostileString, { maxLength: 3 }), fc.array(fc.tuple(hostileString, fc.double()), { maxLength: 3 }).map(objectOf))
  }
}

/** Any element: the dtype is known only when the op runs, so values come from every dtype. */
const anyElement = fc.constantFrom(...DTYPES).chain(elementArb)

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('kv.set' as const), ns: namespaceArb, key: keyArb, value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('kv.delete' as const), ns: namespaceArb, key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('kv.pop' as const), ns: namespaceArb, key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('kv.setMany' as const), ns: namespaceArb, pairs: fc.array(fc.tuple(keyArb, valueArb), { maxLength: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('kv.clear' as const), ns: namespaceArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('kv.tx' as const),
      ops: fc.array(fc.record({ ns: namespaceArb, key: keyArb, value: valueArb, del: fc.boolean() }), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('col.create' as const), name: columnNameArb, dtype: fc.constantFrom(...DTYPES) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constantFrom('col.append' as const, 'col.set' as const, 'col.insert' as const), pick: fc.nat(), at: fc.nat(), value: anyElement }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('col.extend' as const), pick: fc.nat(), values: fc.array(anyElement, { maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('col.delete' as const), pick: fc.nat(), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('col.setSlice' as const), pick: fc.nat(), at: fc.nat(), values: fc.array(anyElement, { maxLength: 3 }) }) },
  // A column of blob-backed chunks, where set and short setSlice calls become element patches, and
  // a long setSlice into it (past the patch threshold: the chunk is folded into a new blob).
  { weight: 1, arbitrary: fc.record({ t: fc.constant('col.createLarge' as const), dtype: fc.constantFrom('f64' as const, 'str:utf8' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('col.setMany' as const), pick: fc.nat(), at: fc.nat(), count: fc.integer({ min: 1, max: 1_500 }), seed: fc.integer({ min: -9, max: 9 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('list.create' as const), name: listNameArb, type: fc.constantFrom('document' as const, 'record' as const, 'embedding' as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('list.append' as const),
      pick: fc.nat(),
      values: fc.array(
        fc.oneof(
          hostileString,
          fc.tuple(valueArb, nestedValue).map(([a, p]) => objectOf([['a', a], ['__proto__', p]])),
          fc.constant(objectOf([['a', 1], ['__proto__', undefined]])),
          fc.array(numberArb, { minLength: 3, maxLength: 3 }),
          fc.float32Array({ minLength: 3, maxLength: 3 }),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      // An explicit index (upsert: overwrite, or a gap past the end) for record and embedding lists.
      index: fc.option(fc.nat({ max: 8 }), { freq: 3 }),
    }),
  },
)

// ---------------------------------------------------------------------------------------------
// The model: what the vault must return

type KeyId = string
const keyId = (k: string | Uint8Array): KeyId => (typeof k === 'string' ? 's' + k : 'b' + Buffer.from(k).toString('hex'))

function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v) || v instanceof Date) return 0
  let max = 0
  const items = v instanceof Map ? [...v.keys(), ...v.values()] : v instanceof Set ? [...v] : Array.isArray(v) ? v : Object.values(v)
  for (const x of items) max = Math.max(max, depthOf(x))
  return max + 1
}

const validKey = (k: string | Uint8Array): boolean => (typeof k === 'string' ? isWellFormed(k) && utf8Length(k) <= MAX_KEY_BYTES : k.length <= MAX_KEY_BYTES)
const validNamespace = (ns: string): boolean => ns.length > 0 && ns.length <= 256 && isWellFormed(ns)
const validValue = (v: unknown): boolean => depthOf(v) <= MAX_VALUE_DEPTH

interface ColumnModel {
  name: string
  dtype: DTypeName
  values: unknown[]
}
interface ListModel {
  name: string
  type: 'document' | 'record' | 'embedding'
  items: unknown[]
}

class Model {
  kv = new Map<string, Map<KeyId, [string | Uint8Array, unknown]>>()
  columns: ColumnModel[] = []
  lists: ListModel[] = []
  usedListNames = new Set<string>()

  ns(name: string): Map<KeyId, [string | Uint8Array, unknown]> {
    let m = this.kv.get(name)
    if (!m) this.kv.set(name, (m = new Map()))
    return m
  }
}

/** A Map, Set, typed array or nested function/symbol: JSON would write `{}` or drop it. */
function jsonUnfaithful(v: unknown, depth: number): boolean {
  if (v === null || typeof v !== 'object') return depth > 0 && (typeof v === 'function' || typeof v === 'symbol')
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false
  if (v instanceof Map || v instanceof Set || ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return true
  return (Array.isArray(v) ? v : Object.values(v)).some((x) => jsonUnfaithful(x, depth + 1))
}

/** What a column returns for a value written to it, or REFUSED when the dtype cannot hold it. */
const REFUSED = Symbol('refused')
function columnValue(dtype: DTypeName, v: unknown): unknown {
  switch (dtype) {
    case 'f64':
      return typeof v === 'number' ? v : REFUSED
    case 'f32':
      // A finite number that f32 rounds to ±Infinity (from 2^128 − 2^103, e.g. 3.4028235677973366e38) is refused.
      return typeof v === 'number' && (Number.isFinite(Math.fround(v)) || !Number.isFinite(v)) ? Math.fround(v) : REFUSED
    case 'i64':
      if (typeof v === 'bigint') return v >= -(2n ** 63n) && v < 2n ** 63n ? v : REFUSED
      return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : REFUSED
    case 'bool':
      return typeof v === 'boolean' ? v : REFUSED
    case 'bytes':
      return v instanceof Uint8Array ? new Uint8Array(v) : REFUSED
    case 'bytes:4': {
      if (!(v instanceof Uint8Array) || v.length > 4) return REFUSED
      const out = new Uint8Array(4)
      out.set(v)
      return out
    }
    case 'str:utf8':
      return typeof v === 'string' && isWellFormed(v) ? v : REFUSED
    case 'str:utf16le':
    case 'str:utf16be':
      return typeof v === 'string' ? v : REFUSED
    case 'str:6:utf8': {
      if (typeof v !== 'string' || !isWellFormed(v)) return REFUSED
      // Cut to 6 bytes, never inside a character; trailing NULs (the padding) are not read back.
      let out = ''
      for (const ch of v) {
        if (utf8Length(out + ch) > 6) break
        out += ch
      }
      return out.replace(/\0+$/, '')
    }
    case 'str:6:utf16le':
    case 'str:6:utf16be': {
      if (typeof v !== 'string') return REFUSED
      let out = v.length > 3 ? v.slice(0, 3) : v
      // A cut never keeps the first half of a pair.
      if (v.length > 3 && (out.charCodeAt(2) & 0xfc00) === 0xd800) out = out.slice(0, 2)
      return out.replace(/\0+$/, '')
    }
    case 'vec:f32:2': {
      // An array or any typed array (not a DataView) of 2 numbers; bigint components do not fit.
      if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && !(v instanceof DataView))) return REFUSED
      const a = v as ArrayLike<unknown>
      if (a.length !== 2) return REFUSED
      for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'number') return REFUSED
      // A finite component beyond f32's range is refused, not stored as ±Infinity.
      for (let i = 0; i < a.length; i++) if (!Number.isFinite(Math.fround(a[i] as number)) && Number.isFinite(a[i] as number)) return REFUSED
      return Float32Array.from(a as ArrayLike<number>)
    }
    case 'msgpack':
      return v === undefined || !validValue(v) ? REFUSED : v
    case 'json': {
      // What JSON would silently turn into something else is refused (docs/columns.md).
      if (jsonUnfaithful(v, 0)) return REFUSED
      let text: string | undefined
      try {
        text = JSON.stringify(v)
      } catch {
        return REFUSED
      }
      return text === undefined ? REFUSED : JSON.parse(text)
    }
  }
}

/** What a list returns for an appended value, or REFUSED. */
function listValue(type: ListModel['type'], v: unknown): unknown {
  switch (type) {
    case 'document':
      return typeof v === 'string' ? v : REFUSED
    case 'record': {
      if (!v || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v) || Object.getPrototypeOf(v) !== Object.prototype) return REFUSED
      const keys = Object.keys(v)
      if (keys.length !== 2 || !keys.includes('a') || !keys.includes('__proto__')) return REFUSED
      const r = v as Record<string, unknown>
      if (r.a === undefined || Object.getOwnPropertyDescriptor(r, '__proto__')!.value === undefined) return REFUSED
      if (!validValue(v)) return REFUSED
      return objectOf([['a', r.a], ['__proto__', Object.getOwnPropertyDescriptor(r, '__proto__')!.value]])
    }
    case 'embedding': {
      const a = v as ArrayLike<unknown>
      if (!(v instanceof Float32Array) && !Array.isArray(v)) return REFUSED
      if (a.length !== 3) return REFUSED
      for (let i = 0; i < 3; i++) if (typeof a[i] !== 'number' || !Number.isFinite(Math.fround(a[i] as number))) return REFUSED
      return Float32Array.from(a as ArrayLike<number>)
    }
  }
}

const expectInvalid = async (p: Promise<unknown>, what: string): Promise<void> => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `${what}: expected InvalidArgumentError, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`)
    return true
  })
}

/** Apply one op to the vault and the model. */
async function apply(v: Vault, m: Model, op: Op): Promise<void> {
  const what = `${op.t}`
  switch (op.t) {
    case 'kv.set': {
      if (!validNamespace(op.ns)) return assert.throws(() => v.kv(op.ns), InvalidArgumentError)
      const p = v.kv(op.ns).set(op.key, op.value)
      if (!validKey(op.key) || !validValue(op.value)) return expectInvalid(p, what)
      await p
      m.ns(op.ns).set(keyId(op.key), [op.key, op.value])
      return
    }
    case 'kv.delete':
    case 'kv.pop': {
      if (!validNamespace(op.ns)) return assert.throws(() => v.kv(op.ns), InvalidArgumentError)
      const kv = v.kv(op.ns)
      if (!validKey(op.key)) return expectInvalid(op.t === 'kv.delete' ? kv.delete(op.key) : kv.pop(op.key, null), what)
      const had = m.ns(op.ns).get(keyId(op.key))
      if (op.t === 'kv.delete') assert.equal(await kv.delete(op.key), had !== undefined, what)
      else assert.deepEqual(await kv.pop(op.key, 'missing'), had ? had[1] : 'missing', what)
      m.ns(op.ns).delete(keyId(op.key))
      return
    }
    case 'kv.setMany': {
      if (!validNamespace(op.ns)) return assert.throws(() => v.kv(op.ns), InvalidArgumentError)
      const p = v.kv(op.ns).setMany(op.pairs)
      if (op.pairs.some(([k, val]) => !validKey(k) || !validValue(val))) return expectInvalid(p, what)
      assert.equal(await p, op.pairs.length)
      for (const [k, val] of op.pairs) m.ns(op.ns).set(keyId(k), [k, val])
      return
    }
    case 'kv.clear': {
      if (!validNamespace(op.ns)) return assert.throws(() => v.kv(op.ns), InvalidArgumentError)
      assert.equal(await v.kv(op.ns).clear(), m.ns(op.ns).size, what)
      m.ns(op.ns).clear()
      return
    }
    case 'kv.tx': {
      const ok = op.ops.every((o) => validNamespace(o.ns) && validKey(o.key) && (o.del || validValue(o.value)))
      const p = v.transaction(async (tx) => {
        for (const o of op.ops) {
          if (o.del) await tx.kv(o.ns).delete(o.key)
          else await tx.kv(o.ns).set(o.key, o.value)
        }
      })
      if (!ok) return expectInvalid(p, what)
      await p
      for (const o of op.ops) {
        if (o.del) m.ns(o.ns).delete(keyId(o.key))
        else m.ns(o.ns).set(keyId(o.key), [o.key, o.value])
      }
      return
    }
    case 'col.create': {
      const p = v.columns.create(op.name, op.dtype)
      if (op.name.length === 0 || op.name.length > 512 || !isWellFormed(op.name)) return expectInvalid(p, what)
      if (m.columns.some((c) => c.name === op.name)) {
        await assert.rejects(p, { code: 'ALREADY_EXISTS' })
        return
      }
      await p
      m.columns.push({ name: op.name, dtype: op.dtype, values: [] })
      return
    }
    case 'col.createLarge': {
      const name = `large-${op.dtype}-${m.columns.length}`
      if (m.columns.some((c) => c.name === name)) return
      const col = await v.columns.create(name, op.dtype, { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
      // Two full blob chunks and an inline tail.
      const values = op.dtype === 'f64' ? Array.from({ length: 70_000 }, (_, i) => i * 0.25) : Array.from({ length: 2_200 }, (_, i) => `${i}`.padEnd(250, 'é'))
      await col.extend(values as never)
      m.columns.push({ name, dtype: op.dtype, values })
      return
    }
    case 'col.setMany': {
      if (m.columns.length === 0) return
      const c = m.columns[op.pick % m.columns.length]!
      if (c.dtype !== 'f64' && c.dtype !== 'str:utf8') return
      const start = op.at % (c.values.length + 1)
      const end = Math.min(c.values.length, start + op.count)
      const values = Array.from({ length: end - start }, (_, i) => (c.dtype === 'f64' ? op.seed * i + 0.5 : `${op.seed}:${i}`))
      await (await v.columns.get(c.name)).setSlice(start, end, values as never)
      c.values.splice(start, end - start, ...values)
      return
    }
    case 'col.append':
    case 'col.set':
    case 'col.insert':
    case 'col.extend':
    case 'col.delete':
    case 'col.setSlice': {
      if (m.columns.length === 0) return
      const c = m.columns[op.pick % m.columns.length]!
      const col = await v.columns.get(c.name)
      const len = c.values.length
      if (op.t === 'col.delete') {
        if (len === 0) return
        const at = op.at % len
        await col.delete(at)
        c.values.splice(at, 1)
        return
      }
      const incoming = op.t === 'col.extend' || op.t === 'col.setSlice' ? op.values : [op.value]
      const converted = incoming.map((x) => columnValue(c.dtype, x))
      const refused = converted.includes(REFUSED)
      let p: Promise<void>
      let change: () => void
      switch (op.t) {
        case 'col.append':
          p = col.append(op.value as never)
          change = () => c.values.push(converted[0])
          break
        case 'col.extend':
          p = col.extend(op.values as never)
          change = () => c.values.push(...converted)
          break
        case 'col.set': {
          if (len === 0) return
          const at = op.at % len
          p = col.set(at, op.value as never)
          change = () => (c.values[at] = converted[0])
          break
        }
        case 'col.insert': {
          const at = op.at % (len + 1)
          p = col.insert(at, op.value as never)
          change = () => c.values.splice(at, 0, converted[0])
          break
        }
        case 'col.setSlice': {
          const start = op.at % (len + 1)
          const end = Math.min(len, start + op.values.length)
          if (end - start !== op.values.length) return
          p = col.setSlice(start, end, op.values as never)
          change = () => c.values.splice(start, end - start, ...converted)
          break
        }
      }
      if (refused) return expectInvalid(p, `${what} into ${c.dtype}`)
      await p
      change()
      return
    }
    case 'list.create': {
      const options = op.type === 'embedding' ? { type: op.type, dim: 3 } : op.type === 'record' ? { type: op.type, fields: ['a', '__proto__'] } : { type: op.type }
      const p = v.lists.create(op.name, options as never)
      // eslint-disable-next-line no-control-regex
      if (op.name.length === 0 || op.name.length > 128 || /[\u0000-\u001f\u007f]/.test(op.name) || !isWellFormed(op.name)) return expectInvalid(p, what)
      if (m.usedListNames.has(op.name)) {
        await assert.rejects(p, { code: 'ALREADY_EXISTS' })
        return
      }
      await p
      m.usedListNames.add(op.name)
      m.lists.push({ name: op.name, type: op.type, items: [] })
      return
    }
    case 'list.append': {
      if (m.lists.length === 0) return
      const l = m.lists[op.pick % m.lists.length]!
      const list = await v.lists.get(l.name)
      const converted = op.values.map((x) => listValue(l.type, x))
      const index = l.type === 'document' ? null : op.index
      const p = list.appendMany(op.values as never, index === null ? {} : { index })
      if (converted.includes(REFUSED)) {
        await assert.rejects(p, (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError, `${what} to a ${l.type} list: expected InvalidArgumentError, got ${(err as Error)?.message}`)
          return true
        })
        return
      }
      await p
      const at = index ?? l.items.length
      // A gap reads as undefined (records) or a NaN vector (embeddings).
      while (l.items.length < at) l.items.push(l.type === 'embedding' ? new Float32Array(3).fill(NaN) : undefined)
      converted.forEach((x, i) => (l.items[at + i] = x))
      return
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Dumps

const NAMESPACES = ['default', 'n\0s', '__proto__', 'ns😀']

/** Everything the vault holds, read through the public API, in the vault's own order. */
async function dump(v: Vault): Promise<unknown> {
  const kv = new Map<string, [string | Uint8Array, unknown][]>()
  for (const ns of NAMESPACES) {
    const entries = await v.kv(ns).entries()
    const streamed: [string | Uint8Array, unknown][] = []
    for await (const e of v.kv(ns).iterate({ batchSize: 3 })) streamed.push(e)
    assert.deepEqual(streamed, entries, `iterate and entries agree in ${ns}`)
    assert.deepEqual(await v.kv(ns).keys(), entries.map(([k]) => k))
    kv.set(ns, entries)
  }
  const columns: unknown[] = []
  for (const info of await v.columns.list()) {
    const col = await v.columns.get(info.name)
    const values = await col.slice()
    columns.push({ ...info, values: ArrayBuffer.isView(values) ? Array.from(values as ArrayLike<unknown>) : values })
  }
  const lists: unknown[] = []
  for (const info of await v.lists.list()) {
    const list = await v.lists.get(info.name)
    const items = info.type === 'embedding' ? await list.slice(0, info.length) : await list.slice(0, info.length)
    const entry: Record<string, unknown> = { info, items }
    if (info.type === 'document') {
      const content = await (list as import('../../src/node.js').DocumentList).content()
      let pos = 0
      for (const c of content) {
        assert.equal(c.start, pos, 'document positions are contiguous and never overlap')
        pos = c.end
      }
      assert.equal(pos, info.chars)
      entry.content = content
      entry.text = await (list as import('../../src/node.js').DocumentList).text()
    }
    lists.push(entry)
  }
  return { kv, columns, lists }
}

/** The model in the shape of {@link dump}, without the vault's orders (compared order-free). */
function checkAgainstModel(d: { kv: Map<string, [string | Uint8Array, unknown][]>; columns: { name: string; values: unknown[] }[]; lists: { info: { name: string }; items: unknown[] }[] }, m: Model): void {
  for (const ns of NAMESPACES) {
    const got = new Map(d.kv.get(ns)!.map(([k, val]) => [keyId(k), val]))
    const want = new Map([...(m.kv.get(ns)?.values() ?? [])].map(([k, val]) => [keyId(k), val]))
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `keys of namespace ${JSON.stringify(ns)}`)
    for (const [id, val] of want) assert.deepEqual(got.get(id), val, `value of ${JSON.stringify(id.slice(0, 40))} in ${JSON.stringify(ns)}`)
  }
  assert.deepEqual(d.columns.map((c) => c.name).sort(), m.columns.map((c) => c.name).sort())
  for (const c of m.columns) {
    const got = d.columns.find((x) => x.name === c.name)!
    assert.deepEqual(got.values, c.values, `column ${JSON.stringify(c.name)} (${c.dtype})`)
  }
  assert.deepEqual(d.lists.map((l) => l.info.name), m.lists.map((l) => l.name))
  for (const [i, l] of m.lists.entries()) assert.deepEqual(d.lists[i]!.items, l.items, `list ${JSON.stringify(l.name)} (${l.type})`)
}

let counter = 0

async function runSequence(ops: Op[], storage: 'memory' | 'fs'): Promise<void> {
  const name = `prop${++counter}`
  const open = () => openVault(name, storage === 'fs' ? { storage: 'fs', path: dir } : { storage: 'memory' })
  const m = new Model()
  let v = await open()
  try {
    for (const [i, op] of ops.entries()) {
      try {
        await apply(v, m, op)
      } catch (err) {
        throw new Error(`operation ${i} (${op.t}) failed: ${(err as Error).message}`, { cause: err })
      }
    }
    const live = await dump(v)
    checkAgainstModel(live as never, m)
    await v.close()
    v = await open()
    assert.deepEqual(await dump(v), live, 'after close and reopen (log replay)')
    await v.checkpoint()
    await v.close()
    v = await open()
    assert.deepEqual(await dump(v), live, 'after checkpoint and reopen')
  } finally {
    await v.close()
  }
}

const opsArb = fc.array(opArb, { minLength: 1, maxLength: 40, size: 'medium' })

/** Run the property; on failure, report the seed, the shrunk operations and the underlying error. */
async function check(storage: 'memory' | 'fs', seed: number, numRuns: number): Promise<void> {
  const out = await fc.check(
    fc.asyncProperty(opsArb, (ops) => runSequence(ops, storage)),
    { seed, numRuns },
  )
  if (!out.failed) return
  const cause = out.errorInstance as Error | undefined
  throw new Error(
    `${fc.defaultReportMessage(out)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/replay-invariant.test.ts\n` +
      `Underlying error: ${cause?.stack ?? String(cause)}${cause?.cause ? `\ncaused by: ${(cause.cause as Error).stack ?? String(cause.cause)}` : ''}`,
  )
}

test(`live = log replay = checkpoint, for random operations (seed ${SEED}, ${RUNS} runs on memory)`, async (t) => {
  t.diagnostic(`replay with LABVAULT_PROP_SEED=${SEED}; a longer run: LABVAULT_PROP_RUNS=1000`)
  await check('memory', SEED, RUNS)
})

test(`live = log replay = checkpoint, on fs storage (seed ${SEED}+1, ${Math.max(1, Math.ceil(RUNS / 6))} runs)`, async (t) => {
  t.diagnostic(`replay with LABVAULT_PROP_SEED=${SEED}`)
  await check('fs', SEED + 1, Math.max(1, Math.ceil(RUNS / 6)))
})
