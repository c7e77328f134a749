/**
 * The key-value write cache when a write-out fails (docs/kv.md, "Write cache"): its entries stay
 * buffered and go out at the next write-out, unless a later call on the handle wrote the key (or
 * cleared the namespace) meanwhile: a later write always wins. The failure is a real one: the blob
 * store's write of a large buffered value fails once (a full disk), which fails that write-out and
 * leaves the vault usable. Scenarios, then a seeded property against a program-order model.
 *
 * LABVAULT_PROP_RUNS runs (default 8); a failure prints its seed, LABVAULT_PROP_SEED=<seed> replays it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { openVault, type KeyValue, type Vault } from '../../src/node.js'
import { MemoryAdapter } from '../../src/storage/memory-adapter.js'
import { mulberry32 } from '../support/prng.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 8)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

/** Larger than the engine's blob threshold (256 KiB): a write-out holding it puts a blob first. */
const LARGE = 300 * 1024

/** Memory storage whose next `failBlobWrites` blob writes fail as a full disk does (changing nothing). */
class FlakyBlobStorage extends MemoryAdapter {
  failBlobWrites = 0
  override async write(path: string, data: Uint8Array): Promise<void> {
    if (this.failBlobWrites > 0 && path.includes('/blobs/')) {
      this.failBlobWrites--
      throw new DOMException('simulated: the disk is full', 'QuotaExceededError')
    }
    return super.write(path, data)
  }
}

function large(tag: number): Uint8Array {
  const bytes = new Uint8Array(LARGE)
  bytes[0] = tag
  bytes[LARGE - 1] = tag
  return bytes
}

let n = 0
async function withVault(fn: (v: Vault, storage: FlakyBlobStorage) => Promise<void>): Promise<void> {
  const storage = new FlakyBlobStorage()
  const v = await openVault(`cache-failure-${++n}`, { storage })
  try {
    await fn(v, storage)
  } finally {
    await v.close()
  }
}


test('disableCache whose write-out fails: a write made meanwhile (straight to the engine) wins over the re-buffered entry', async () => {
  await withVault(async (v, storage) => {
    const kv = v.kv('a')
    kv.enableCache()
    await kv.set('k', large(1))
    storage.failBlobWrites = 1
    const disabling = kv.disableCache()
    const later = kv.set('k', 'later')
    await assert.rejects(disabling, (err: Error) => err.name === 'QuotaExceededError' || /full|quota/i.test(String(err)))
    await later
    assert.equal(await kv.get('k'), 'later', 'a read sees the later write, not the entry the failed write-out put back')
    await kv.flush()
    await kv.disableCache()
    assert.equal(await kv.get('k'), 'later', 'the next write-out does not overwrite it')
  })
})

test('flush whose write-out fails: a delete, a clear or a set that went straight to the engine meanwhile wins', async () => {
  await withVault(async (v, storage) => {
    const kv = v.kv('b')
    kv.enableCache()
    await kv.setMany([['d', large(2)], ['c', large(3)], ['keep', large(4)]])
    storage.failBlobWrites = 1
    const flushing = kv.flush()
    const deleted = kv.delete('d')
    await assert.rejects(flushing)
    assert.equal(await deleted, false, 'the delete ran after the failed write-out: d was not there')
    assert.equal(await kv.get('d'), undefined, 'the deleted key stays deleted')
    assert.equal((await kv.get('keep') as Uint8Array)[0], 4, 'a key no later call wrote is still buffered')
    assert.equal(await kv.flush(), 2, 'the next write-out writes the two entries nothing superseded')
    assert.equal(await kv.get('d'), undefined)
    assert.equal((await kv.get('c') as Uint8Array)[0], 3)
    assert.deepEqual(await kv.keys(), ['c', 'keep'])

    await kv.set('x', large(5))
    storage.failBlobWrites = 1
    const again = kv.flush()
    const cleared = kv.clear()
    await assert.rejects(again)
    assert.equal(await cleared, 2, 'the clear ran after the failed write-out, on what the engine held')
    assert.deepEqual(await kv.keys(), [], 'the entry of the failed write-out is not put back over the clear')
    assert.equal(await kv.flush(), 0)

    // A call that starts a write-out itself waits for it and fails with it, changing nothing: the
    // entries stay buffered and go out with the next one.
    await kv.set('y', large(6))
    storage.failBlobWrites = 1
    await assert.rejects(kv.clear(), (err: Error) => err.name === 'QuotaExceededError' || /full|quota/i.test(String(err)))
    assert.deepEqual(await kv.keys(), ['y'], 'the failed clear changed nothing; y was written by the next write-out')
    assert.equal(await kv.flush(), 0)
  })
})

