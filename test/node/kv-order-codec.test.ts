/**
 * Call order while the value codec is still loading (the first msgpack value of a process, see
 * src/domains/kv/client/kv-values.ts), with the write cache on: a set that waits for the codec
 * goes out on its own, after the calls before it; a read made after it sees it, a buffered older
 * value of its key does not come back. Its own file: the codec must not be loaded yet.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openVault } from '../../src/node.js'
import { codecLoaded } from '../../src/domains/kv/client/kv-values.js'

test('with the cache on, a set waiting for the codec is seen by the calls made after it', async () => {
  const v = await openVault('codec-order', { storage: 'memory' })
  try {
    const kv = v.kv()
    kv.enableCache()
    assert.equal(codecLoaded(), false, 'premise: the codec is not loaded yet')
    const w1 = kv.set('k', 'buffered')
    const w2 = kv.set('k', { first: 'object' }) // waits for the codec
    assert.equal(codecLoaded(), false, 'premise: the set waits for the codec')
    const r1 = kv.get('k')
    const r2 = kv.has('k')
    const r3 = kv.getMany(['k'])
    const w3 = kv.setMany([['k', { second: ['object'] }], ['j', 1]])
    const r4 = kv.get('k')
    await Promise.all([w1, w2, w3])
    assert.deepEqual(await r1, { first: 'object' })
    assert.equal(await r2, true)
    assert.deepEqual([...(await r3)], [['k', { first: 'object' }]])
    assert.deepEqual(await r4, { second: ['object'] })
    await kv.disableCache()
    assert.deepEqual(await kv.entries(), [['j', 1], ['k', { second: ['object'] }]])
  } finally {
    await v.close()
  }
})
