/**
 * A value read through a blob (a key-value value over 256 KiB, an item file) is loaded after its
 * row is read. A checkpoint between the two (after a later call deleted the row) must not collect
 * the blob the read is about to load: the read still answers with the value its row named, and the
 * blob goes at a later checkpoint. The interleaving is forced: blob reads wait at a gate (storage
 * slower than the checkpoint) while the row is deleted and the vault checkpointed.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openVault } from '../../src/node.js'
import { GatedBlobReads, patterned as bytes, until } from '../support/gated-blob-reads.js'

let n = 0

test('kv: a read of a large value whose key is deleted and checkpointed before its blob loads still answers the value', async () => {
  const storage = new GatedBlobReads()
  const name = `blob-read-${++n}`
  const v = await openVault(name, { storage })
  try {
    const value = bytes(300 * 1024, 1)
    await v.kv().set('k', value)
    storage.holdBlobReads()
    const reading = v.kv().get('k')
    await until(() => storage.waiting === 1)
    assert.equal(await v.kv().delete('k'), true)
    await v.checkpoint()
    storage.releaseBlobReads()
    assert.deepEqual(await reading, value, 'the read answers what its row named')
    assert.equal(await v.kv().get('k'), undefined)
    await v.checkpoint()
    assert.equal(await storage.blobCount(name), 0, 'the blob goes at the next checkpoint')
  } finally {
    storage.releaseBlobReads()
    await v.close()
  }
})

test('kv: getMany, entries, a streamed value (several chunks) and pop keep every blob they load until loaded', async () => {
  const storage = new GatedBlobReads()
  const name = `blob-read-${++n}`
  const v = await openVault(name, { storage })
  try {
    const kv = v.kv()
    const a = bytes(300 * 1024, 2)
    const b = bytes(400 * 1024, 3)
    const streamed = bytes(5 * 1024 * 1024, 4) // two 4 MiB chunks
    const fresh = async () => {
      await kv.setMany([['a', a], ['b', b]])
      await kv.setStream('s', [streamed])
    }
    await fresh()
    storage.holdBlobReads()
    const many = kv.getMany(['a', 'b'])
    const all = kv.entries()
    const whole = kv.get('s')
    await until(() => storage.waiting >= 3)
    assert.equal(await kv.clear(), 3)
    await v.checkpoint()
    storage.releaseBlobReads()
    assert.deepEqual([...(await many).values()], [a, b], 'getMany: both values, not only the first one loading')
    assert.deepEqual((await all).map(([, x]) => x), [a, b, streamed], 'entries')
    assert.deepEqual(await whole, streamed, 'every chunk of the streamed value')

    // pop: its own commit drops the row before the value is loaded.
    await fresh()
    storage.holdBlobReads()
    const popped = kv.pop('a')
    const poppedMany = kv.popMany(['b', 's'])
    await until(() => storage.waiting >= 2)
    await v.checkpoint()
    storage.releaseBlobReads()
    assert.deepEqual(await popped, a)
    assert.deepEqual([...(await poppedMany).values()], [b, streamed])
    await v.checkpoint()
    assert.equal(await storage.blobCount(name), 0, 'the blobs go at the next checkpoint')
  } finally {
    storage.releaseBlobReads()
    await v.close()
  }
})

test('items: reading files (one or several) whose list is deleted and checkpointed meanwhile answers every file', async () => {
  const storage = new GatedBlobReads()
  const name = `blob-read-${++n}`
  const v = await openVault(name, { storage })
  try {
    const files = await v.lists.create('files', { type: 'file' })
    const contents = [bytes(1000, 2), bytes(2000, 3), bytes(3000, 4)]
    await files.appendMany(contents.map((b, i) => ({ bytes: b, name: `f${i}` })))
    storage.holdBlobReads()
    const one = files.get(1)
    const all = files.slice(0, 3)
    await until(() => storage.waiting >= 2)
    assert.equal(await v.lists.delete('files'), true)
    await v.checkpoint()
    storage.releaseBlobReads()
    assert.deepEqual((await one).bytes, contents[1])
    assert.deepEqual((await all).map((f) => f.bytes), contents, 'every file of the slice, not only the first one loading')
    await v.checkpoint()
    assert.equal(await storage.blobCount(name), 0, 'the blobs go at the next checkpoint')
  } finally {
    storage.releaseBlobReads()
    await v.close()
  }
})

test('items: a large matrix read while its list is deleted and checkpointed answers every vector', async () => {
  const storage = new GatedBlobReads()
  const name = `blob-read-${++n}`
  const v = await openVault(name, { storage })
  try {
    const vecs = await v.lists.create('vecs', { type: 'embedding', dim: 16 })
    const first = new Float32Array(16 * 2000).map((_, i) => i % 97)
    const second = new Float32Array(16 * 2000).map((_, i) => -(i % 89))
    await vecs.appendMatrix(first)
    await vecs.appendMatrix(second)
    storage.holdBlobReads()
    const reading = vecs.matrix(0, 4000)
    await until(() => storage.waiting >= 1)
    assert.equal(await v.lists.delete('vecs'), true)
    await v.checkpoint()
    storage.releaseBlobReads()
    const got = await reading
    assert.deepEqual(got.subarray(0, first.length), first)
    assert.deepEqual(got.subarray(first.length), second)
  } finally {
    storage.releaseBlobReads()
    await v.close()
  }
})
