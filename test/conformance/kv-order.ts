/**
 * Call order on one key-value handle, as a seeded property: a round issues a random sequence of
 * calls WITHOUT awaiting any (get, getMany, has, hasAll, size, keys, entries, set, setMany,
 * delete, deleteMany, pop, clear), then awaits them all and checks every result against a model
 * that applies the calls in program order: a read sees every write issued before it and none
 * issued after it. Values include large ones (stored in the blob store, so reading them awaits
 * I/O in the engine), msgpack-encoded ones (which may wait for the value codec on a page) and
 * byte keys; some rounds run with the write cache on.
 *
 * Environment-neutral (see ./vault-conformance.ts): used by the kv conformance suite (Node memory
 * and fs, Chromium through the worker) and by test/node/kv-order.test.ts (fast-check seeds).
 */
import { mulberry32 } from '../support/prng.js'
import type { Key, KeyValue } from '../../src/shared-exports.js'

/** Larger than the engine's blob threshold (256 KiB): such values live in the blob store. */
const LARGE = 300 * 1024

/** A value in a form cheap to compare and print (large byte arrays by size and tag). */
function summary(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (v instanceof Uint8Array) return `bytes(${v.length}, ${v[0]}, ${v[v.length - 1]})`
  return JSON.stringify(v)
}

function keyId(k: Key): string {
  return typeof k === 'string' ? `s:${k}` : `b:${[...k].join(',')}`
}

