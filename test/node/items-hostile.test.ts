import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openVault } from '../../src/node.js'
import { tokenize } from '../../src/domains/items/engine/tokenize.js'
import { mulberry32 } from '../support/prng.js'
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

test('text search: one word typed two ways is one token (composed and decomposed accents, full-width letters, ligatures)', async () => {
  // Found by probing: tokens were not normalized, so a document written on macOS (decomposed "é")
  // was not found by a query typed with a composed "é", and full-width text matched nothing.
  const v = await openVault('normal-forms', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['re\u0301sume\u0301 draft', 'ｔｅｓｔ run', '\ufb01le list', 'Ångström units'])
  const hits = async (q: string) => (await v.search.text(q)).map((h) => ('index' in h ? h.index : -1))
  assert.deepEqual(await hits('r\u00e9sum\u00e9'), [0], 'composed query, decomposed text')
  assert.deepEqual(await hits('test'), [1], 'ASCII query, full-width text')
  assert.deepEqual(await hits('file'), [2], 'plain query, ligature text')
  assert.deepEqual(await hits('A\u030angstro\u0308m'), [3], 'decomposed query, composed text')
  assert.deepEqual(await hits('resume'), [], 'an accent still tells words apart')
  await v.close()
})

test('tokenize gives the same tokens for a text in any of its Unicode normal forms (seeded)', () => {
  const random = mulberry32(0x5eed)
  // Hostile corners: combining marks alone and stacked, Hangul (composes from jamo), ligatures,
  // full-width and mathematical letters, Greek final sigma, dotted capital I, astral letters, digits.
  const pool = ['e', '\u0301', '\u0308', '\u0323', 'A', '\u212b', '\u1100', '\u1161', '\u11a8', '\ud55c', '\ufb01', '\uff34', '\u{1d400}', 'Σ', 'ς', 'İ', '\u0130', '\u{1f600}', '_', ' ', '.', '7', '\u0663', 'न', '्', 'त', '\u00e9', '\u210c', '²']
  for (let i = 0; i < 2000; i++) {
    const length = Math.floor(random() * 12)
    let text = ''
    for (let j = 0; j < length; j++) text += pool[Math.floor(random() * pool.length)]
    const expected = tokenize(text)
    for (const form of ['NFC', 'NFD', 'NFKC', 'NFKD'] as const) assert.deepEqual(tokenize(text.normalize(form)), expected, `${form} of ${JSON.stringify(text)}`)
  }
})
