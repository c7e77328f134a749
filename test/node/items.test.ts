import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError, MemoryAdapter, openVault, type ItemHit, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

// Item lists, sessions, lineage and search through the public API are checked by
// test/conformance/items-conformance.ts (run on memory and fs by vault-conformance.test.ts, and in
// Chromium). What stays here needs Node: the author open option, what lands in storage, storage
// failures injected through a custom adapter, and the 100k-item scale run.

const dir = tempDir()
let counter = 0
function nextName(): string {
  return `items${++counter}`
}
async function fresh(): Promise<[Vault, () => Promise<Vault>]> {
  const name = nextName()
  const v = await openVault(name, { storage: 'fs', path: dir })
  return [v, () => openVault(name, { storage: 'fs', path: dir })]
}

describe('item lists: Node only', () => {
  test('a session’s user defaults to the vault author', async () => {
    const v = await openVault(nextName(), { storage: 'fs', path: dir, author: 'ana' })
    const script = await v.session('prep.ts', { code: 'docs.append(clean(t))' })
    assert.equal(script.user, 'ana')
    const docs = await v.lists.create('docs', { type: 'document' })
    await docs.append('a', { session: script })
    assert.deepEqual((await docs.item(0)).session, { id: script.id, name: 'prep.ts', user: 'ana', cell: 0, code: 'docs.append(clean(t))' })
    await v.close()
  })

  test('files: bytes live outside SQLite, one blob per distinct content; the image stays small', async () => {
    const storage = new MemoryAdapter()
    const v = await openVault('files', { storage })
    const files = await v.lists.create('files', { type: 'file' })
    const imageSizeNow = async () => storage.size(`files/${(await storage.list('files')).find((f) => f.startsWith('image-'))!}`)
    await v.checkpoint()
    const emptyImage = (await imageSizeNow())!
    const bytes = new Uint8Array(300_000).map((_, i) => i & 255)
    await files.append({ bytes, name: 'data.bin', type: 'application/octet-stream' })
    await files.append(new Blob([bytes], { type: 'text/plain' }))
    await files.append(new File([new Uint8Array([1, 2])], 'two.txt', { type: 'text/plain' }))
    let blobCount = 0
    for (const prefix of await storage.list('files/blobs')) blobCount += (await storage.list(`files/blobs/${prefix}`)).length
    assert.equal(blobCount, 2, 'two distinct contents → two blobs')
    await v.checkpoint()
    const imageSize = (await imageSizeNow())!
    assert.ok(imageSize - emptyImage < 100_000, `the image stays small: it grew by ${imageSize - emptyImage} bytes for 600 kB of files`)
    await v.close()
  })
})

describe('failures', () => {
  test('an append that fails leaves no item, no file and no lineage edge', async () => {
    class FailingAdapter extends MemoryAdapter {
      failLog = false
      override async append(path: string, data: Uint8Array): Promise<number> {
        if (this.failLog && path.includes('log-')) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' })
        return super.append(path, data)
      }
    }
    const storage = new FailingAdapter()
    const v = await openVault('failing', { storage })
    const raw = await v.lists.create('raw', { type: 'document' })
    await raw.append('source')
    const files = await v.lists.create('files', { type: 'file' })
    storage.failLog = true
    await assert.rejects(files.append({ bytes: new Uint8Array([9, 9, 9]), name: 'x' }, { parents: [{ list: 'raw', start: 0 }] }))
    await assert.rejects(raw.append('lost words', { parents: [{ list: 'raw', start: 0 }] }))
    storage.failLog = false
    assert.equal(await files.size(), 0)
    assert.equal(await raw.size(), 1)
    assert.deepEqual(await v.lineage.children('raw'), [])
    assert.deepEqual(await v.search.text('lost'), [])
    // Validation failures stop before any byte is written.
    await assert.rejects(files.appendMany([{ bytes: new Uint8Array([1]) }, 'bad' as never]), InvalidArgumentError)
    await v.checkpoint()
    let blobs = 0
    for (const prefix of await storage.list('failing/blobs')) blobs += (await storage.list(`failing/blobs/${prefix}`)).length
    assert.equal(blobs, 0, 'the orphaned file bytes are collected')
    // The failed append took no index and left no token: the next one is item 1, the only hit.
    assert.equal(await raw.append('real words'), 1)
    assert.deepEqual((await v.search.text('words')).map((h) => (h as ItemHit).index), [1])
    await v.close()
  })
})

describe('scale', () => {
  test('100k documents with one parent each, 100k embeddings: append, search, reopen', async () => {
    const [v, reopen] = await fresh()
    const n = 100_000
    const raw = await v.lists.create('raw', { type: 'document' })
    await raw.appendMany(Array.from({ length: 100 }, (_, i) => `source ${i}`))
    const docs = await v.lists.create('docs', { type: 'document' })
    const texts = Array.from({ length: n }, (_, i) => `doc ${i} about topic${i % 100} and word${i % 7}`)
    let t = performance.now()
    await docs.appendMany(texts, { itemParents: texts.map((_, i) => [{ list: 'raw', start: i % 100 }]) })
    const appendMs = performance.now() - t
    console.log(`append of ${n} documents with parents: ${appendMs.toFixed(0)} ms (speed goals: npm run bench)`)
    // Every hit holds both tokens; as many hits as documents that do (i % 100 = 42 and i % 7 = 3).
    const hits = await v.search.text('topic42 word3', { lists: ['docs'], limit: 1000 })
    const expected = texts.filter((_, i) => i % 100 === 42 && i % 7 === 3).length
    assert.equal(hits.length, expected)
    for (const h of hits) {
      const tokens = texts[(h as ItemHit).index]!.split(' ')
      assert.ok(tokens.includes('topic42') && tokens.includes('word3'), texts[(h as ItemHit).index])
    }
    assert.deepEqual((await v.lineage.parents('docs', { start: 99_999, end: 100_000 })).map((e) => e.parentStart), [99])
    assert.equal((await v.lineage.children('raw', { start: 42, end: 43 })).length, 1000)
    const dim = 16
    const emb = await v.lists.create('emb', { type: 'embedding', dim })
    const m = new Float32Array(n * dim).map((_, i) => Math.sin(i))
    await emb.appendMatrix(m)
    const top = await v.search.similar(m.subarray(777 * dim, 778 * dim), { k: 1 })
    assert.equal((top[0] as ItemHit).index, 777)
    await v.close()
    const again = await reopen()
    assert.equal(await (await again.lists.get('docs')).size(), n)
    assert.equal((await again.search.text(`doc 31337`)).length, 1)
    assert.equal(((await again.search.similar(m.subarray(4242 * dim, 4243 * dim), { k: 1 }))[0] as ItemHit).index, 4242)
    await again.close()
  })
})