/** The store's key order: string keys (ASCII here, so code unit order is UTF-8 order), then byte keys (by bytes: the ids compare so, as the test's bytes are below 10). */
function compareIds(a: string, b: string): number {
  if (a[0] !== b[0]) return a[0] === 's' ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

type Step = { what: string; issue: (kv: KeyValue) => Promise<unknown>; expect: (model: Map<string, [Key, unknown]>) => unknown; show?: (got: unknown) => string }

/** One random call, with what the model says it returns (the model is changed by writes). */
function randomStep(rand: () => number, round: number, i: number): Step {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!
  const keys: Key[] = ['a', 'b', 'c', 'dd', new Uint8Array([1]), new Uint8Array([1, 0])]
  const key = () => pick(keys)
  const someKeys = () => Array.from({ length: 1 + Math.floor(rand() * 4) }, key)
  const value = (): unknown => {
    const r = rand()
    const tag = (round * 97 + i) % 251
    if (r < 0.15) {
      const bytes = new Uint8Array(LARGE)
      bytes[0] = tag
      bytes[LARGE - 1] = i % 256
      return bytes
    }
    if (r < 0.4) return { round, i, tag }
    if (r < 0.55) return null
    if (r < 0.7) return new Uint8Array([tag, i % 256])
    return `v${round}.${i}`
  }
  const found = (m: Map<string, [Key, unknown]>, ks: Key[]) => ks.filter((k) => m.has(keyId(k))).map((k) => [keyId(k), summary(m.get(keyId(k))![1])])
  const mapShow = (got: unknown) => JSON.stringify([...(got as Map<Key, unknown>)].map(([k, v]) => [keyId(k), summary(v)]))
  const sorted = (m: Map<string, [Key, unknown]>) => [...m.keys()].sort(compareIds)
  const r = rand()
  if (r < 0.12) {
    const k = key()
    return { what: `get(${keyId(k)})`, issue: (kv) => kv.get(k), expect: (m) => summary(m.get(keyId(k))?.[1]), show: summary }
  }
  if (r < 0.24) {
    const ks = someKeys()
    // getMany answers each found key in the order asked, a string key once (the Map keeps one
    // entry per string), a byte key once per time it was asked (each answer is a new Uint8Array).
    const seen = new Set<string>()
    const unique = ks.filter((k) => typeof k !== 'string' || (!seen.has(k) && seen.add(k)))
    return { what: `getMany(${ks.map(keyId)})`, issue: (kv) => kv.getMany(ks), expect: (m) => JSON.stringify(found(m, unique)), show: mapShow }
  }
  if (r < 0.32) {
    const k = key()
    return { what: `has(${keyId(k)})`, issue: (kv) => kv.has(k), expect: (m) => m.has(keyId(k)) }
  }
  if (r < 0.36) {
    const ks = someKeys()
    return { what: `hasAll(${ks.map(keyId)})`, issue: (kv) => kv.hasAll(ks), expect: (m) => ks.every((k) => m.has(keyId(k))) }
  }
  if (r < 0.4) return { what: 'size()', issue: (kv) => kv.size(), expect: (m) => m.size }
  if (r < 0.46) return { what: 'keys()', issue: (kv) => kv.keys(), expect: (m) => JSON.stringify(sorted(m)), show: (got) => JSON.stringify((got as Key[]).map(keyId)) }
  if (r < 0.52) {
    return {
      what: 'entries()',
      issue: (kv) => kv.entries(),
      expect: (m) => JSON.stringify(sorted(m).map((id) => [id, summary(m.get(id)![1])])),
      show: (got) => JSON.stringify((got as [Key, unknown][]).map(([k, v]) => [keyId(k), summary(v)])),
    }
  }
  if (r < 0.7) {
    const k = key()
    const v = value()
    return {
      what: `set(${keyId(k)}, ${summary(v)})`,
      issue: (kv) => kv.set(k, v),
      expect: (m) => {
        m.set(keyId(k), [k, v])
        return undefined
      },
    }
  }
  if (r < 0.78) {
    const pairs = someKeys().map((k) => [k, value()] as const)
    return {
      what: `setMany(${pairs.map(([k, v]) => `${keyId(k)}=${summary(v)}`)})`,
      issue: (kv) => kv.setMany(pairs),
      expect: (m) => {
        for (const [k, v] of pairs) m.set(keyId(k), [k, v])
        return pairs.length
      },
    }
  }
  if (r < 0.88) {
    const k = key()
    return { what: `delete(${keyId(k)})`, issue: (kv) => kv.delete(k), expect: (m) => m.delete(keyId(k)) }
  }
  if (r < 0.92) {
    const ks = someKeys()
    return {
      what: `deleteMany(${ks.map(keyId)})`,
      issue: (kv) => kv.deleteMany(ks),
      expect: (m) => ks.filter((k) => m.delete(keyId(k))).length,
    }
  }
  if (r < 0.96) {
    const k = key()
    return {
      what: `pop(${keyId(k)}, 'none')`,
      issue: (kv) => kv.pop(k, 'none'),
      expect: (m) => {
        const had = m.get(keyId(k))
        m.delete(keyId(k))
        return summary(had ? had[1] : 'none')
      },
      show: summary,
    }
  }
  return {
    what: 'clear()',
    issue: (kv) => kv.clear(),
    expect: (m) => {
      const n = m.size
      m.clear()
      return n
    },
  }
}

/**
 * Run `rounds` rounds of `steps` unawaited calls each on `kv` (which must start empty), seeded by
 * `seed`; throws an Error naming the seed, the round, the calls issued and the first result that
 * differs from program order. Every third round runs with the write cache on (tiny thresholds, so
 * that it also writes out in the middle of a round).
 */
export async function checkCallOrder(kv: KeyValue, seed: number, rounds: number, steps: number): Promise<void> {
  const rand = mulberry32(seed)
  const model = new Map<string, [Key, unknown]>()
  for (let round = 0; round < rounds; round++) {
    const cached = round % 3 === 2
    if (cached) kv.enableCache({ flushThreshold: LARGE / 2, capBytes: LARGE * 2 })
    const plan = Array.from({ length: steps }, (_, i) => randomStep(rand, round, i))
    // Issue everything first (no await in between), then compare each result with the model.
    const results = await Promise.allSettled(plan.map((s) => s.issue(kv as KeyValue)))
    const log = plan.map((s) => s.what)
    for (let i = 0; i < plan.length; i++) {
      const step = plan[i]!
      const expected = step.expect(model)
      const settled = results[i]!
      if (settled.status === 'rejected') throw new Error(`seed ${seed} round ${round}${cached ? ' (cache on)' : ''}: call ${i} ${step.what} failed: ${String(settled.reason)}\n  calls: ${log.join('; ')}`)
      const got = step.show ? step.show(settled.value) : settled.value
      if (got !== expected) {
        throw new Error(`seed ${seed} round ${round}${cached ? ' (cache on)' : ''}: call ${i} ${step.what} returned ${String(got)}, program order says ${String(expected)}\n  calls: ${log.join('; ')}`)
      }
    }
    if (cached) await kv.disableCache()
  }
}
