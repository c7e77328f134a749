import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  ClosedError,
  InvalidArgumentError,
  MemoryAdapter,
  NotFoundError,
  VaultError,
  deleteVault,
  listVaults,
  openVault,
  type Vault,
} from '../../src/node.js'
import { BlobStore } from '../../src/persistence/blob-store.js'
import { tempDir } from './helpers.js'

const dir = tempDir()
let counter = 0
async function fresh(options: Parameters<typeof openVault>[1] = {}): Promise<Vault> {
  return openVault(`kv${++counter}`, { storage: 'fs', path: dir, ...options })
}

describe('key-value values', () => {
  test('every value type of API.md round-trips, also after reopen', async () => {
    const values: [string, unknown][] = [
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
    const v = await fresh()
    const name = (await v.info()).name
    const kv = v.kv()
    for (const [k, val] of values) await kv.set(k, val)
    for (const [k, val] of values) assert.deepEqual(await kv.get(k), val, k)
    await v.close()
    const again = await openVault(name, { storage: 'fs', path: dir })
    for (const [k, val] of values) {
      const got = await again.kv().get(k)
      assert.deepEqual(got, val, `after reopen: ${k}`)
      if (ArrayBuffer.isView(val)) assert.equal(Object.getPrototypeOf(got), Object.getPrototypeOf(val), `${k} keeps its class`)
    }
    await again.close()
  })

  test('null is stored and distinct from missing', async () => {
    const kv = (await fresh()).kv()
    await kv.set('n', null)
    assert.equal(await kv.get('n'), null)
    assert.equal(await kv.get('missing'), undefined)
    assert.equal(await kv.has('n'), true)
    assert.equal(await kv.has('missing'), false)
    assert.equal(await kv.get('missing', 'fb'), 'fb')
    assert.equal(await kv.get('n', 'fb'), null)
  })

  test('string and byte keys are distinct and case-sensitive', async () => {
    const kv = (await fresh()).kv()
    await kv.set('abc', 1)
    await kv.set(new TextEncoder().encode('abc'), 2)
    await kv.set('ABC', 3)
    assert.equal(await kv.get('abc'), 1)
    assert.equal(await kv.get(new Uint8Array([97, 98, 99])), 2)
    assert.equal(await kv.get('ABC'), 3)
    assert.equal(await kv.size(), 3)
  })

  test('large values live outside the image and round-trip', async () => {
    const v = await fresh()
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251)
    await v.kv().set('big', big)
    await v.kv().set('bigobj', { data: big, note: 'x' })
    assert.deepEqual(await v.kv().get('big'), big)
    const info = await v.info()
    assert.ok(info.sizeBytes > 6 * 1024 * 1024)
    await v.kv().delete('big')
    await v.kv().delete('bigobj')
    await v.checkpoint()
    assert.ok((await v.info()).sizeBytes < 1024 * 1024, 'unreferenced blobs are collected at checkpoint')
  })

  test('the blob byte count kept by puts and collection equals a fresh count of the folder', async () => {
    const storage = new MemoryAdapter()
    const blobs = new BlobStore(storage, 'v')
    assert.equal(await blobs.totalBytes(), 0)
    const a = await blobs.put(new Uint8Array(1000).fill(1))
    const b = await blobs.put(new Uint8Array(3000).fill(2))
    await blobs.put(new Uint8Array(1000).fill(1))
    assert.equal(await blobs.totalBytes(), 4000)
    blobs.unpin(a)
    blobs.unpin(a)
    blobs.unpin(b)
    assert.equal(await blobs.collect(new Set([b])), 1)
    assert.equal(await blobs.totalBytes(), 3000)
    assert.equal(await new BlobStore(storage, 'v').totalBytes(), 3000)
    // Another writer added one behind this store's back: counted again after forgetTotal.
    await new BlobStore(storage, 'v').put(new Uint8Array(500))
    assert.equal(await blobs.totalBytes(), 3000)
    blobs.forgetTotal()
    assert.equal(await blobs.totalBytes(), 3500)
  })
})

