/**
 * The key-value conformance suite: `vault.kv()` through the public API, the same cases in Node (memory,
 * fs), through the worker in Chromium (OPFS, IndexedDB) and from a follower tab (see
 * ./vault-conformance.ts). Node-only checks (blob counts on disk, engine options such as
 * `checkpointBytes`) stay in test/node/kv.test.ts.
 */
import { check, equal, rejects } from './assert.js'
import type { VaultConformanceCase } from './vault-conformance.js'
import { checkCallOrder } from './kv-order.js'

/** Every storable kind of value (README, "Values"), under a key that names it. */
function everyValueType(): [string, unknown][] {
  return [
    ['null', null],
    ['true', true],
    ['false', false],
    ['int', 42],
    ['float', 3.25],
    ['neg', -7],
    ['nan', NaN],
    ['inf', -Infinity],
    ['big', 12345678901234567890123456789n],
    ['small big', 5n],
    ['str', 'héllo wörld ✓'],
    ['empty str', ''],
    ['bytes', new Uint8Array([0, 1, 255])],
    ['f32', new Float32Array([1.5, -2])],
    ['f64', new Float64Array([Math.PI])],
    ['i16', new Int16Array([-3, 4])],
    ['u32', new Uint32Array([4294967295])],
    ['bi64', new BigInt64Array([-5n])],
    ['date', new Date(1700000000123)],
    ['map', new Map<unknown, unknown>([[1, 'a'], ['k', { x: [1, 2] }], [true, null]])],
    ['set', new Set([1, 'b', 3.5])],
    ['array', [1, 'two', [3, { four: 4 }], null]],
    ['object', { a: { b: [new Date(5), new Uint8Array([9])], m: new Map([[{ o: 1 }, 2]]) }, n: null }],
  ]
}

/** Byte `i` of the deterministic test stream `seed` (cheap to regenerate, never all in memory). */
function streamByte(seed: number, i: number): number {
  return (Math.imul(i ^ seed, 2654435761) >>> 24) & 0xff
}

/** `total` bytes of stream `seed`, delivered in pieces of odd sizes (never aligned to a chunk). */
async function* byteStream(seed: number, total: number, piece = 100_003): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < total; at += piece) {
    const n = Math.min(piece, total - at)
    const out = new Uint8Array(n)
    for (let j = 0; j < n; j++) out[j] = streamByte(seed, at + j)
    yield out
  }
}

/** Read a stream to its end, checking every byte against stream `seed`; returns the byte count. */
async function checkStream(stream: ReadableStream<Uint8Array>, seed: number, message: string): Promise<number> {
  const reader = stream.getReader()
  let at = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return at
    check(value instanceof Uint8Array, `${message}: chunks are Uint8Array`)
    for (let j = 0; j < value.length; j++) {
      if (value[j] !== streamByte(seed, at + j)) throw new Error(`${message}: byte ${at + j} differs`)
    }
    at += value.length
  }
}

