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

test('a sparse array is refused with InvalidArgumentError naming the hole, nothing stored, on every kind', async () => {
  // Found by probing: the engine checked items with forEach, which skips holes. Records after a
  // hole were stored one index early and the last index was left a gap ({ a: 3 } at 1, nothing at
  // 2); documents failed with an untyped TypeError; `fields: ['a', , 'b']` made a record list with
  // a field stored as null, which no record could fill, its name reserved for ever.
  const v = await openVault('sparse', { storage: 'fs', path: dir })
  const recs = await v.lists.create('recs', { type: 'record', fields: ['a'] })
  const docs = await v.lists.create('docs', { type: 'document' })
  const files = await v.lists.create('files', { type: 'file' })
  const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
  // eslint-disable-next-line no-sparse-arrays
  const attempts: [string, () => Promise<unknown>][] = [
    ['records', () => recs.appendMany([{ a: 1 }, , { a: 3 }] as never)],
    ['documents', () => docs.appendMany(['x', , 'z'] as never)],
    ['files', () => files.appendMany([{ bytes: new Uint8Array([1]) }, , { bytes: new Uint8Array([3]) }] as never)],
    ['embeddings', () => emb.appendMany([[1, 2], , [3, 4]] as never)],
  ]
  for (const [what, attempt] of attempts) {
    await assert.rejects(attempt, (err: Error) => err.name === 'InvalidArgumentError' && /1|undefined/.test(err.message), what)
  }
  for (const list of [recs, docs, files, emb]) assert.equal(await list.size(), 0, list.name)
  await assert.rejects(v.lists.create('holes', { type: 'record', fields: ['a', , 'b'] as never }), { name: 'InvalidArgumentError' })
  assert.equal(await v.lists.has('holes'), false)
  await v.close()
})

test('an append at index -0 answers index 0', async () => {
  // Found by probing: append(x, { index: -0 }) resolved with -0, which Object.is (and assert) tell from 0.
  const v = await openVault('minus-zero', { storage: 'fs', path: dir })
  const recs = await v.lists.create('recs', { type: 'record', fields: ['a'] })
  assert.equal(await recs.append({ a: 1 }, { index: -0 }), 0)
  assert.deepEqual(await recs.appendMany([{ a: 2 }], { index: -0 }), { start: 0, end: 1 })
  const docs = await v.lists.create('docs', { type: 'document' })
  assert.equal(await docs.append('x', { index: -0, start: -0 }), 0)
  assert.deepEqual((await docs.content()).map((d) => [d.index, d.start]), [[0, 0]])
  assert.ok(Object.is((await docs.item(0)).start, 0))
  await v.close()
})

test('a misspelt or non-object option of create, append or describe is refused, nothing changed', async () => {
  // Found by probing: unknown options were ignored, so append(x, { indx: 3 }) (meaning index 3)
  // added x at the end and left item 3 as it was; create({ type: 'document', dims: 3 }) made the
  // list; append(x, 'opts') appended as if no options were given.
  const v = await openVault('unknown-options', { storage: 'fs', path: dir })
  const recs = await v.lists.create('recs', { type: 'record', fields: ['a'] })
  await recs.appendMany([{ a: 0 }, { a: 1 }, { a: 2 }, { a: 3 }])
  await assert.rejects(recs.append({ a: 9 }, { indx: 3 } as never), (err: Error) => err.name === 'InvalidArgumentError' && /unknown option "indx"/.test(err.message))
  await assert.rejects(recs.appendMany([{ a: 9 }], { Index: 1 } as never), { name: 'InvalidArgumentError' })
  for (const bad of ['opts', [1], 5, true]) {
    await assert.rejects(recs.append({ a: 9 }, bad as never), (err: Error) => err.name === 'InvalidArgumentError' && /options must be an object/.test(err.message), String(bad))
  }
  assert.deepEqual(await recs.slice(), [{ a: 0 }, { a: 1 }, { a: 2 }, { a: 3 }])
  assert.equal(await recs.append({ a: 4 }, null as never), 4, 'null is no options')
  await assert.rejects(v.lists.create('emb', { type: 'embedding', dim: 3, dims: 3 } as never), (err: Error) => err.name === 'InvalidArgumentError' && /unknown option "dims"/.test(err.message))
  await assert.rejects(v.lists.create('docs', 'document' as never), { name: 'InvalidArgumentError' })
  assert.equal(await v.lists.has('emb'), false)
  assert.equal(await v.lists.has('docs'), false)
  await assert.rejects(recs.describe('d', 'text', { embeding: new Float32Array([1]) } as never), (err: Error) => err.name === 'InvalidArgumentError' && /unknown option "embeding"/.test(err.message))
  await assert.rejects(v.lists.describe('recs', 'd', 'text', 'opts' as never), { name: 'InvalidArgumentError' })
  assert.deepEqual(await recs.descriptions(), [])
  await v.close()
})

test('an embedding given as an object whose length is not a count is InvalidArgumentError, not a bare RangeError', async () => {
  // Found by probing: append({ length: -1 }) reached new Float32Array(-1): "Invalid typed array length".
  const v = await openVault('vector-length', { storage: 'fs', path: dir })
  const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
  for (const length of [-1, -(2 ** 31), NaN, 1.5, -0.5, Infinity]) {
    await assert.rejects(emb.append({ length } as never), (err: Error) => err.name === 'InvalidArgumentError' && /length/.test(err.message), String(length))
    await assert.rejects(emb.appendMany([[1, 2], { length }] as never), { name: 'InvalidArgumentError' }, `appendMany, ${length}`)
  }
  assert.equal(await emb.size(), 0)
  await v.close()
})

test('content and text refuse a range with a misspelt key or that is not an object', async () => {
  // Found by probing: only range.start and range.end were read, so text({ start: 1, stop: 3 })
  // answered the text from 1 to the end of the list, and text(5) the whole text.
  const v = await openVault('char-range', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['abc', 'def'])
  assert.equal(await docs.text({ start: 1, end: 3 }), 'bc')
  for (const call of ['text', 'content'] as const) {
    await assert.rejects(docs[call]({ start: 1, stop: 3 } as never), (err: Error) => err.name === 'InvalidArgumentError' && /"stop"/.test(err.message), call)
    for (const bad of [5, 'all', null, [1, 3]]) await assert.rejects(docs[call](bad as never), { name: 'InvalidArgumentError' }, `${call}(${String(bad)})`)
  }
  assert.equal(await docs.text(), 'abcdef')
  assert.equal((await docs.content()).length, 2)
  await v.close()
})