describe('key-value operations', () => {
  test('get/getOrThrow/delete/pop/popItem/setDefault', async () => {
    const kv = (await fresh()).kv()
    await assert.rejects(kv.getOrThrow('x'), NotFoundError)
    await kv.set('x', 1)
    assert.equal(await kv.getOrThrow('x'), 1)
    assert.equal(await kv.delete('x'), true)
    assert.equal(await kv.delete('x'), false)
    await kv.set('p', 'v')
    assert.equal(await kv.pop('p'), 'v')
    assert.equal(await kv.pop('p', 'fallback'), 'fallback')
    await assert.rejects(kv.pop('p'), NotFoundError)
    await assert.rejects(kv.popItem(), NotFoundError)
    await kv.update({ a: 1, b: 2 })
    const [k, val] = await kv.popItem()
    assert.ok((k === 'a' && val === 1) || (k === 'b' && val === 2))
    assert.equal(await kv.size(), 1)
    assert.equal(await kv.setDefault('d', 10), 10)
    assert.equal(await kv.setDefault('d', 20), 10)
    assert.equal(await kv.get('d'), 10)
  })

  test('bulk operations', async () => {
    const kv = (await fresh()).kv()
    assert.equal(await kv.setMany([['a', 1], ['b', 2], ['c', 3]]), 3)
    assert.equal(await kv.update(new Map([['d', 4]])), 1)
    assert.equal(await kv.update([['e', 5]]), 1)
    const got = await kv.getMany(['a', 'c', 'zz'])
    assert.deepEqual([...got], [['a', 1], ['c', 3]])
    assert.equal(await kv.hasAll(['a', 'b']), true)
    assert.equal(await kv.hasAll(['a', 'zz']), false)
    assert.equal(await kv.deleteMany(['a', 'zz']), 1)
    const popped = await kv.popMany(['b', 'c', 'zz'])
    assert.deepEqual([...popped], [['b', 2], ['c', 3]])
    assert.deepEqual(await kv.keys(), ['d', 'e'])
    assert.equal(await kv.clear(), 2)
    assert.equal(await kv.size(), 0)
  })

  test('keys, values, entries with prefix and limit; async iteration in batches', async () => {
    const kv = (await fresh()).kv()
    const entries = Array.from({ length: 2500 }, (_, i) => [`item:${String(i).padStart(5, '0')}`, i] as const)
    await kv.setMany(entries)
    await kv.set('other', -1)
    await kv.set(new Uint8Array([1, 2]), 'bytes')
    assert.equal((await kv.keys({ prefix: 'item:' })).length, 2500)
    assert.deepEqual(await kv.keys({ prefix: 'item:0000', limit: 3 }), ['item:00000', 'item:00001', 'item:00002'])
    assert.deepEqual(await kv.keys({ prefix: new Uint8Array([1]) }), [new Uint8Array([1, 2])])
    assert.deepEqual((await kv.values({ prefix: 'item:0249' })).slice(0, 2), [2490, 2491])
    assert.deepEqual(await kv.entries({ prefix: 'oth' }), [['other', -1]])
    let n = 0
    let last = ''
    for await (const [k] of kv) {
      if (typeof k === 'string') {
        assert.ok(k > last, 'keys arrive in order')
        last = k
      }
      n++
    }
    assert.equal(n, 2502)
    const limited = []
    for await (const e of kv.iterate({ prefix: 'item:', batchSize: 7, limit: 20 })) limited.push(e)
    assert.equal(limited.length, 20)
  })

  test('namespaces are separate', async () => {
    const v = await fresh()
    await v.kv().set('k', 1)
    await v.kv('settings').set('k', 2)
    assert.equal(await v.kv().get('k'), 1)
    assert.equal(await v.kv('settings').get('k'), 2)
    assert.equal(await v.kv('empty').size(), 0)
    assert.deepEqual(await v.kv('empty').keys(), [])
  })

  test('withCache buffers writes, reads see them, and they persist even when the callback throws', async () => {
    const v = await fresh()
    const name = (await v.info()).name
    const kv = v.kv()
    await kv.withCache({ flushThreshold: 1 << 20 }, async () => {
      for (let i = 0; i < 1000; i++) await kv.set(`c${i}`, i)
      assert.equal(await kv.get('c999'), 999, 'a read sees the buffer')
      assert.equal(await kv.size(), 1000, 'size flushes first')
    })
    await assert.rejects(
      kv.withCache({}, async () => {
        await kv.set('thrown', 'kept')
        throw new Error('boom')
      }),
      /boom/,
    )
    await kv.withCache({}, async () => {
      await kv.set('at-close', 1)
      await v.close()
    })
    const again = await openVault(name, { storage: 'fs', path: dir })
    assert.equal(await again.kv().get('thrown'), 'kept')
    assert.equal(await again.kv().get('c500'), 500)
    assert.equal(await again.kv().get('at-close'), 1)
    await again.close()
  })
})

