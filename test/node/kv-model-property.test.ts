/**
 * The key-value store against a plain Map, as a seeded property (docs/kv.md): a random sequence of
 * calls — set, setMany with duplicate keys, update, delete, deleteMany, pop, popItem, setDefault,
 * clear, the write cache (enableCache, flush, disableCache, withCache), transactions that commit or
 * throw, and close-then-reopen — over hostile keys (empty, NUL, U+FEFF, U+FFFF, astral characters,
 * `__proto__`, empty and 0xFF byte keys) and values (-0, NaN, ±Infinity, bigints past 64 bits,
 * lone surrogates, invalid-free Dates, Maps, Sets, typed arrays of every kind, own `__proto__`
 * keys, members set to undefined, 512-deep nesting, values large enough for the blob store). After
 * every call the model and the store agree on its result; at checkpoints on every key in order
 * (string keys by UTF-8 bytes, then byte keys), through entries(), iterate() in small batches and
 * keys({ prefix }). On memory, fs exclusive with strict durability and fs shared with relaxed.
 *
 * LABVAULT_PROP_RUNS runs (default 4); a failure prints its seed, LABVAULT_PROP_SEED=<seed> replays it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { NotFoundError, deleteVault, openVault, type Key, type KeyValue, type LocationOptions, type Vault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'
import { tempDir } from './helpers.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 4)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
const STEPS = 60

const dir = tempDir('labvault-kv-model-')
const backends: [string, LocationOptions & Record<string, unknown>][] = [
  ['memory', { storage: 'memory' }],
  ['fs exclusive strict', { storage: 'fs', path: dir, sharing: 'exclusive', durability: 'strict' }],
  ['fs shared relaxed', { storage: 'fs', path: dir, sharing: 'shared', durability: 'relaxed' }],
]

const KEYS: Key[] = ['', 'a', 'a\0', 'a\0b', '\uFEFF', '\uFEFFa', '\uFFFF', '\u{10000}', '\u{10FFFF}', '😀', '__proto__', 'constructor', 'é', 'e\u0301', new Uint8Array(0), new Uint8Array([0]), new Uint8Array([0xff]), new Uint8Array([0x61])]
const PREFIXES: Key[] = ['', 'a', 'a\0', '\uFEFF', '\u{10000}'.slice(0, 2), new Uint8Array(0), new Uint8Array([0])]

function deep(levels: number): unknown {
  let v: unknown = 'bottom'
  for (let i = 1; i < levels; i++) v = [v]
  return v
}

function randomValue(rand: () => number, tag: number): unknown {
  const r = Math.floor(rand() * 26)
  switch (r) {
    case 0: return -0
    case 1: return NaN
    case 2: return Infinity * (rand() < 0.5 ? 1 : -1)
    case 3: return 2n ** 200n * (rand() < 0.5 ? 1n : -1n) + BigInt(tag)
    case 4: return -(2n ** 63n)
    case 5: return '\uD800' + tag + '\uDC00\uFEFF'
    case 6: return new Date(tag * 1e9)
    case 7: return new Map<unknown, unknown>([[-0, NaN], ['__proto__', { tag }], [1n, new Set(['x', tag])]])
    case 8: return new Float64Array([-0, NaN, tag])
    case 9: return new BigInt64Array([-1n, BigInt(tag)])
    case 10: return new Uint8ClampedArray([tag % 256])
    case 11: return new Int16Array([-tag])
    case 12: return JSON.parse(`{"__proto__": {"polluted": ${tag}}, "x": [null]}`)
    case 13: return { a: undefined, b: [undefined, tag] }
    case 14: return deep(512)
    case 15: {
      const bytes = new Uint8Array(300 * 1024)
      bytes[0] = tag % 256
      bytes[bytes.length - 1] = 7
      return bytes
    }
    case 16: return null
    case 17: return ''
    case 18: return new Uint8Array(0)
    case 19: return new Float32Array([1.5, -0])
    case 20: return new BigUint64Array([2n ** 64n - 1n])
    case 21: return [new Date(0), new Uint16Array([65535])]
    case 22: return Number.MIN_VALUE
    case 23: return 'x'.repeat(1 + (tag % 3) * 1000)
    default: return { tag, s: '\u0000\uFFFF' }
  }
}

function keyId(k: Key): string {
  return typeof k === 'string' ? 's' + k : 'b' + [...k].join(',')
}

/** Documented order: string keys by their UTF-8 bytes, then byte keys by bytes. */
function compareKeys(a: Key, b: Key): number {
  if (typeof a === 'string' && typeof b !== 'string') return -1
  if (typeof a !== 'string' && typeof b === 'string') return 1
  const x = typeof a === 'string' ? new TextEncoder().encode(a) : a
  const y = typeof b === 'string' ? new TextEncoder().encode(b) : (b as Uint8Array)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return x.length - y.length
}

