import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError, MemoryAdapter, openVault, type DocumentList, type ItemHit, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'
import { VaultEngine } from '../../src/engine/vault-engine.js'
import type { CallContext } from '../../src/engine/context.js'
import { SessionsEngine } from '../../src/domains/items/engine/sessions-engine.js'
import type { StartedSession } from '../../src/domains/items/shared/item-types.js'
import { standardDomains } from '../../src/domains/registry.js'
import { itemsDomain } from '../../src/domains/items/engine/items-domain.js'
import { inProcessPort } from '../../src/client/in-process-port.js'
import { Vault as VaultClass } from '../../src/client/vault.js'

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
  test('a vault made before session states (items schema 1) opens; its sessions read as running', async () => {
    // The items domain as it was at schema version 1: no item_session_states table.
    const storage = new MemoryAdapter()
    const v1Schema = itemsDomain.storage!.schema.replace(/CREATE TABLE IF NOT EXISTS item_session_states[^;]*;\s*CREATE INDEX[^;]*;/, '')
    assert.ok(!v1Schema.includes('item_session_states'))
    // Schema 1's session start: a session row and its cell 0, no state row.
    class V1Sessions extends SessionsEngine {
      override async start(ctx: CallContext, name: string): Promise<StartedSession> {
        return ctx.write(() => {
          ctx.db.run("INSERT INTO item_sessions (id, name, user, kind, created_at) VALUES (1, ?, '', 'script', '2024-01-01T00:00:00.000Z')", [name])
          ctx.db.run("INSERT INTO item_cells (session, cell, code, created_at) VALUES (1, 0, '', '2024-01-01T00:00:00.000Z')")
          return { id: 1, name, user: '', kind: 'script' as const, currentCell: 0 }
        })
      }
    }
    const v1: typeof itemsDomain = {
      ...itemsDomain,
      create(services) {
        const made = itemsDomain.create(services)
        return { ...made, serve: { ...made.serve, sessions: new V1Sessions() } }
      },
      storage: { ...itemsDomain.storage!, schema: v1Schema, version: 1 },
    }
    const engine = await VaultEngine.open({ name: 'old', storage, domains: standardDomains.map((d) => (d === itemsDomain ? v1 : d)) })
    const old = new VaultClass(inProcessPort(engine), 'old')
    const oldSession = await old.session('old.ts')
    const docs = await old.lists.create('docs', { type: 'document' })
    await docs.append('before')
    assert.equal(oldSession.id, 1)
    await old.close()
    const v = await openVault('old', { storage })
    const s = await v.session('new.ts', { code: 'x' })
    await (await v.lists.get<DocumentList>('docs')).append('after', { session: s })
    assert.deepEqual((await v.sessions.list()).map((x) => [x.name, x.status, x.parent]), [['old.ts', 'running', undefined], ['new.ts', 'running', undefined]])
    await (await v.lists.get<DocumentList>('docs')).append('old session, new build', { session: { id: 1 } })
    assert.deepEqual((await v.sessions.wrote(1)).map((w) => [w.list, w.start, w.end]), [['docs', 2, 3]])
    assert.equal((await v.sessions.info(1).then(() => v.session('child.ts', { parent: 1 })).then((c) => c.info())).parent, 1)
    assert.equal((await s.done()).status, 'completed')
    assert.deepEqual((await s.wrote()).map((w) => [w.list, w.start, w.end]), [['docs', 1, 2]])
    await v.close()
  })

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
