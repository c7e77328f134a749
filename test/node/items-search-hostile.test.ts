import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError, openVault, type TextHit, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

// Item search (text and vector) answering hostile or careless calls (docs/items.md, "Search").
// Found by probing; each test failed before its fix.

const dir = tempDir('labvault-items-search-hostile-')

/** Run `fn` on a new in-memory vault, closed afterwards whatever happens. */
async function inMemoryVault(name: string, fn: (v: Vault) => Promise<void>): Promise<void> {
  const v = await openVault(name, { storage: 'memory' })
  try {
    await fn(v)
  } finally {
    await v.close()
  }
}

const at = (hits: TextHit[]): string[] => hits.map((h) => ('index' in h ? `${h.list}[${h.index}]` : JSON.stringify(h)))

test('text search names an item at an explicit index past 2^31 by its index (it came back as a wrapped 32-bit number)', async () => {
  const v = await openVault('big-index', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.append('plain words')
  await docs.append('farther alpha', { index: 2 ** 31 + 5, start: 100 })
  await docs.append('farthest alpha', { index: 2 ** 40, start: 200 })
  const check = async (v: Vault): Promise<void> => {
    assert.deepEqual(at(await v.search.text('farther')), [`docs[${2 ** 31 + 5}]`])
    assert.deepEqual(at(await v.search.text('farthest')), [`docs[${2 ** 40}]`])
    assert.deepEqual(at(await v.search.items({ text: 'alpha' })).sort(), [`docs[${2 ** 31 + 5}]`, `docs[${2 ** 40}]`].sort())
  }
  await check(v)
  await v.close()
  const again = await openVault('big-index', { storage: 'fs', path: dir })
  try {
    await check(again)
  } finally {
    await again.close()
  }
})

test('text search: equal scores rank by list (oldest first) then index, live, after an unrelated replacement and after reopening (the order followed when each item was indexed)', async () => {
  const v = await openVault('ties', { storage: 'fs', path: dir })
  const a = await v.lists.create('a', { type: 'document' })
  const b = await v.lists.create('b', { type: 'document' })
  const c = await v.lists.create('c', { type: 'document' })
  await b.append('tie word')
  await a.append('tie word')
  await a.append('tie', { index: 5, start: 50 })
  await a.append('tie', { index: 3, start: 30 })
  const expected = ['a[3]', 'a[5]', 'a[0]', 'b[0]']
  assert.deepEqual(at(await v.search.text('tie')), expected, 'live')
  assert.deepEqual(at(await v.search.text('tie', { limit: 3 })), expected.slice(0, 3), 'live, limit 3')
  // A replacement in another list makes the index rebuild from the tables.
  await c.append('one')
  await c.append('two', { index: 0, start: 0 })
  assert.deepEqual(at(await v.search.text('tie')), expected, 'after a replacement in c')
  await v.close()
  const again = await openVault('ties', { storage: 'fs', path: dir })
  try {
    assert.deepEqual(at(await again.search.text('tie')), expected, 'reopened')
    assert.deepEqual(at(await again.search.text('tie', { limit: 1 })), expected.slice(0, 1), 'reopened, limit 1')
  } finally {
    await again.close()
  }
})

test("text search: a deleted list's items no longer weigh in the ranking (BM25 counted them until something made the index rebuild)", async () => {
  const scores = async (name: string, withDeleted: boolean): Promise<number[]> => {
    const v = await openVault(name, { storage: 'fs', path: dir })
    try {
      const a = await v.lists.create('a', { type: 'document' })
      await a.appendMany(['tie word', 'tie', 'other words here'])
      if (withDeleted) {
        const z = await v.lists.create('z', { type: 'document' })
        await z.appendMany(['tie tie tie with many more words', 'word word'])
        await v.search.text('tie') // the index is built while z is live
        await v.lists.delete('z')
      }
      const live = (await v.search.text('tie word')).concat(await v.search.text('tie')).map((h) => h.score)
      await v.close()
      const again = await openVault(name, { storage: 'fs', path: dir })
      const reopened = (await again.search.text('tie word')).concat(await again.search.text('tie')).map((h) => h.score)
      await again.close()
      assert.deepEqual(reopened, live, `${name}: reopened`)
      return live
    } finally {
      await v.close()
    }
  }
  assert.deepEqual(await scores('stats-deleted', true), await scores('stats-never', false))
})

test('search options: a source named __proto__ or constructor, or lists given as a string, is InvalidArgumentError (was a raw TypeError)', async () => {
  await inMemoryVault('options', async (v) => {
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.append('hello world')
  for (const source of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) {
    await assert.rejects(v.search.text('hello', { sources: [source as never] }), InvalidArgumentError, source)
  }
  await assert.rejects(v.search.text('hello', { lists: 'docs' as never }), InvalidArgumentError, 'text')
  await assert.rejects(v.search.descriptions('hello', { lists: 'docs' as never }), InvalidArgumentError, 'descriptions')
  await assert.rejects(v.search.code('hello', { lists: 'docs' as never }), InvalidArgumentError, 'code')
  assert.deepEqual(at(await v.search.text('hello', { lists: ['docs'] })), ['docs[0]'])
  })
})

test('similar: a list named twice is searched once (its hits came back twice), and equal scores rank by list (oldest first) then index whatever order lists are named in', async () => {
  await inMemoryVault('similar-lists', async (v) => {
  const a = await v.lists.create('a', { type: 'embedding', dim: 2 })
  const b = await v.lists.create('b', { type: 'embedding', dim: 2 })
  await b.appendMany([new Float32Array([1, 0]), new Float32Array([0, 1])])
  await a.appendMany([new Float32Array([2, 0]), new Float32Array([0, 3])])
  const q = new Float32Array([1, 0])
  assert.deepEqual(at(await v.search.similar(q, { lists: ['a', 'a'] })), ['a[0]', 'a[1]'])
  const all = ['a[0]', 'b[0]', 'a[1]', 'b[1]']
  assert.deepEqual(at(await v.search.similar(q)), all)
  assert.deepEqual(at(await v.search.similar(q, { lists: ['b', 'a'] })), all)
  assert.deepEqual(at(await v.search.similar(q, { lists: ['b', 'a', 'b'], k: 3 })), all.slice(0, 3))
  })
})

test('similar: a zero query vector (cosine undefined) is InvalidArgumentError, not every vector at score 0', async () => {
  await inMemoryVault('zero-query', async (v) => {
  const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
  await emb.appendMany([new Float32Array([1, 0]), new Float32Array([0, 0])])
  await assert.rejects(v.search.similar(new Float32Array([0, 0])), InvalidArgumentError)
  await assert.rejects(v.search.similar(new Float32Array([0, -0]), { lists: ['emb'] }), InvalidArgumentError)
  await assert.rejects(v.search.items({ similar: new Float32Array([0, 0]) }), InvalidArgumentError)
  // A stored zero vector is a valid item: its cosine with any query is taken as 0.
  assert.deepEqual((await v.search.similar(new Float32Array([1, 0]))).map((h) => h.score), [1, 0])
  })
})

test('text and code queries with a lone surrogate are InvalidArgumentError (the surrogate was dropped: "abc\\uD800def" matched "abc def")', async () => {
  await inMemoryVault('lone-query', async (v) => {
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.append('abc def', { description: 'abc def' })
  await v.session('s.ts', { code: 'abc\uFFFDdef' })
  const bad = 'abc\uD800def'
  await assert.rejects(v.search.text(bad), InvalidArgumentError, 'text')
  await assert.rejects(v.search.descriptions(bad), InvalidArgumentError, 'descriptions')
  await assert.rejects(v.search.code(bad), InvalidArgumentError, 'code')
  await assert.rejects(v.search.items({ text: bad }), InvalidArgumentError, 'items text')
  await assert.rejects(v.search.items({ description: bad }), InvalidArgumentError, 'items description')
  await assert.rejects(v.search.items({ code: bad }), InvalidArgumentError, 'items code')
  assert.deepEqual(at(await v.search.text('abc def')), ['docs[0]'])
  })
})

test('text search: a word matches itself in upper and lower case, whatever follows it (Greek final sigma; an uppercase letter with a combining accent)', async () => {
  await inMemoryVault('case', async (v) => {
  const docs = await v.lists.create('docs', { type: 'document' })
  // Σ lowercases to ς at the end of a word, to σ before an apostrophe and a letter.
  await docs.appendMany(["ΟΔΟΣ'Α", 'οδος', 'ΠΡΩΤΕΪ́ΝΗ'])
  assert.deepEqual(at(await v.search.text('ΟΔΟΣ')).sort(), ['docs[0]', 'docs[1]'])
  assert.deepEqual(at(await v.search.text('οδοσ')).sort(), ['docs[0]', 'docs[1]'])
  // Ϊ + U+0301 has no composed capital; lowercased, it composes to ΐ (U+0390).
  assert.deepEqual(at(await v.search.text('πρωτεΐνη')), ['docs[2]'])
  assert.deepEqual(at(await v.search.text('ΠΡΩΤΕΪ́ΝΗ')), ['docs[2]'])
  })
})