/** Every case of the suite, in a stable order. */
export const kvConformanceCases: VaultConformanceCase[] = [
  {
    name: 'a read issued before a write does not see it, a read issued after does (awaited or not)',
    async run(t) {
      const v = await t.open()
      const kv = v.kv()
      const large = new Uint8Array(300 * 1024).fill(7)
      await kv.setMany([['a', 1], ['big', large]])
      // The reported case: a getMany issued before a delete, awaited after it.
      const before = kv.getMany(['a', 'big'])
      equal(await kv.delete('a'), true, 'the delete finds the key')
      equal([...(await before).keys()], ['a', 'big'], 'the getMany issued before the delete still sees the key')
      const entries = kv.entries()
      const deleted = kv.delete('big')
      const after = kv.has('big')
      equal((await entries).length, 1, 'entries() issued before the delete sees the large value')
      equal(await deleted, true, 'the large value is deleted')
      equal(await after, false, 'has() issued after the delete does not see it')
      // A large value's write (via the blob store) is not overtaken by a later small write or read.
      const w1 = kv.set('k', large)
      const w2 = kv.set('k', 'small')
      const r = kv.get('k')
      await Promise.all([w1, w2])
      equal(await r, 'small', 'the later small write wins and the read after it sees it')
      equal(await kv.get('k'), 'small', 'and it stays so')
    },
  },
  {
    name: 'unawaited calls on one handle take effect in call order (seeded interleavings, cache on and off)',
    async run(t) {
      const v = await t.open()
      const seed = (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0
      await checkCallOrder(v.kv('order'), seed, 6, 24)
    },
  },
  {
    name: 'every value type round-trips, also after reopen, keeping its class',
    async run(t) {
      let v = await t.open()
      const values = everyValueType()
      for (const [k, val] of values) await v.kv().set(k, val)
      for (const [k, val] of values) equal(await v.kv().get(k), val, k)
      v = await t.reopen(v)
      for (const [k, val] of values) {
        const got = await v.kv().get(k)
        equal(got, val, `after reopen: ${k}`)
        if (ArrayBuffer.isView(val)) check(Object.getPrototypeOf(got) === Object.getPrototypeOf(val), `${k} keeps its class`)
      }
    },
  },

  {
    name: 'null is stored and distinct from missing; the fallback applies only to missing keys',
    async run(t) {
      const kv = (await t.open()).kv()
      await kv.set('n', null)
      equal(await kv.get('n'), null, 'get of a stored null')
      equal(await kv.get('missing'), undefined, 'get of a missing key')
      equal(await kv.has('n'), true, 'has of a stored null')
      equal(await kv.has('missing'), false, 'has of a missing key')
      equal(await kv.get('missing', 'fb'), 'fb', 'fallback of a missing key')
      equal(await kv.get('n', 'fb'), null, 'fallback of a stored null')
    },
  },

  {
    name: 'string and byte keys are distinct and case-sensitive',
    async run(t) {
      const kv = (await t.open()).kv()
      await kv.set('abc', 1)
      await kv.set(new TextEncoder().encode('abc'), 2)
      await kv.set('ABC', 3)
      equal(await kv.get('abc'), 1, 'string key')
      equal(await kv.get(new Uint8Array([97, 98, 99])), 2, 'byte key')
      equal(await kv.get('ABC'), 3, 'upper-case key')
      equal(await kv.size(), 3, 'size')
    },
  },

  {
    name: 'large values round-trip and are collected at checkpoint once deleted',
    async run(t) {
      let v = await t.open()
      const big = new Uint8Array(1536 * 1024).map((_, i) => i % 251)
      await v.kv().set('big', big)
      await v.kv().set('bigobj', { data: big, note: 'x' })
      equal(await v.kv().get('big'), big, 'big bytes')
      check((await v.info()).sizeBytes > 3 * 1024 * 1024, 'both values are counted in sizeBytes')
      v = await t.reopen(v)
      equal(await v.kv().get('bigobj'), { data: big, note: 'x' }, 'big object after reopen')
      await v.kv().delete('big')
      await v.kv().delete('bigobj')
      await v.checkpoint()
      const after = (await v.info()).sizeBytes
      check(after < 1024 * 1024, `unreferenced values are collected at checkpoint (sizeBytes ${after})`)
    },
  },

  {
    name: 'get, getOrThrow, delete, pop, popItem (last in key order) and setDefault',
    async run(t) {
      const { NotFoundError } = t.lib
      const kv = (await t.open()).kv()
      await rejects(kv.getOrThrow('x'), NotFoundError, 'getOrThrow of a missing key')
      await kv.set('x', 1)
      equal(await kv.getOrThrow('x'), 1, 'getOrThrow')
      equal(await kv.delete('x'), true, 'delete of a present key')
      equal(await kv.delete('x'), false, 'delete of a missing key')
      await kv.set('p', 'v')
      equal(await kv.pop('p'), 'v', 'pop')
      equal(await kv.pop('p', 'fallback'), 'fallback', 'pop with a fallback')
      await rejects(kv.pop('p'), NotFoundError, 'pop of a missing key')
      await rejects(kv.popItem(), NotFoundError, 'popItem of an empty namespace')
      // Inserted out of key order: popItem takes the greatest key, not the latest insert.
      await kv.update({ b: 2, c: 3, a: 1 })
      equal(await kv.popItem(), ['c', 3], 'first popItem')
      equal(await kv.popItem(), ['b', 2], 'second popItem')
      equal(await kv.size(), 1, 'size after two popItems')
      equal(await kv.setDefault('d', 10), 10, 'setDefault of a missing key')
      equal(await kv.setDefault('d', 20), 10, 'setDefault of a present key')
      equal(await kv.get('d'), 10, 'the first default stays')
    },
  },

  {
    name: 'bulk operations: setMany, update, getMany, hasAll, deleteMany, popMany, clear',
    async run(t) {
      const kv = (await t.open()).kv()
      equal(await kv.setMany([['a', 1], ['b', 2], ['c', 3]]), 3, 'setMany')
      equal(await kv.update(new Map([['d', 4]])), 1, 'update from a Map')
      equal(await kv.update([['e', 5]]), 1, 'update from pairs')
      equal([...(await kv.getMany(['a', 'c', 'zz']))], [['a', 1], ['c', 3]], 'getMany skips missing keys')
      equal(await kv.hasAll(['a', 'b']), true, 'hasAll of present keys')
      equal(await kv.hasAll(['a', 'zz']), false, 'hasAll with a missing key')
      equal(await kv.deleteMany(['a', 'zz']), 1, 'deleteMany')
      equal([...(await kv.popMany(['b', 'c', 'zz']))], [['b', 2], ['c', 3]], 'popMany')
      equal(await kv.keys(), ['d', 'e'], 'keys left')
      equal(await kv.clear(), 2, 'clear')
      equal(await kv.size(), 0, 'size after clear')
    },
  },

  {
    name: 'keys, values and entries with prefix and limit; async iteration in key order, in batches',
    async run(t) {
      const kv = (await t.open()).kv()
      await kv.setMany(Array.from({ length: 2500 }, (_, i) => [`item:${String(i).padStart(5, '0')}`, i] as const))
      await kv.set('other', -1)
      await kv.set(new Uint8Array([1, 2]), 'bytes')
      equal((await kv.keys({ prefix: 'item:' })).length, 2500, 'keys with a prefix')
      equal(await kv.keys({ prefix: 'item:0000', limit: 3 }), ['item:00000', 'item:00001', 'item:00002'], 'keys with prefix and limit')
      equal(await kv.keys({ prefix: new Uint8Array([1]) }), [new Uint8Array([1, 2])], 'keys with a byte prefix')
      equal((await kv.values({ prefix: 'item:0249' })).slice(0, 2), [2490, 2491], 'values with a prefix')
      equal(await kv.entries({ prefix: 'oth' }), [['other', -1]], 'entries with a prefix')
      let n = 0
      let last = ''
      for await (const [k] of kv) {
        if (typeof k === 'string') {
          check(k > last, `keys arrive in order: ${k} after ${last}`)
          last = k
        }
        n++
      }
      equal(n, 2502, 'entries iterated')
      const limited = []
      for await (const e of kv.iterate({ prefix: 'item:', batchSize: 7, limit: 20 })) limited.push(e)
      equal(limited.length, 20, 'iterate with a limit')
      equal(limited[19], ['item:00019', 19], 'the last entry of the limited iteration')
    },
  },

  {
    name: 'namespaces are separate',
    async run(t) {
      const v = await t.open()
      await v.kv().set('k', 1)
      await v.kv('settings').set('k', 2)
      equal(await v.kv().get('k'), 1, 'default namespace')
      equal(await v.kv('settings').get('k'), 2, 'settings namespace')
      equal(await v.kv('empty').size(), 0, 'an unused namespace is empty')
      equal(await v.kv('empty').keys(), [], 'an unused namespace has no keys')
      await v.kv('settings').clear()
      equal(await v.kv().get('k'), 1, 'clearing one namespace spares the others')
    },
  },

  {
    name: 'withCache buffers writes that reads see, and writes them when the callback throws or the vault closes',
    async run(t) {
      let v = await t.open()
      const kv = v.kv()
      await kv.withCache({ flushThreshold: 1 << 20 }, async () => {
        for (let i = 0; i < 1000; i++) await kv.set(`c${i}`, i)
        equal(await kv.get('c999'), 999, 'a read sees the buffer')
        equal(await kv.size(), 1000, 'size flushes first')
      })
      await rejects(
        kv.withCache({}, async () => {
          await kv.set('thrown', 'kept')
          throw new Error('boom')
        }),
        Error,
        'the callback error comes through',
        /boom/,
      )
      await kv.withCache({}, async () => {
        await kv.set('at-close', 1)
        await v.close()
      })
      v = await t.open()
      equal(await v.kv().get('thrown'), 'kept', 'written although the callback threw')
      equal(await v.kv().get('c500'), 500, 'buffered writes landed')
      equal(await v.kv().get('at-close'), 1, 'a buffered write is flushed by close')
    },
  },

  {
    name: 'set with an encoding stores the value in it and reads it back as stored; a value it cannot hold is refused',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      let v = await t.open()
      const kv = v.kv()
      const doc = { a: [1, 2.5, 'x', null, true], b: { nested: 'é✓' }, __proto__x: 1 }
      await kv.set('json', doc, { encoding: 'json' })
      await kv.set('json-str', 'text', { encoding: 'json' })
      await kv.set('raw', new Uint8Array([0, 1, 255]), { encoding: 'raw' })
      await kv.set('packed-bytes', new Uint8Array([7, 8]), { encoding: 'msgpack' })
      await kv.set('packed', new Map([[1, new Date(5)]]), { encoding: 'msgpack' })
      await kv.set('big-json', { list: Array.from({ length: 40000 }, (_, i) => i) }, { encoding: 'json' })
      const check1 = async (label: string) => {
        const k = v.kv()
        equal(await k.get('json'), doc, `${label}: json`)
        equal(await k.get('json-str'), 'text', `${label}: json string`)
        equal(await k.get('raw'), new Uint8Array([0, 1, 255]), `${label}: raw`)
        equal(await k.get('packed-bytes'), new Uint8Array([7, 8]), `${label}: msgpack bytes`)
        equal(await k.get('packed'), new Map([[1, new Date(5)]]), `${label}: msgpack map`)
        equal(((await k.get('big-json')) as { list: number[] }).list[39999], 39999, `${label}: a large json value (blob)`)
        equal((await k.getMany(['json', 'raw'])).get('json'), doc, `${label}: getMany decodes json`)
      }
      await check1('now')
      v = await t.reopen(v)
      await check1('after reopen')
      const k = v.kv()
      const cannot: [unknown, string][] = [
        [NaN, 'json'], [-0, 'json'], [Infinity, 'json'], [5n, 'json'], [new Date(1), 'json'], [new Map(), 'json'],
        [[1, undefined], 'json'], [{ a: undefined }, 'json'], [new Uint8Array(2), 'json'], [[, 1], 'json'],
        ['text', 'raw'], [new Float32Array(2), 'raw'], [{ a: 1 }, 'raw'],
        [() => 1, 'msgpack'], [undefined, 'json'],
      ]
      for (const [value, encoding] of cannot) {
        await rejects(k.set('bad', value, { encoding: encoding as 'json' }), InvalidArgumentError, `${encoding} refuses ${String(value)}`)
      }
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      await rejects(k.set('bad', cyclic, { encoding: 'json' }), InvalidArgumentError, 'json refuses a cycle', /cycle/)
      await rejects(k.set('bad', 1, { encoding: 'cbor' as never }), InvalidArgumentError, 'an unknown encoding')
      await rejects(k.set('bad', 1, 'json' as never), InvalidArgumentError, 'options that are not an object')
      equal(await k.has('bad'), false, 'nothing refused was stored')
    },
  },

  {
    name: 'enableCache buffers until flush (the count written), disableCache, the thresholds, the interval or close',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      let v = await t.open()
      const other = await t.open()
      const kv = v.kv()
      kv.enableCache({ capBytes: 1 << 20, flushThreshold: 1 << 20 })
      for (let i = 0; i < 10; i++) await kv.set(`c${i}`, i)
      equal(await kv.get('c9'), 9, 'a read sees the buffer')
      equal(await other.kv().has('c0'), false, 'not written yet')
      equal(await kv.flush(), 10, 'flush() is the number of entries written')
      equal(await other.kv().get('c9'), 9, 'written by flush()')
      equal(await kv.flush(), 0, 'nothing left to flush')
      await kv.setMany([['m1', 1], ['m2', 2]])
      await kv.set('m1', 'again')
      equal(await kv.disableCache(), 2, 'disableCache() writes what is buffered (one entry per key)')
      equal(await other.kv().get('m1'), 'again', 'the last value of a key wins')
      await kv.set('direct', 1)
      equal(await other.kv().get('direct'), 1, 'without the cache a set is written at once')
      equal(await kv.disableCache(), 0, 'disableCache() without a cache')

      kv.enableCache({ capBytes: 1024, flushThreshold: 1 << 20 })
      await kv.set('big', 'y'.repeat(5000))
      equal(await other.kv().get('big'), 'y'.repeat(5000), 'a value larger than capBytes bypasses the cache')
      await kv.set('p1', 'z'.repeat(600))
      await kv.set('p2', 'z'.repeat(600))
      equal(await other.kv().has('p1'), true, 'a write that would pass capBytes flushes first')
      equal(await kv.flush(), 1, 'only the second is buffered then')
      kv.enableCache({ capBytes: 1 << 20, flushThreshold: 100 })
      await kv.set('t1', 'w'.repeat(200))
      equal(await other.kv().has('t1'), true, 'reaching flushThreshold flushes')
      await kv.disableCache()

      kv.enableCache({ flushIntervalMs: 5 })
      await kv.set('tick', 1)
      // The interval flush writes it without any call of ours: wait until the other handle sees it.
      while (!(await other.kv().has('tick'))) await new Promise((r) => setTimeout(r, 5))
      equal(await kv.flush(), 0, 'the interval flush wrote it')
      await kv.disableCache()

      for (const bad of [{ capBytes: -1 }, { flushThreshold: 1.5 }, { flushIntervalMs: 0 }, 'fast']) {
        let threw = false
        try {
          kv.enableCache(bad as never)
        } catch (err) {
          threw = err instanceof InvalidArgumentError
        }
        check(threw, `enableCache(${JSON.stringify(bad)}) throws InvalidArgumentError`)
      }
      await kv.set('not-cached', 1)
      equal(await other.kv().get('not-cached'), 1, 'a refused enableCache enables nothing')

      kv.enableCache({ flushIntervalMs: 3_600_000 })
      await kv.set('at-close', 'kept')
      await other.close()
      await v.close()
      v = await t.open()
      equal(await v.kv().get('at-close'), 'kept', 'close() writes the buffer (and stops the hour-long timer)')
    },
  },

  {
    name: 'refused values and keys change nothing',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      const v = await t.open()
      const kv = v.kv()
      await kv.set('keep', 1)
      const before = (await v.info()).sizeBytes
      class Point {
        x = 1
      }
      const bad: unknown[] = [() => 1, Symbol('s'), new Point(), undefined, { nested: { f() {} } }, [1, Symbol('x')], new WeakMap(), new DataView(new ArrayBuffer(2))]
      for (const value of bad) {
        await rejects(kv.set('bad', value), InvalidArgumentError, `set of a ${typeof value}`)
        await rejects(kv.setMany([['ok', 1], ['bad', value]]), InvalidArgumentError, `setMany with a ${typeof value}`)
      }
      const cyclic: Record<string, unknown> = {}
      cyclic.self = cyclic
      await rejects(kv.set('cyc', cyclic), InvalidArgumentError, 'a cyclic value', /cycle/)
      for (const key of [1, null, undefined, {}, ['a']]) await rejects(kv.set(key as never, 1), InvalidArgumentError, `key ${String(key)}`)
      equal(await kv.has('bad'), false, 'nothing stored under "bad"')
      equal(await kv.has('ok'), false, 'a refused setMany writes nothing')
      equal(await kv.keys(), ['keep'], 'keys')
      equal((await v.info()).sizeBytes, before, 'sizeBytes')
    },
  },

  {
    name: 'calls after close reject with ClosedError; close is idempotent',
    async run(t) {
      const { ClosedError, VaultError } = t.lib
      const v = await t.open()
      await v.kv().set('x', 1)
      await v.close()
      await v.close()
      await rejects(v.kv().get('x'), ClosedError, 'get after close')
      await rejects(v.kv().set('x', 2), ClosedError, 'set after close')
      await rejects(v.info(), ClosedError, 'info after close')
      const err = await rejects(v.kv().get('x'), VaultError, 'a ClosedError is a VaultError')
      equal((err as { code?: unknown }).code, 'CLOSED', 'its code')
      equal(await (await t.open()).kv().get('x'), 1, 'the vault itself is untouched')
    },
  },

  {
    name: 'transactions commit atomically or not at all; a refused call inside does not abort',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      const v = await t.open()
      const kv = v.kv()
      await Promise.all(
        Array.from({ length: 20 }, () =>
          v.transaction(async (tx) => {
            const n = ((await tx.kv().get('n')) as number | undefined) ?? 0
            await tx.kv().set('n', n + 1)
          }),
        ),
      )
      equal(await kv.get('n'), 20, 'no lost update')
      await rejects(
        v.transaction(async (tx) => {
          await tx.kv().set('n', 999)
          await tx.kv().set('other', 1)
          throw new Error('abort')
        }),
        Error,
        'the transaction rejects with its callback error',
        /abort/,
      )
      equal(await kv.get('n'), 20, 'rolled back')
      equal(await kv.has('other'), false, 'rolled back entirely')
      const result = await v.transaction(async (tx) => {
        await tx.kv().set('a', 1)
        await rejects(tx.kv().set('bad', () => 1), InvalidArgumentError, 'a refused set in a transaction')
        return tx.kv().get('a')
      })
      equal(result, 1, 'the transaction returns its callback result')
      equal(await kv.has('bad'), false, 'the refused value is not stored')
    },
  },

  {
    name: 'concurrent writers all land, also after reopen',
    async run(t) {
      // 100, not more: from a follower tab each write is a forwarded strict commit of its own.
      let v = await t.open()
      await Promise.all(Array.from({ length: 100 }, (_, i) => v.kv().set(`k${i}`, i)))
      equal(await v.kv().size(), 100, 'size')
      v = await t.reopen(v)
      equal(await v.kv().size(), 100, 'size after reopen')
      equal(await v.kv().get('k99'), 99, 'the last write')
    },
  },

  {
    name: 'a write issued before a read is visible to it even when not awaited',
    async run(t) {
      const kv = (await t.open()).kv()
      const writes = [kv.set('a', 1), kv.set('a', 2)]
      equal(await kv.get('a'), 2, 'the read sees both writes')
      await Promise.all(writes)
      const more = Array.from({ length: 30 }, (_, i) => kv.set(`seq${i}`, i))
      equal(await kv.get('seq29'), 29, 'a read after 30 unawaited writes')
      await Promise.all(more)
    },
  },

  {
    name: 'a checkpoint keeps every value; integrityCheck is ok',
    async run(t) {
      let v = await t.open()
      for (let round = 0; round < 5; round++) {
        await v.kv().setMany(Array.from({ length: 200 }, (_, i) => [`k${round}-${i}`, { round, i, pad: 'x'.repeat(40) }] as const))
        if (round === 2) await v.checkpoint()
      }
      await v.checkpoint()
      equal(await v.integrityCheck(), ['ok'], 'integrityCheck')
      v = await t.reopen(v)
      equal(await v.kv().size(), 1000, 'size after reopen')
      equal(await v.kv().get('k4-199'), { round: 4, i: 199, pad: 'x'.repeat(40) }, 'the last value')
    },
  },

  {
    name: 'optimize compacts the vault (VACUUM, then a checkpoint) and keeps every value',
    async run(t) {
      let v = await t.open()
      const kv = v.kv()
      await kv.setMany(Array.from({ length: 2000 }, (_, i) => [`k${i}`, 'x'.repeat(500)] as const))
      await v.checkpoint()
      equal(await kv.deleteMany(Array.from({ length: 1900 }, (_, i) => `k${i}`)), 1900, 'deleted')
      const r = await v.optimize()
      check(Number.isInteger(r.bytesBefore) && Number.isInteger(r.bytesAfter), 'byte counts are whole numbers')
      check(r.bytesAfter < r.bytesBefore / 2, `the vault shrank: ${r.bytesBefore} -> ${r.bytesAfter}`)
      equal(await kv.size(), 100, 'size')
      await kv.set('after', 1)
      equal(await v.integrityCheck(), ['ok'], 'integrityCheck')
      v = await t.reopen(v)
      equal(await v.kv().size(), 101, 'size after reopen')
      equal(await v.kv().get('k1999'), 'x'.repeat(500), 'a kept value after reopen')
      equal(await v.kv().get('after'), 1, 'a write after optimize, after reopen')
      const again = await v.optimize()
      check(again.bytesAfter <= again.bytesBefore, 'a second optimize does not grow the vault')
    },
  },

  {
    name: 'two handles on one vault see each other’s writes',
    async run(t) {
      const a = await t.open()
      const b = await t.open()
      await a.kv().set('from-a', 1)
      equal(await b.kv().get('from-a'), 1, 'b reads a’s write')
      await b.kv().set('from-b', 2)
      equal(await a.kv().get('from-b'), 2, 'a reads b’s write')
      await a.close()
      equal(await b.kv().get('from-a'), 1, 'b goes on after a closed')
    },
  },

  {
    name: 'setStream writes a multi-chunk value piece by piece; getStream and get read it back, also after reopen',
    async run(t) {
      let v = await t.open()
      const size = 9 * (1 << 20) + 123
      equal(await v.kv().setStream('big', byteStream(1, size), { size }), size, 'setStream resolves to the bytes written')
      equal(await checkStream(await v.kv().getStream('big'), 1, 'getStream'), size, 'getStream delivers every byte')
      const whole = (await v.kv().get('big')) as Uint8Array
      check(whole instanceof Uint8Array && whole.length === size, 'get() reads a streamed value whole')
      for (const i of [0, 4194303, 4194304, size - 1]) equal(whole[i], streamByte(1, i), `get() byte ${i}`)
      v = await t.reopen(v)
      equal(await checkStream(await v.kv().getStream('big'), 1, 'after reopen'), size, 'after reopen')
      // A ReadableStream and a Blob are sources too; an empty stream stores empty bytes.
      const blob = new Blob([new Uint8Array([1, 2, 3]), new Uint8Array([4])])
      equal(await v.kv().setStream('blob', blob), 4, 'a Blob source')
      equal(await v.kv().get('blob'), new Uint8Array([1, 2, 3, 4]), 'a Blob source round-trips')
      const rs = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new Uint8Array([7])); c.enqueue(new Uint8Array([8, 9])); c.close() } })
      await v.kv().setStream('rs', rs)
      equal(await v.kv().get('rs'), new Uint8Array([7, 8, 9]), 'a ReadableStream source round-trips')
      await v.kv().setStream('empty', byteStream(2, 0))
      equal(await v.kv().get('empty'), new Uint8Array(0), 'an empty stream stores empty bytes')
      equal(await checkStream(await v.kv().getStream('empty'), 2, 'empty'), 0, 'an empty value streams nothing')
      // A streamed value is replaced, deleted and popped like any other.
      await v.kv().set('big', 'small now')
      equal(await v.kv().get('big'), 'small now', 'set() replaces a streamed value')
      await v.kv().setStream('big', byteStream(3, 5 << 20))
      equal(await v.kv().delete('big'), true, 'a streamed value can be deleted')
      equal(await v.kv().has('big'), false, 'deleted')
    },
  },

  {
    name: 'a 50 MB value streams in and out',
    async run(t) {
      const v = await t.open()
      const size = 50_000_000
      await v.kv().setStream('fifty', byteStream(5, size, 1 << 20), { size })
      equal(await checkStream(await v.kv().getStream('fifty'), 5, '50 MB'), size, 'every byte of 50 MB comes back')
    },
  },

  {
    name: 'getStream reads values written by set(), small and large; a missing key or a structured value is refused',
    async run(t) {
      const v = await t.open()
      const large = new Uint8Array(300_000).map((_, i) => streamByte(9, i))
      await v.kv().set('large', large)
      equal(await checkStream(await v.kv().getStream('large'), 9, 'set() bytes'), large.length, 'bytes set() stored in a blob stream out')
      await v.kv().set('small', new Uint8Array([streamByte(9, 0), streamByte(9, 1)]))
      equal(await checkStream(await v.kv().getStream('small'), 9, 'small'), 2, 'small bytes stream out')
      await rejects(v.kv().getStream('nope'), t.lib.NotFoundError, 'a missing key')
      await v.kv().set('obj', { a: 1 })
      await rejects(v.kv().getStream('obj'), t.lib.InvalidArgumentError, 'a structured value', /not bytes/)
    },
  },

  {
    name: 'a stream that fails, lies about its size or is aborted writes nothing',
    async run(t) {
      const v = await t.open()
      const kv = v.kv()
      await kv.set('k', 'before')
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield* byteStream(4, 9 << 20)
        throw new Error('source broke')
      }
      const caught = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)
      const broke = await caught(kv.setStream('k', failing()))
      check(broke instanceof Error && broke.message === 'source broke', "the source's error comes through")
      equal(await kv.get('k'), 'before', 'a failed stream leaves the key as it was')
      await rejects(kv.setStream('k', byteStream(4, 5 << 20), { size: 5 << 19 }), t.lib.InvalidArgumentError, 'more than declared', /declared/)
      await rejects(kv.setStream('k', byteStream(4, 1000), { size: 2000 }), t.lib.InvalidArgumentError, 'fewer than declared', /declared/)
      await rejects(kv.setStream('k', [new Uint8Array(3), 'text' as unknown as Uint8Array]), t.lib.InvalidArgumentError, 'a chunk that is not bytes')
      await rejects(kv.setStream('k', 42 as unknown as Blob), t.lib.InvalidArgumentError, 'a source that is not a stream')
      await rejects(kv.setStream('k', byteStream(4, 10), { size: -1 }), t.lib.InvalidArgumentError, 'a negative size')
      const controller = new AbortController()
      async function* slow(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array(5 << 20)
        controller.abort(new Error('stopped by the user'))
        yield new Uint8Array(10)
      }
      const stopped = await caught(kv.setStream('k', slow(), { signal: controller.signal }))
      check(stopped instanceof Error && stopped.message === 'stopped by the user', 'an aborted stream rejects with the reason')
      equal(await kv.get('k'), 'before', 'nothing was written by any of them')
    },
  },

  {
    name: 'a streamed value replaced while it is read makes the reading stream error, never mix two values',
    async run(t) {
      const v = await t.open()
      const size = 6 * (4 << 20)
      await v.kv().setStream('moving', byteStream(6, size))
      const reader = (await v.kv().getStream('moving')).getReader()
      const first = await reader.read()
      check(!first.done && first.value.length === 4 << 20, 'the first chunk arrives')
      await v.kv().setStream('moving', byteStream(7, size))
      let delivered = first.value!.length
      let err: unknown
      try {
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          for (let j = 0; j < value.length; j += 4099) if (value[j] !== streamByte(6, delivered + j)) throw new Error(`byte ${delivered + j} is from the new value`)
          delivered += value.length
        }
      } catch (e) {
        err = e
      }
      check(err instanceof t.lib.ConflictError, `the stream errors with ConflictError (got ${String(err)})`)
      check(delivered < size, 'it stopped before the end')
      equal(await checkStream(await v.kv().getStream('moving'), 7, 'the new value'), size, 'the new value reads whole')
    },
  },
]