describe('bad input changes nothing', () => {
  test('functions, symbols, class instances, undefined and bad keys are refused', async () => {
    const v = await fresh()
    const kv = v.kv()
    await kv.set('keep', 1)
    const before = (await v.info()).sizeBytes
    class Point {
      x = 1
    }
    const bad: unknown[] = [() => 1, Symbol('s'), new Point(), undefined, { nested: { f() {} } }, [1, Symbol('x')], new WeakMap(), new DataView(new ArrayBuffer(2))]
    for (const value of bad) {
      await assert.rejects(kv.set('bad', value), InvalidArgumentError, typeof value)
      await assert.rejects(kv.setMany([['ok', 1], ['bad', value]]), InvalidArgumentError)
    }
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await assert.rejects(kv.set('cyc', cyclic), /cycle/)
    for (const key of [1, null, undefined, {}, ['a']]) await assert.rejects(kv.set(key as never, 1), InvalidArgumentError)
    assert.equal(await kv.has('bad'), false)
    assert.equal(await kv.has('ok'), false, 'a refused setMany writes nothing')
    assert.deepEqual(await kv.keys(), ['keep'])
    assert.equal((await v.info()).sizeBytes, before)
  })

  test('calls after close reject with ClosedError; close is idempotent', async () => {
    const v = await fresh()
    await v.close()
    await v.close()
    await assert.rejects(v.kv().get('x'), ClosedError)
    await assert.rejects(v.kv().set('x', 1), ClosedError)
    await assert.rejects(v.info(), ClosedError)
    const err = await v.kv().get('x').catch((e: unknown) => e)
    assert.ok(err instanceof VaultError && (err as VaultError).code === 'CLOSED')
  })

  test('vault names are validated', async () => {
    for (const name of ['', '../x', 'a/b', 'a\\b', 'x\u0001', '.', '..', 'a'.repeat(129)]) {
      await assert.rejects(openVault(name, { storage: 'fs', path: dir }), InvalidArgumentError, JSON.stringify(name))
    }
  })

  test('create: false on a missing vault is NotFoundError and creates nothing', async () => {
    await assert.rejects(openVault('nope', { storage: 'fs', path: dir, create: false }), NotFoundError)
    assert.ok(!(await listVaults({ storage: 'fs', path: dir })).includes('nope'))
  })
})

