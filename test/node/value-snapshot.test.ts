import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError, openVault } from '../../src/node.js'
import { codecLoaded } from '../../src/domains/kv/client/kv-values.js'
import { encodeValue, prepareValue } from '../../src/codec/value-codec.js'
import { snapshotValue } from '../../src/codec/value-prepare.js'
import { tempDir } from './helpers.js'

// A page loads the value codec (msgpackr) on first use (docs/cold-start.md, "Main-thread bytes"):
// until it is loaded, a value is checked and copied at the call (snapshotValue) and encoded later.
// The guarantees: the copy encodes to exactly the bytes the value had at the call (whatever the
// caller changes afterwards), a bad value is refused with the same error either way, and calls
// made while the codec loads reach the engine in the order they were made.

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 300)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

// The first test of this file (its own process): nothing has loaded the client's codec yet.
test('calls made while the codec loads keep their order and store the value as it was at the call', async () => {
  assert.equal(codecLoaded(), false, 'premise: the codec is not loaded yet')
  const v = await openVault('first-use', { storage: 'fs', path: tempDir() })
  const kv = v.kv()
  const value = { list: [1, 2], f32: new Float32Array([1, 2]), when: new Date(5), tags: new Set(['a']), m: new Map<unknown, unknown>([[1, { x: 1 }]]) }
  const set1 = kv.set('a', value)
  assert.equal(codecLoaded(), false, 'premise: the first set waits for the codec')
  // Changed right after the call: the vault keeps what the value was.
  value.list.push(3)
  value.f32[0] = 9
  value.when.setTime(6)
  value.tags.add('b')
  ;(value.m.get(1) as { x: number }).x = 2
  const read = kv.get('a')
  const bad = kv.set('c', { f: () => 1 })
  const raw = kv.set('r', new Uint8Array([1, 2]))
  const many = kv.setMany([['a', 'second'], ['d', -0]])
  const readAfter = kv.getMany(['a', 'd', 'r'])
  await set1
  assert.deepEqual(await read, { list: [1, 2], f32: new Float32Array([1, 2]), when: new Date(5), tags: new Set(['a']), m: new Map([[1, { x: 1 }]]) })
  await assert.rejects(bad, (e: Error) => e instanceof InvalidArgumentError && /value\.f is a function/.test(e.message))
  await raw
  assert.equal(await many, 2)
  const got = await readAfter
  assert.equal(got.get('a'), 'second')
  assert.ok(Object.is(got.get('d'), -0))
  assert.deepEqual(got.get('r'), new Uint8Array([1, 2]))
  assert.equal(await kv.delete('d'), true)
  assert.equal(await kv.has('c'), false, 'the refused value wrote nothing')
  assert.equal(codecLoaded(), true)
  await v.close()
})

// Hostile values, valid and not: the copy must agree with the value in every case.
const str = fc.oneof(fc.string({ maxLength: 5 }), fc.constantFrom('__proto__', '\uD800', 'x\uDC00y', '', 'é😀'))
const num = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, NaN, Infinity, 2 ** 53))
const typed = fc.oneof(
  fc.float32Array({ maxLength: 5 }),
  fc.float64Array({ maxLength: 5 }).map((a) => (a.length > 1 ? a.subarray(1) : a)),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 9 }), fc.nat(4)).map(([a, k]) => a.subarray(Math.min(k, a.length))),
  fc.bigInt64Array({ maxLength: 3 }),
)
const bad = fc.constantFrom<unknown>(() => 1, Symbol('s'), new (class Thing {})(), new Date(NaN), new DataView(new ArrayBuffer(2)), undefined)
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
  return out
}
const { value: hostile } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    { weight: 5, arbitrary: fc.oneof(str, num, fc.bigInt({ min: -(2n ** 100n), max: 2n ** 100n }), fc.constantFrom(null, true), typed, fc.date({ noInvalidDate: true })) },
    { weight: 1, arbitrary: bad },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.array(fc.tuple(str, tie('value')), { maxLength: 4 }).map(objectOf) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(str, num), tie('value')), { maxLength: 3 }).map((e) => new Map(e)) },
    { weight: 1, arbitrary: fc.array(fc.oneof(str, num), { maxLength: 4 }).map((a) => new Set(a)) },
  ),
}))
/** Sometimes a cycle: the value put inside itself. */
const withCycle = fc.tuple(hostile, fc.boolean()).map(([v, cycle]) => {
  if (cycle && Array.isArray(v)) v.push(v)
  else if (cycle && v instanceof Map) v.set('self', v)
  return v
})

/** Change every container and typed array inside `v`, in place. */
function mutate(v: unknown, seen = new Set<unknown>()): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return
  seen.add(v)
  if (ArrayBuffer.isView(v)) {
    if (!(v instanceof DataView)) (v as Uint8Array).fill(v instanceof BigInt64Array ? (7n as never) : 7)
  } else if (v instanceof Date) v.setTime(v.getTime() + 1)
  else if (Array.isArray(v)) {
    for (const x of v) mutate(x, seen)
    v.push('more')
  } else if (v instanceof Map) {
    for (const x of v.values()) mutate(x, seen)
    v.set('more', 1)
  } else if (v instanceof Set) v.add('more')
  else {
    for (const x of Object.values(v)) mutate(x, seen)
    ;(v as Record<string, unknown>).more = 1
  }
}

function outcome(f: () => unknown): { bytes: Uint8Array } | { error: string } {
  try {
    return { bytes: encodeValue(f()) }
  } catch (err) {
    assert.ok(err instanceof InvalidArgumentError, `a typed error, got ${String(err)}`)
    return { error: err.message }
  }
}

test('a snapshot encodes to the bytes of the value at the call, and refuses what prepareValue refuses', () => {
  fc.assert(
    fc.property(withCycle, (v) => {
      const direct = outcome(() => prepareValue(v))
      let snap: unknown
      const copied = outcome(() => (snap = snapshotValue(v)))
      assert.deepEqual(copied, direct)
      if ('error' in direct) return
      mutate(v)
      assert.deepEqual(encodeValue(snap), direct.bytes, 'the copy does not follow later changes')
    }),
    { numRuns: RUNS, seed: SEED },
  )
})