test('two write-outs in flight, the first fails: the entry the second wrote is not put back over it', async () => {
  await withVault(async (v, storage) => {
    const kv = v.kv('c')
    kv.enableCache()
    await kv.set('k', large(7))
    storage.failBlobWrites = 1
    const first = kv.flush()
    await kv.set('k', 'second')
    const second = kv.flush()
    await assert.rejects(first)
    assert.equal(await second, 1)
    assert.equal(await kv.get('k'), 'second')
    assert.equal(await kv.flush(), 0, 'nothing was put back')
    await kv.disableCache()
    assert.equal(await kv.get('k'), 'second')
  })
})

type CacheStep = { what: string; issue: (kv: KeyValue) => Promise<unknown>; apply: (model: Map<string, string>, ok: boolean) => void }

/** One random call on a cached handle; `apply` changes the model as program order says (given whether the call succeeded). */
function cacheStep(rand: () => number, round: number, i: number): CacheStep {
  const k = ['a', 'b', 'c', 'd'][Math.floor(rand() * 4)]!
  const tag = (round * 31 + i) % 250
  const r = rand()
  if (r < 0.5) {
    const big = rand() < 0.5
    const shown = big ? `L${tag}` : `s${tag}`
    // Buffered: it takes effect even when the write-out it started fails (its entry stays buffered).
    return { what: `set(${k}, ${shown})`, issue: (kv) => kv.set(k, big ? large(tag) : shown), apply: (m) => void m.set(k, shown) }
  }
  if (r < 0.7) return { what: `delete(${k})`, issue: (kv) => kv.delete(k), apply: (m, ok) => void (ok && m.delete(k)) }
  if (r < 0.76) return { what: 'clear()', issue: (kv) => kv.clear(), apply: (m, ok) => void (ok && m.clear()) }
  if (r < 0.86) {
    const ks = [k, ['a', 'b', 'c', 'd'][Math.floor(rand() * 4)]!]
    return { what: `deleteMany(${ks})`, issue: (kv) => kv.deleteMany(ks), apply: (m, ok) => void (ok && ks.forEach((x) => m.delete(x))) }
  }
  return { what: 'flush()', issue: (kv) => kv.flush(), apply: () => {} }
}

/** A stored value in the model's form. */
function shown(v: unknown): string {
  return v instanceof Uint8Array ? `L${v[0]}` : String(v)
}

test(`seeded: write-outs that fail never let an older write win over a later one (seed ${SEED}, ${RUNS} runs)`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer(), async (seed) => {
      await withVault(async (v, storage) => {
        const rand = mulberry32(seed)
        const kv = v.kv('p')
        // Write-outs start by themselves in the middle of a round (threshold: two large values).
        kv.enableCache({ flushThreshold: 2 * LARGE, capBytes: 8 * LARGE })
        const model = new Map<string, string>()
        for (let round = 0; round < 5; round++) {
          storage.failBlobWrites = Math.floor(rand() * 3)
          const plan = Array.from({ length: 16 }, (_, i) => cacheStep(rand, round, i))
          const results = await Promise.allSettled(plan.map((s) => s.issue(kv)))
          plan.forEach((s, i) => s.apply(model, results[i]!.status === 'fulfilled'))
          // Nothing fails now: what stays buffered goes out, then the engine must hold the model.
          storage.failBlobWrites = 0
          await kv.flush()
          const got = new Map((await kv.entries()).map(([key, value]) => [key as string, shown(value)]))
          assert.deepEqual(
            [...got].sort(),
            [...model].sort(),
            `seed ${seed} round ${round}: ${plan.map((s, i) => `${s.what}${results[i]!.status === 'rejected' ? ' (failed)' : ''}`).join('; ')}`,
          )
        }
      })
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
  )
})

test('close() whose write-out of a cache fails rejects with that error (it resolved: the buffered writes were gone without a word)', async () => {
  const storage = new FlakyBlobStorage()
  const v = await openVault(`cache-failure-${++n}`, { storage })
  const kv = v.kv('a')
  kv.enableCache()
  await kv.set('k', large(1))
  await kv.set('small', 1)
  // Another namespace's cache is written all the same, and the vault is closed either way.
  const other = v.kv('b')
  other.enableCache()
  await other.set('kept', 2)
  storage.failBlobWrites = 1
  await assert.rejects(v.close(), (err: Error) => err.name === 'QuotaExceededError' || /full|quota/i.test(String(err)))
  assert.equal(v.isClosed, true)
  const again = await openVault(v.name, { storage })
  try {
    assert.equal(await again.kv('a').has('k'), false)
    assert.equal(await again.kv('b').get('kept'), 2)
  } finally {
    await again.close()
  }
})