describe('vault lifecycle', () => {
  test('info, listVaults, deleteVault, memory storage', async () => {
    const v = await openVault('life', { storage: 'fs', path: dir, author: 'ana', description: 'runs' })
    const info = await v.info()
    assert.equal(info.name, 'life')
    assert.equal(info.author, 'ana')
    assert.equal(info.description, 'runs')
    assert.equal(info.storage, 'fs')
    assert.equal(info.formatVersion, 1)
    assert.ok(!Number.isNaN(Date.parse(info.createdAt)))
    await v.close()
    assert.ok((await listVaults({ storage: 'fs', path: dir })).includes('life'))
    assert.equal(await deleteVault('life', { storage: 'fs', path: dir }), true)
    assert.equal(await deleteVault('life', { storage: 'fs', path: dir }), false)
    assert.ok(!(await listVaults({ storage: 'fs', path: dir })).includes('life'))
    const m = await openVault('mem', { storage: 'memory' })
    await m.kv().set('a', 1)
    await m.close()
    const m2 = await openVault('mem', { storage: 'memory' })
    assert.equal(await m2.kv().get('a'), 1, 'memory vaults live as long as the process')
    assert.equal((await m2.info()).storage, 'memory')
    await m2.close()
  })

  test('transactions commit atomically or not at all', async () => {
    const v = await fresh()
    const kv = v.kv()
    await Promise.all(
      Array.from({ length: 20 }, () =>
        v.transaction(async (tx) => {
          const n = ((await tx.kv().get('n')) as number | undefined) ?? 0
          await tx.kv().set('n', n + 1)
        }),
      ),
    )
    assert.equal(await kv.get('n'), 20, 'no lost update')
    await assert.rejects(
      v.transaction(async (tx) => {
        await tx.kv().set('n', 999)
        await tx.kv().set('other', 1)
        throw new Error('abort')
      }),
      /abort/,
    )
    assert.equal(await kv.get('n'), 20)
    assert.equal(await kv.has('other'), false)
    const result = await v.transaction(async (tx) => {
      await tx.kv().set('a', 1)
      await assert.rejects(tx.kv().set('bad', () => 1), InvalidArgumentError)
      return tx.kv().get('a')
    })
    assert.equal(result, 1)
    assert.equal(await kv.has('bad'), false)
  })

  test('concurrent writers are group-committed and all land', async () => {
    const v = await fresh()
    const kv = v.kv()
    await Promise.all(Array.from({ length: 500 }, (_, i) => kv.set(`k${i}`, i)))
    assert.equal(await kv.size(), 500)
    const name = (await v.info()).name
    await v.close()
    const again = await openVault(name, { storage: 'fs', path: dir })
    assert.equal(await again.kv().size(), 500)
    await again.close()
  })

  test('a write issued before a read is visible to it even when not awaited', async () => {
    const kv = (await fresh()).kv()
    const writes = [kv.set('a', 1), kv.set('a', 2)]
    assert.equal(await kv.get('a'), 2)
    await Promise.all(writes)
  })

  test('relaxed durability writes land after close and reopen', async () => {
    const v = await fresh({ durability: 'relaxed' })
    const name = (await v.info()).name
    for (let i = 0; i < 100; i++) await v.kv().set(`r${i}`, i)
    await v.close()
    const again = await openVault(name, { storage: 'fs', path: dir })
    assert.equal(await again.kv().size(), 100)
    await again.close()
  })

  test('checkpoints keep data and the log small', async () => {
    const v = await fresh({ checkpointBytes: 64 * 1024 })
    const name = (await v.info()).name
    for (let round = 0; round < 20; round++) {
      await v.kv().setMany(Array.from({ length: 200 }, (_, i) => [`k${round}-${i}`, { round, i, pad: 'x'.repeat(40) }] as const))
    }
    await v.close()
    const again = await openVault(name, { storage: 'fs', path: dir })
    assert.equal(await again.kv().size(), 4000)
    assert.deepEqual(await again.kv().get('k19-199'), { round: 19, i: 199, pad: 'x'.repeat(40) })
    assert.ok((await again.info()).recovery.replayedRecords < 20, 'most records were folded into images')
    await again.close()
  })

  test('readOnly refuses writes', async () => {
    const v = await fresh()
    const name = (await v.info()).name
    await v.kv().set('a', 1)
    await v.close()
    const ro = await openVault(name, { storage: 'fs', path: dir, readOnly: true })
    assert.equal(await ro.kv().get('a'), 1)
    await assert.rejects(ro.kv().set('a', 2), (e: unknown) => VaultError.isVaultError(e) && e.code === 'UNSUPPORTED')
    await ro.close()
  })
})