function startsWith(k: Key, p: Key): boolean {
  if (typeof k !== typeof p) return false
  if (typeof k === 'string') return k.startsWith(p as string)
  const pb = p as Uint8Array
  return pb.every((b, i) => k[i] === b)
}

type Model = Map<string, [Key, unknown]>
const sorted = (m: Model) => [...m.values()].sort((a, b) => compareKeys(a[0], b[0]))

/** Buffers round-trip as plain Uint8Array-backed values; compare them exactly, -0 and NaN included. */
function same(got: unknown, want: unknown, what: string): void {
  assert.deepStrictEqual(got, want, what)
}

async function checkAll(kv: KeyValue, model: Model, rand: () => number, what: string): Promise<void> {
  const want = sorted(model)
  const entries = await kv.entries()
  same(entries.map(([k]) => keyId(k)), want.map(([k]) => keyId(k)), `${what}: keys in order`)
  for (let i = 0; i < want.length; i++) same(entries[i]![1], want[i]![1], `${what}: value of ${JSON.stringify(keyId(want[i]![0]))}`)
  const streamed: string[] = []
  for await (const [k] of kv.iterate({ batchSize: 1 + Math.floor(rand() * 3) })) streamed.push(keyId(k))
  same(streamed, want.map(([k]) => keyId(k)), `${what}: iterate`)
  const prefix = PREFIXES[Math.floor(rand() * PREFIXES.length)]!
  same((await kv.keys({ prefix })).map(keyId), want.filter(([k]) => startsWith(k, prefix)).map(([k]) => keyId(k)), `${what}: keys with prefix ${keyId(prefix)}`)
  assert.equal(await kv.size(), want.length, `${what}: size`)
}

