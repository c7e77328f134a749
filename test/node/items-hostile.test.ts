import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

// Item lists, lineage and search answering hostile or careless calls (docs/items.md). Found by
// probing; each test failed before its fix.

const dir = tempDir('labvault-items-hostile-')

test('a huge limit or k (2^53 − 1, 2^32) answers every hit, not a RangeError from allocating k slots', async () => {
  const v = await openVault('huge-k', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['beta one', 'beta two', 'gamma'])
  await v.lists.describe('docs', 'all', 'beta words', { embedding: new Float32Array([1, 0]) })
  const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
  await emb.appendMany([new Float32Array([1, 0]), new Float32Array([0, 1])])
  for (const n of [2 ** 53 - 1, 2 ** 32]) {
    assert.equal((await v.search.text('beta', { limit: n })).length, 2, `text, limit ${n}`)
    assert.equal((await v.search.text('beta', { limit: n, sources: ['items', 'descriptions'] })).length, 3, `text with descriptions, limit ${n}`)
    assert.equal((await v.search.descriptions('beta', { limit: n })).length, 1, `descriptions, limit ${n}`)
    assert.equal((await v.search.similar(new Float32Array([1, 0]), { k: n, descriptions: true })).length, 3, `similar with descriptions, k ${n}`)
    assert.equal((await v.search.items({ text: 'beta', k: n })).length, 2, `items, k ${n}`)
  }
  await v.close()
})

test('text search: a word with combining marks is one token (a fragment or a split spelling does not match it)', async () => {
  // Found by probing: tokens were runs of \p{L}\p{N}_ only, so "नमस्ते" (with a virama and a vowel
  // sign) was cut into "नमस" + "त": a query for it matched the other text "नमस त", ranked first.
  const v = await openVault('marks', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['नमस्ते दुनिया', 'नमस त', 'cafe\u0301 noir', 'cafe e\u0301'])
  assert.deepEqual((await v.search.text('नमस्ते')).map((h) => ('index' in h ? h.index : -1)), [0])
  assert.deepEqual((await v.search.text('नमस')).map((h) => ('index' in h ? h.index : -1)), [1])
  assert.deepEqual((await v.search.text('cafe\u0301')).map((h) => ('index' in h ? h.index : -1)), [2])
  await v.close()
})