/** One run: random calls on one namespace, each result checked against the model. */
async function run(seed: number, location: LocationOptions, name: string): Promise<void> {
  const rand = mulberry32(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const key = () => pick(KEYS)
  let v: Vault = await openVault(name, location)
  const ns = pick(['default', '__proto__', 'n\0s', '\uFEFF'])
  let kv = v.kv(ns)
  const model: Model = new Map()
  let cacheOn = false
  const log: string[] = []
  try {
    for (let step = 0; step < STEPS; step++) {
      const r = rand()
      const what = `step ${step}`
      if (r < 0.22) {
        const k = key()
        const value = randomValue(rand, step)
        log.push(`set ${keyId(k)}`)
        await kv.set(k, value)
        model.set(keyId(k), [k, value])
        same(await kv.get(k), value, `${what}: get after set`)
      } else if (r < 0.3) {
        const pairs: [Key, unknown][] = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => [key(), randomValue(rand, step)])
        log.push(`setMany ${pairs.map(([k]) => keyId(k)).join(' ')}`)
        assert.equal(await kv.setMany(pairs), pairs.length)
        for (const [k, val] of pairs) model.set(keyId(k), [k, val])
      } else if (r < 0.34) {
        const obj: Record<string, unknown> = JSON.parse('{"__proto__": 1}')
        obj[''] = randomValue(rand, step)
        log.push('update')
        await kv.update(obj)
        for (const [k, val] of Object.entries(obj)) model.set(keyId(k), [k, val])
      } else if (r < 0.42) {
        const k = key()
        log.push(`delete ${keyId(k)}`)
        assert.equal(await kv.delete(k), model.delete(keyId(k)), `${what}: delete`)
      } else if (r < 0.46) {
        const ks = [key(), key(), key()]
        log.push(`deleteMany ${ks.map(keyId).join(' ')}`)
        const existed = new Set(ks.map(keyId).filter((id) => model.has(id))).size
        for (const k of ks) model.delete(keyId(k))
        assert.equal(await kv.deleteMany(ks), existed, `${what}: deleteMany count`)
      } else if (r < 0.5) {
        const k = key()
        log.push(`pop ${keyId(k)}`)
        const want = model.get(keyId(k))
        model.delete(keyId(k))
        same(await kv.pop(k, 'fallback'), want ? want[1] : 'fallback', `${what}: pop`)
      } else if (r < 0.53) {
        log.push('popItem')
        const last = sorted(model).at(-1)
        if (last) {
          model.delete(keyId(last[0]))
          same(await kv.popItem(), [last[0] instanceof Uint8Array ? last[0] : last[0], last[1]], `${what}: popItem`)
        } else await assert.rejects(kv.popItem(), NotFoundError)
      } else if (r < 0.57) {
        const k = key()
        const value = randomValue(rand, step)
        log.push(`setDefault ${keyId(k)}`)
        if (!model.has(keyId(k))) model.set(keyId(k), [k, value])
        same(await kv.setDefault(k, value), model.get(keyId(k))![1], `${what}: setDefault`)
      } else if (r < 0.59) {
        log.push('clear')
        assert.equal(await kv.clear(), model.size, `${what}: clear count`)
        model.clear()
      } else if (r < 0.65) {
        log.push(cacheOn ? 'disableCache' : 'enableCache')
        if (cacheOn) await kv.disableCache()
        else kv.enableCache({ flushThreshold: Math.floor(rand() * 400_000) })
        cacheOn = !cacheOn
      } else if (r < 0.68) {
        log.push('flush')
        await kv.flush()
      } else if (r < 0.72) {
        // withCache (a no-op scope when the cache is on already): two sets and a read inside.
        const [k1, k2] = [key(), key()]
        const [v1, v2] = [randomValue(rand, step), randomValue(rand, step + 1000)]
        log.push(`withCache ${keyId(k1)} ${keyId(k2)}`)
        await kv.withCache({}, async () => {
          await kv.set(k1, v1)
          await kv.set(k2, v2)
          same(await kv.get(k1), keyId(k1) === keyId(k2) ? v2 : v1, `${what}: read inside withCache`)
        })
        model.set(keyId(k1), [k1, v1])
        model.set(keyId(k2), [k2, v2])
      } else if (r < 0.84) {
        // A transaction, sometimes with its own cache, that commits or throws.
        const commit = rand() < 0.6
        const txCache = rand() < 0.5
        const ops: [Key, unknown | undefined][] = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => [key(), rand() < 0.25 ? undefined : randomValue(rand, step)])
        log.push(`transaction ${commit ? 'commit' : 'throw'}${txCache ? ' cached' : ''} ${ops.map(([k, val]) => (val === undefined ? '-' : '+') + keyId(k)).join(' ')}`)
        const inTx: Model = new Map(model)
        const p = v.transaction(async (tx) => {
          const t = tx.kv(ns)
          if (txCache) t.enableCache()
          for (const [k, val] of ops) {
            if (val === undefined) {
              assert.equal(await t.delete(k), inTx.delete(keyId(k)), `${what}: delete in transaction`)
            } else {
              await t.set(k, val)
              inTx.set(keyId(k), [k, val])
            }
            same(await t.get(ops[0]![0]), inTx.get(keyId(ops[0]![0]))?.[1], `${what}: read in transaction`)
          }
          if (!commit) throw new Error('roll back')
          return 'done'
        })
        if (commit) {
          assert.equal(await p, 'done')
          model.clear()
          for (const [id, e] of inTx) model.set(id, e)
        } else await assert.rejects(p, /roll back/)
      } else if (r < 0.9) {
        log.push('reopen')
        await v.close()
        v = await openVault(name, location)
        kv = v.kv(ns)
        cacheOn = false
      } else {
        const ks = [key(), key()]
        log.push(`getMany/hasAll ${ks.map(keyId).join(' ')}`)
        const got = await kv.getMany(ks)
        const want = ks.filter((k) => model.has(keyId(k)))
        same(new Set([...got.keys()].map(keyId)), new Set(want.map(keyId)), `${what}: getMany keys`)
        for (const [k, val] of got) same(val, model.get(keyId(k))![1], `${what}: getMany value`)
        assert.equal(await kv.hasAll(ks), want.length === ks.length)
      }
      if (step % 10 === 9) await checkAll(kv, model, rand, what)
    }
    await v.close()
    v = await openVault(name, location)
    await checkAll(v.kv(ns), model, rand, 'after the last reopen')
  } catch (err) {
    throw new Error(`${(err as Error).message}\n  namespace ${JSON.stringify(ns)}, calls:\n  ${log.join('\n  ')}`, { cause: err })
  } finally {
    await v.close().catch(() => {})
    await deleteVault(name, location).catch(() => {})
  }
}

let n = 0
for (const [backend, location] of backends) {
  test(`kv = a Map, for random calls over hostile keys and values with caches, transactions and reopen: ${backend} (seed ${SEED}, ${RUNS} runs)`, { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => run(seed, location, `kv-model-${++n}`)),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
    )
  })
}
