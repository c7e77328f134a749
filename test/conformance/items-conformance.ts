/**
 * The item-lists conformance suite: `vault.lists`, `vault.session`, `vault.lineage` and `vault.search`
 * through the public API, the same cases in Node (memory, fs), through the worker in Chromium (OPFS,
 * IndexedDB) and from a follower tab (see ./vault-conformance.ts). Checks of files on disk, storage
 * failures injected through a custom adapter and the 100k-item scale run stay in test/node/items.test.ts.
 */
import type { DocumentList, EmbeddingList, ItemHit } from '../../src/shared-exports.js'
import { mulberry32 } from '../support/prng.js'
import { check, equal, near, rejects } from './assert.js'
import type { VaultConformanceCase } from './vault-conformance.js'
import { checkItemsCallOrder, checkReadsBeforeDelete } from './items-order.js'

/** The list and index of an item hit (description and session hits, which have a `kind`: undefined). */
const at = (h: unknown): [string, number] | undefined => ('kind' in (h as object) ? undefined : [(h as ItemHit).list, (h as ItemHit).index])
const indexOf = (h: unknown): number => (h as ItemHit).index

/** Every case of the suite, in a stable order. */
export const itemsConformanceCases: VaultConformanceCase[] = [
  {
    name: 'documents: half-open character positions; content returns the overlapping items',
    async run(t) {
      const { DocumentList, InvalidArgumentError } = t.lib
      const v = await t.open()
      const docs = await v.lists.create('docs', { type: 'document' })
      check(docs instanceof DocumentList, 'a document list is a DocumentList')
      equal(await docs.append('hello '), 0, 'first index')
      equal(await docs.append('wörld 🌍!'), 1, 'second index') // 🌍 is one code point
      equal(await docs.append(''), 2, 'an empty document')
      equal(await docs.append('end'), 3, 'fourth index')
      equal(await docs.size(), 4, 'size')
      equal(await docs.get(1), 'wörld 🌍!', 'get')
      equal(await docs.get(-1), 'end', 'get(-1)')
      await rejects(docs.get(4), RangeError, 'get past the end')
      equal((await docs.content({ start: 5, end: 7 })).map((d) => [d.index, d.start, d.end]), [[0, 0, 6], [1, 6, 14]], 'content(5, 7)')
      equal((await docs.content({ start: 6, end: 14 })).map((d) => d.index), [1], 'content(6, 14)')
      equal((await docs.content({ start: 14, end: 15 })).map((d) => d.index), [2, 3], 'content(14, 15) includes the empty item')
      equal(await docs.content({ start: 100, end: 200 }), [], 'content past the end')
      equal(await docs.text({ start: 4, end: 16 }), 'o wörld 🌍!en', 'text across items')
      equal((await docs.info()).chars, 17, 'chars')
      const item = await docs.item(1)
      equal([item.start, item.end], [6, 14], 'item positions')
      await rejects(docs.append(42 as never), InvalidArgumentError, 'a number is not a document')
    },
  },

  {
    name: 'embeddings: fixed dimension, Float32Array in and out, large batches; wrong dimension refused',
    async run(t) {
      const { EmbeddingList, InvalidArgumentError } = t.lib
      let v = await t.open()
      const emb = await v.lists.create('emb', { type: 'embedding', dim: 4 })
      check(emb instanceof EmbeddingList, 'an embedding list is an EmbeddingList')
      await emb.append(new Float32Array([1, 2, 3, 4]))
      await emb.append([0.5, 0, 0, -1])
      const got = await emb.get(1)
      check(got instanceof Float32Array, 'a vector is a Float32Array')
      equal([...got], [0.5, 0, 0, -1], 'the second vector')
      await rejects(emb.append(new Float32Array(3)), InvalidArgumentError, 'a vector of dimension 3', /dimension 4/)
      await rejects(emb.append(new Float32Array([1, NaN, 0, 0])), InvalidArgumentError, 'a NaN component')
      await rejects(emb.appendMany([new Float32Array(4), new Float32Array(5)]), InvalidArgumentError, 'a batch with one wrong vector')
      // A large batch is stored apart from small ones; reads across both agree.
      const big = new Float32Array(5000 * 4).map((_, i) => i)
      equal(await emb.appendMatrix(big), { start: 2, end: 5002 }, 'appendMatrix')
      equal([...(await emb.get(3))], [4, 5, 6, 7], 'a vector of the large batch')
      equal((await emb.slice(1, 4)).map((x) => [...x]), [[0.5, 0, 0, -1], [0, 1, 2, 3], [4, 5, 6, 7]], 'a slice across both')
      equal((await emb.matrix(4000, 4002)).length, 8, 'matrix rows × dim')
      v = await t.reopen(v)
      const again = await v.lists.get<EmbeddingList>('emb')
      equal([...(await again.get(5001))], [20000 - 4, 20000 - 3, 20000 - 2, 20000 - 1], 'the last vector after reopen')
      equal(await again.size(), 5002, 'size after reopen')
      await rejects(v.lists.create('bad', { type: 'embedding', dim: 0 }), InvalidArgumentError, 'dimension 0')
    },
  },

  {
    name: 'files: bytes, Blob or File in; the same content stored once; read as bytes or a Blob',
    async run(t) {
      const { FileItemList, InvalidArgumentError } = t.lib
      let v = await t.open()
      const files = await v.lists.create('files', { type: 'file' })
      check(files instanceof FileItemList, 'a file list is a FileItemList')
      const bytes = new Uint8Array(300_000).map((_, i) => i & 255)
      await files.append({ bytes, name: 'data.bin', type: 'application/octet-stream' })
      await files.append(new Blob([bytes], { type: 'text/plain' }))
      await files.append(new File([new Uint8Array([1, 2])], 'two.txt', { type: 'text/plain' }))
      equal(bytes.length, 300_000, 'the caller keeps its bytes (copied, not transferred away)')
      const f0 = await files.get(0)
      equal([f0.name, f0.size], ['data.bin', 300_000], 'name and size')
      equal(f0.bytes, bytes, 'bytes')
      equal((await files.get(1)).hash, f0.hash, 'the same content has the same hash')
      const blob = await files.blob(2)
      equal(blob.type, 'text/plain', 'the Blob keeps the media type')
      equal(new Uint8Array(await blob.arrayBuffer()), new Uint8Array([1, 2]), 'the Blob bytes')
      equal((await files.get(2)).name, 'two.txt', 'a File keeps its name')
      await rejects(files.append({ bytes: 'nope' } as never), InvalidArgumentError, 'bytes that are a string')
      v = await t.reopen(v)
      const again = await v.lists.get('files')
      equal(await (again as InstanceType<typeof FileItemList>).bytes(0), bytes, 'bytes after reopen')
    },
  },

  {
    name: 'records: declared fields; missing or extra fields refused, naming them',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      let v = await t.open()
      const runs = await v.lists.create('runs', { type: 'record', fields: ['model', 'accuracy'] })
      await runs.append({ model: 'gpt2', accuracy: 0.91 })
      await rejects(runs.append({ model: 'x' } as never), InvalidArgumentError, 'a missing field', /missing field "accuracy"/)
      await rejects(runs.append({ model: 'x', accuracy: 1, lr: 3 } as never), InvalidArgumentError, 'an extra field', /unknown field "lr"/)
      const both = await rejects(runs.append({ accuracy: 1, lr: 3 } as never), InvalidArgumentError, 'a missing and an extra field')
      check(/missing field "model"/.test(both.message) && /unknown field "lr"/.test(both.message), `both are named: ${both.message}`)
      await rejects(runs.append({ model: () => 1, accuracy: 1 } as never), InvalidArgumentError, 'a function value')
      await rejects(v.lists.create('r2', { type: 'record', fields: [] }), InvalidArgumentError, 'no fields')
      equal(await runs.size(), 1, 'only the valid record')
      v = await t.reopen(v)
      equal(await (await v.lists.get('runs')).get(0), { model: 'gpt2', accuracy: 0.91 }, 'the record after reopen')
    },
  },

  {
    name: 'list names are unique across kinds and stay reserved after deletion',
    async run(t) {
      const { AlreadyExistsError, InvalidArgumentError, NotFoundError } = t.lib
      const v = await t.open()
      await v.lists.create('a', { type: 'document' })
      await rejects(v.lists.create('a', { type: 'embedding', dim: 2 }), AlreadyExistsError, 'the name in another kind')
      equal(await v.lists.has('a'), true, 'has')
      equal((await v.lists.list()).map((l) => [l.name, l.type]), [['a', 'document']], 'list')
      equal(await v.lists.delete('a'), true, 'delete')
      equal(await v.lists.delete('a'), false, 'delete again')
      await rejects(v.lists.create('a', { type: 'document' }), AlreadyExistsError, 'a deleted name')
      await rejects(v.lists.get('a'), NotFoundError, 'get of a deleted list')
      await rejects(v.lists.get('never'), NotFoundError, 'get of a missing list')
      await rejects(v.lists.create('', { type: 'document' }), InvalidArgumentError, 'an empty name')
      await rejects(v.lists.create('x', { type: 'table' as never }), InvalidArgumentError, 'an unknown kind')
      equal(await v.lists.list(), [], 'no list left')
    },
  },

  {
    name: 'sessions record who runs which code; items record their session and cell',
    async run(t) {
      const { NotFoundError } = t.lib
      const v = await t.open()
      const script = await v.session('prep.ts', { user: 'ana', code: 'for (const t of texts) docs.append(clean(t))' })
      equal(script.user, 'ana', 'the session user')
      const docs = await v.lists.create('docs', { type: 'document' })
      await docs.append('a', { session: script })
      const nb = await v.session('explore.ipynb', { kind: 'notebook', user: 'bo' })
      equal(await nb.cell('x = 1'), 1, 'the first cell')
      equal(await nb.cell('docs.append(summarize(x))'), 2, 'the second cell')
      await docs.append('b', { session: nb })
      equal((await docs.item(0)).session, { id: script.id, name: 'prep.ts', user: 'ana', cell: 0, code: 'for (const t of texts) docs.append(clean(t))' }, 'the script item')
      equal((await docs.item(1)).session, { id: nb.id, name: 'explore.ipynb', user: 'bo', cell: 2, code: 'docs.append(summarize(x))' }, 'the notebook item')
      equal((await nb.info()).cells, ['', 'x = 1', 'docs.append(summarize(x))'], 'the notebook cells')
      equal((await v.search.code('summarize(')).map(indexOf), [1], 'code search in a cell')
      equal((await v.search.code('clean(')).map((h) => [h.list, h.index]), [['docs', 0]], 'code search in a script')
      equal(await v.search.code('nothing like this'), [], 'code search without a hit')
      await rejects(docs.append('c', { session: { id: 999 } }), NotFoundError, 'an unknown session')
    },
  },

  {
    name: 'sessions: status set by done/fail, a parent, vault.sessions.list, session.wrote and list.createdBy',
    async run(t) {
      const { ConflictError, InvalidArgumentError, NotFoundError } = t.lib
      let v = await t.open()
      const run = await v.session('pipeline.ts', { code: 'run()' })
      const chunk = await v.session('chunk.ts', { parent: run })
      const embed = await v.session('embed.ts', { parent: run.id })
      const docs = await v.lists.create('docs', { type: 'document' })
      const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
      await docs.appendMany(['a', 'b', 'c'], { session: chunk })
      await docs.append('d', { session: embed })
      await emb.appendMany([[1, 0], [0, 1]], { session: embed })
      await docs.append('e')
      equal((await chunk.wrote()).map((w) => [w.list, w.start, w.end]), [['docs', 0, 3]], 'chunk wrote')
      equal((await embed.wrote()).map((w) => [w.list, w.start, w.end]), [['docs', 3, 4], ['emb', 0, 2]], 'embed wrote, in order')
      equal(await run.wrote(), [], 'the parent wrote nothing itself')
      equal((await docs.createdBy()).map((s) => s.name), ['chunk.ts', 'embed.ts'], 'docs created by')
      equal((await emb.createdBy()).map((s) => s.id), [embed.id], 'emb created by')
      equal((await chunk.done()).status, 'completed', 'done')
      const failed = await embed.fail(new Error('CUDA out of memory'))
      equal([failed.status, failed.error], ['failed', 'CUDA out of memory'], 'fail keeps the error text')
      check(typeof failed.endedAt === 'string', 'a finished session has an end time')
      await rejects(chunk.fail('late'), ConflictError, 'a session finishes once')
      await rejects(docs.append('f', { session: chunk }), ConflictError, 'a finished session writes no more')
      equal(await docs.size(), 5, 'the refused append added nothing')
      await rejects(v.session('x', { parent: 999 }), NotFoundError, 'an unknown parent')
      await rejects(v.session('x', { parent: 'run' as never }), InvalidArgumentError, 'a parent that is not a session')
      v = await t.reopen(v)
      const all = await v.sessions.list()
      equal(all.map((s) => [s.name, s.status, s.parent ?? null]), [['pipeline.ts', 'running', null], ['chunk.ts', 'completed', run.id], ['embed.ts', 'failed', run.id]], 'list after reopen')
      equal((await v.sessions.list({ parent: run.id })).map((s) => s.name), ['chunk.ts', 'embed.ts'], 'children of a session')
      equal((await v.sessions.list({ status: 'failed' })).map((s) => s.error), ['CUDA out of memory'], 'failed sessions')
      equal((await v.sessions.info(run.id)).cells, ['run()'], 'info by id')
      equal((await v.sessions.wrote(embed.id)).length, 2, 'wrote by id after reopen')
      await rejects(v.sessions.wrote(999), NotFoundError, 'wrote of an unknown session')
    },
  },

  {
    name: 'search.items combines text, vector, description, code, list, type and file filters (AND)',
    async run(t) {
      const { InvalidArgumentError, NotFoundError } = t.lib
      const v = await t.open()
      const cleaner = await v.session('clean.ts', { code: 'clean(text)' })
      const docs = await v.lists.create('docs', { type: 'document' })
      await docs.appendMany(['the red fox', 'a red car', 'the blue sea'], { session: cleaner, description: 'animals and vehicles' })
      await docs.append('red wine')
      const notes = await v.lists.create('notes', { type: 'record', fields: ['note'] })
      await notes.append({ note: 'red alert' })
      const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
      await emb.appendMany([[1, 0], [0.6, 0.8], [0, 1]], { description: 'colour vectors' })
      const files = await v.lists.create('files', { type: 'file' })
      await files.appendMany([
        { bytes: new Uint8Array([1]), name: 'Plot-loss.png', type: 'image/png' },
        { bytes: new Uint8Array([2]), name: 'loss.csv', type: 'text/csv' },
        { bytes: new Uint8Array([3]), name: 'weights.jpg', type: 'image/jpeg' },
      ])
      const pairs = (hs: { list: string; index: number }[]) => hs.map((h) => [h.list, h.index])
      equal(pairs(await v.search.items({ text: 'red', k: 10 })).sort(), [['docs', 0], ['docs', 1], ['docs', 3], ['notes', 0]], 'text alone')
      equal(pairs(await v.search.items({ text: 'red', type: 'record' })), [['notes', 0]], 'text and type')
      equal(pairs(await v.search.items({ text: 'red', code: 'clean(' })).sort(), [['docs', 0], ['docs', 1]], 'text and code')
      equal(pairs(await v.search.items({ text: 'red', description: 'vehicles', lists: ['docs'] })).sort(), [['docs', 0], ['docs', 1]], 'text, description and lists')
      equal(pairs(await v.search.items({ text: 'fox', description: 'colour' })), [], 'AND: no item has both')
      const near = await v.search.items({ similar: [1, 0], k: 2 })
      equal(pairs(near), [['emb', 0], ['emb', 1]], 'similar ranks by cosine')
      check(Math.abs(near[0]!.score - 1) < 1e-6, 'the cosine is the score')
      equal(pairs(await v.search.items({ similar: new Float32Array([0, 1]), description: 'colour', k: 1 })), [['emb', 2]], 'similar and description')
      equal(pairs(await v.search.items({ similar: [0, 1], text: 'red' })), [], 'similar and text meet no item')
      equal(pairs(await v.search.items({ name: 'LOSS' })), [['files', 0], ['files', 1]], 'file name, case-insensitive')
      equal(pairs(await v.search.items({ mediaType: 'image/' })), [['files', 0], ['files', 2]], 'media type family')
      equal(pairs(await v.search.items({ name: 'loss', mediaType: 'image/png' })), [['files', 0]], 'name and media type')
      equal((await v.search.items({ text: 'red', k: 1 })).length, 1, 'k bounds the hits')
      await rejects(v.search.items({}), InvalidArgumentError, 'no filter')
      await rejects(v.search.items({ text: 3 as never }), InvalidArgumentError, 'a text that is not a string')
      await rejects(v.search.items({ text: 'red', type: 'table' as never }), InvalidArgumentError, 'an unknown type')
      await rejects(v.search.items({ text: 'red', lists: ['nope'] }), NotFoundError, 'an unknown list')
      await rejects(v.search.items({ similar: [NaN, 1] }), InvalidArgumentError, 'a non-finite vector')
    },
  },

  {
    name: 'lineage: parents and children by range, ancestors and descendants by depth; kept after reopen and deletion',
    async run(t) {
      const { InvalidArgumentError, NotFoundError } = t.lib
      let v = await t.open()
      const raw = await v.lists.create('raw', { type: 'document' })
      await raw.appendMany(['r0', 'r1', 'r2', 'r3', 'r4', 'r5'])
      const chunks = await v.lists.create('chunks', { type: 'document' })
      await chunks.append('c0', { parents: [{ list: 'raw', start: 0, end: 3 }] })
      await chunks.appendMany(['c1', 'c2'], { itemParents: [[{ list: 'raw', start: 3 }], [{ list: 'raw', start: 4, end: 6 }]] })
      const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
      await emb.appendMany([[1, 0], [0, 1], [1, 1]], { itemParents: [[{ list: 'chunks', start: 0 }], [{ list: 'chunks', start: 1 }], [{ list: 'chunks', start: 2 }]] })

      equal((await v.lineage.parents('emb', { start: 2, end: 3 })).map((e) => [e.parent, e.parentStart, e.parentEnd]), [['chunks', 2, 3]], 'parents')
      equal((await v.lineage.children('raw', { start: 2, end: 4 })).map((e) => [e.child, e.childStart, e.childEnd]), [['chunks', 0, 1], ['chunks', 1, 2]], 'children')
      equal((await v.lineage.children('raw', { start: 5 })).map((e) => e.childStart), [2], 'children of the last item')
      equal(await v.lineage.parents('raw'), [], 'a source list has no parents')
      equal((await v.lineage.ancestors('emb', { start: 0, end: 2 })).map((n) => [n.list, n.start, n.end, n.depth]), [['chunks', 0, 2, 1], ['raw', 0, 4, 2]], 'ancestors')
      equal((await v.lineage.ancestors('emb', { start: 0, end: 2, depth: 1 })).length, 1, 'ancestors to depth 1')
      equal((await v.lineage.descendants('raw', { start: 4, end: 5 })).map((n) => [n.list, n.start, n.end, n.depth]), [['chunks', 2, 3, 1], ['emb', 2, 3, 2]], 'descendants')
      equal((await chunks.parents({ start: 0, end: 1 })).map((e) => e.parent), ['raw'], 'a list’s own parents')
      await rejects(chunks.append('bad', { parents: [{ list: 'raw', start: 5, end: 9 }] }), InvalidArgumentError, 'a parent range past the end')
      await rejects(chunks.append('bad', { parents: [{ list: 'nope', start: 0 }] }), NotFoundError, 'a missing parent list')
      equal(await chunks.size(), 3, 'the refused appends added nothing')

      v = await t.reopen(v)
      equal((await v.lineage.parents('emb', { start: 1, end: 2 })).map((e) => [e.parent, e.parentStart]), [['chunks', 1]], 'parents after reopen')
      await v.lists.delete('chunks')
      const after = await v.lineage.parents('emb')
      equal(after.length, 3, 'edges to a deleted list remain')
      check(after.every((e) => e.parent === 'chunks' && e.parentDeleted === true), 'and say the parent was deleted')
      equal((await v.lineage.ancestors('emb')).map((n) => [n.list, n.deleted ?? false]), [['chunks', true], ['raw', false]], 'ancestors through a deleted list')
      equal((await v.lineage.parents('chunks', { start: 0, end: 1 })).map((e) => e.parent), ['raw'], 'a deleted list’s own parents')
    },
  },

  {
    name: 'text search: every token must match, whole tokens only, BM25-ranked, filtered by lists',
    async run(t) {
      const { NotFoundError, hitsToArrow } = t.lib
      let v = await t.open()
      const docs = await v.lists.create('docs', { type: 'document' })
      await docs.appendMany(['the test passed', 'test_location is set', 'a test of tests: test again', 'nothing here', 'Another TEST, passed twice: passed'])
      const runs = await v.lists.create('runs', { type: 'record', fields: ['model', 'note'] })
      await runs.append({ model: 'bert', note: 'test run passed' })
      const hits = await v.search.text('test')
      equal(new Set(hits.map((h) => at(h)?.join(':'))), new Set(['docs:0', 'docs:2', 'docs:4', 'runs:0']), 'hits for "test"')
      equal(indexOf(hits[0]), 2, 'two occurrences rank first')
      equal((await v.search.text('test_location')).map(indexOf), [1], 'a token with an underscore')
      equal((await v.search.text('test passed', { lists: ['docs'] })).map(indexOf).sort(), [0, 4], 'two tokens in one list')
      equal(await v.search.text('test absent'), [], 'a token nothing has')
      equal(await v.search.text('   '), [], 'blank query')
      equal((await v.search.text('test', { limit: 2 })).length, 2, 'limit')
      await rejects(v.search.text('x', { lists: ['missing'] }), NotFoundError, 'a missing list')
      const table = hitsToArrow(hits)
      equal(table.numRows, hits.length, 'hitsToArrow rows')
      equal(table.getChild('list')!.toArray().slice(0, 1), ['docs'], 'hitsToArrow list column')
      v = await t.reopen(v)
      equal((await v.search.text('test_location')).map(indexOf), [1], 'after reopen')
    },
  },

  {
    name: 'descriptions and session code are searchable; a description name is used once per list',
    async run(t) {
      const { AlreadyExistsError } = t.lib
      const v = await t.open()
      const s = await v.session('embed.ts', { user: 'ana', code: 'const vectors = model.encode(chunks)' })
      const docs = await v.lists.create('docs', { type: 'document' })
      await docs.append('frankenstein chapter one', { session: s, description: 'first novel chapter' })
      await docs.describe('about', 'Full novel of Frankenstein by Mary Shelley, in paragraphs')
      await rejects(v.lists.describe('docs', 'about', 'again'), AlreadyExistsError, 'a description name twice')
      const d = await v.search.descriptions('novel')
      equal(d.length, 2, 'description hits')
      check(d.every((h) => h.kind === 'description' && h.list === 'docs'), 'description hits name their list')
      equal((await v.search.descriptions('shelley')).map((h) => h.name), ['about'], 'a named description')
      const mixed = await v.search.text('model encode', { sources: ['items', 'code', 'descriptions'] })
      equal(mixed.map((h) => (h as { kind: string }).kind), ['session'], 'a code hit among all sources')
      equal((await v.search.text('frankenstein')).map(indexOf), [0], 'items only by default')
      equal((await docs.descriptions()).length, 2, 'the list’s descriptions')
    },
  },

  {
    name: 'similar: exact cosine top-k over several lists and description embeddings',
    async run(t) {
      const { InvalidArgumentError, NotFoundError } = t.lib
      let v = await t.open()
      const a = await v.lists.create('a', { type: 'embedding', dim: 3 })
      const b = await v.lists.create('b', { type: 'embedding', dim: 3 })
      const c = await v.lists.create('c', { type: 'embedding', dim: 2 })
      await a.appendMany([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
      await b.appendMany([[10, 1, 0], [-1, 0, 0]])
      await c.append([1, 0])
      const hits = await v.search.similar(new Float32Array([1, 0, 0]), { k: 3 })
      equal(hits.map(at), [['a', 0], ['b', 0], ['a', 1]], 'top 3')
      near(hits[0]!.score, 1, 1e-6, 'an identical vector scores 1')
      near(hits[1]!.score, 10 / Math.sqrt(101), 1e-6, 'cosine of [10, 1, 0]')
      equal((await v.search.similar([1, 0, 0], { k: 1, lists: ['b'] })).map(indexOf), [0], 'one list')
      await rejects(v.search.similar([1, 0], { lists: ['a'] }), InvalidArgumentError, 'a query of another dimension')
      await rejects(v.search.similar([1, 0, 0], { lists: ['missing'] }), NotFoundError, 'a missing list')
      // Appends after a search are seen by the next one.
      await a.append([0.9, 0.1, 0])
      equal((await v.search.similar([1, 0.1, 0], { k: 1, lists: ['a'] })).map(indexOf), [3], 'a vector appended after a search')
      await a.describe('dir', 'points along x', { embedding: new Float32Array([1, 0.05, 0]) })
      const withDesc = await v.search.similar([1, 0.05, 0], { k: 1, descriptions: true })
      equal((withDesc[0] as { kind?: string }).kind, 'description', 'a description embedding')
      v = await t.reopen(v)
      equal((await v.search.similar([0, 0, 1], { k: 1 })).map(at), [['a', 2]], 'after reopen')
      await v.lists.delete('a')
      equal((await v.search.similar([1, 0, 0], { k: 5 })).map((h) => at(h)?.[0]), ['b', 'b'], 'a deleted list is not searched')
    },
  },

  {
    name: 'vector search agrees with a plain cosine over random data',
    async run(t) {
      const v = await t.open()
      const dim = 37 // not a multiple of 16: exercises row padding
      const n = 3000
      const emb = await v.lists.create('emb', { type: 'embedding', dim })
      const rnd = mulberry32(3)
      const m = new Float32Array(n * dim).map(() => rnd() - 0.5)
      await emb.appendMatrix(m.subarray(0, 1000 * dim))
      for (let i = 1000; i < 1010; i++) await emb.append(m.subarray(i * dim, (i + 1) * dim))
      await emb.appendMatrix(m.subarray(1010 * dim))
      const q = new Float32Array(dim).map(() => rnd() - 0.5)
      const expected = Array.from({ length: n }, (_, i) => {
        let dot = 0
        let nq = 0
        let nr = 0
        for (let j = 0; j < dim; j++) {
          dot += q[j]! * m[i * dim + j]!
          nq += q[j]! ** 2
          nr += m[i * dim + j]! ** 2
        }
        return [dot / Math.sqrt(nq * nr), i] as const
      }).sort((x, y) => y[0] - x[0])
      const hits = await v.search.similar(q, { k: 10 })
      equal(hits.map(indexOf), expected.slice(0, 10).map((e) => e[1]), 'the top 10')
      hits.forEach((h, i) => near(h.score, expected[i]![0], 1e-5, `score ${i}`))
    },
  },

  {
    name: 'unawaited calls on item lists take effect in call order, files and large matrices too (seeded interleavings)',
    async run(t) {
      const v = await t.open()
      const seed = (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0
      await checkItemsCallOrder(v, 'order', seed, 3, 20)
    },
  },

  {
    name: "reads issued before lists.delete see the list, also a vault's first search (cold clients and indexes)",
    async run(t) {
      await checkReadsBeforeDelete(await t.open(), 'del')
    },
  },

  {
    name: 'appends from several writers at once land with distinct indices',
    async run(t) {
      const v = await t.open()
      const docs = await v.lists.create('docs', { type: 'document' })
      const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
      const results = await Promise.all([
        ...Array.from({ length: 50 }, (_, i) => docs.append(`writer ${i}`)),
        ...Array.from({ length: 10 }, (_, i) => docs.appendMany([`batch ${i} a`, `batch ${i} b`]).then((r) => r.start)),
        ...Array.from({ length: 20 }, (_, i) => emb.append([i, 1])),
      ])
      equal(new Set(results.slice(0, 60)).size, 60, 'distinct document indices')
      equal(await docs.size(), 70, 'documents')
      equal(new Set(results.slice(60)), new Set(Array.from({ length: 20 }, (_, i) => i)), 'embedding indices')
      equal(new Set(await docs.slice()).size, 70, 'every document is there once')
      equal((await v.search.text('writer')).length, 10, 'the default search limit')
      equal((await v.search.text('writer', { limit: 100 })).length, 50, 'every writer')
    },
  },

  {
    name: 'a rolled back transaction leaves no item, lineage edge or search hit',
    async run(t) {
      const v = await t.open()
      const raw = await v.lists.create('raw', { type: 'document' })
      await raw.append('source')
      await v.search.text('source') // the index exists before the transaction
      await rejects(
        v.transaction(async (tx) => {
          const r = await tx.lists.get<DocumentList>('raw')
          await r.append('phantom words', { parents: [{ list: 'raw', start: 0 }] })
          equal((await tx.search.text('phantom')).length, 1, 'the transaction finds its own append')
          await tx.lists.create('phantom-list', { type: 'document' })
          throw new Error('abort')
        }),
        Error,
        'the transaction rejects with its callback error',
        /abort/,
      )
      equal(await raw.size(), 1, 'no item')
      equal(await v.search.text('phantom'), [], 'no search hit')
      equal(await v.lineage.children('raw'), [], 'no lineage edge')
      equal(await v.lists.has('phantom-list'), false, 'no list')
      await raw.append('real words')
      equal((await v.search.text('words')).map(indexOf), [1], 'the next append takes the next index')
    },
  },

  {
    name: 'explicit index: records, files and embeddings overwrite and leave gaps; size is max index + 1; kept after reopen',
    async run(t) {
      const { InvalidArgumentError, NotFoundError } = t.lib
      let v = await t.open()
      const recs = await v.lists.create('recs', { type: 'record', fields: ['x'] })
      await recs.appendMany([{ x: 0 }, { x: 1 }, { x: 2 }])
      equal(await recs.append({ x: 10 }, { index: 1 }), 1, 'append at an index returns it')
      equal(await recs.size(), 3, 'overwriting does not grow the list')
      equal((await recs.appendMany([{ x: 5 }, { x: 6 }], { index: 5 })), { start: 5, end: 7 }, 'a batch at an index past the end')
      equal(await recs.size(), 7, 'size = max index + 1')
      equal(await recs.slice(0), [{ x: 0 }, { x: 10 }, { x: 2 }, undefined, undefined, { x: 5 }, { x: 6 }], 'gaps read as undefined in a slice')
      await rejects(recs.get(3), NotFoundError, 'a gap item', /never written/)
      equal(await recs.append({ x: 7 }), 7, 'a plain append goes after the last index')
      await recs.describe('all', 'numbered rows')
      equal((await v.search.items({ description: 'numbered', k: 20 })).map(indexOf), [0, 1, 2, 5, 6, 7], 'description: the items a list description covers, never a gap')
      const files = await v.lists.create('files', { type: 'file' })
      await files.appendMany([{ bytes: new Uint8Array([1]), name: 'a' }, { bytes: new Uint8Array([2]), name: 'b' }])
      await files.append({ bytes: new Uint8Array([9]), name: 'b2' }, { index: 1 })
      equal((await files.get(1)).name, 'b2', 'a file replaced at its index')
      const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
      await emb.appendMany([[1, 0], [0, 1], [1, 1]])
      await emb.append([-1, 0], { index: 1 })
      await emb.append([0, -1], { index: 4 })
      equal(await emb.size(), 5, 'embedding size after a gap')
      equal(Array.from(await emb.get(1)), [-1, 0], 'the replaced vector')
      await rejects(emb.get(3), NotFoundError, 'a gap vector')
      const all = await emb.matrix(0)
      equal(Array.from(all.subarray(0, 6)), [1, 0, -1, 0, 1, 1], 'the slice sees the replacement')
      check(Number.isNaN(all[6]) && Number.isNaN(all[7]), 'a gap is NaN in a slice')
      equal(Array.from(all.subarray(8)), [0, -1], 'the item after the gap')
      const hits = await v.search.similar([-0.1, -1], { k: 10, lists: ['emb'] })
      equal(hits.map(indexOf), [4, 1, 0, 2], 'similar: the replaced vector scores as replaced, the gap never comes back')
      equal((await v.search.items({ similar: [-1, 0], k: 2 })).map(indexOf), [1, 4], 'search.items skips the gap too')
      await rejects(recs.append({ x: 1 }, { index: -1 }), InvalidArgumentError, 'a negative index')
      await rejects(recs.append({ x: 1 }, { index: 1.5 }), InvalidArgumentError, 'a fractional index')
      await rejects(recs.append({ x: 1 }, { index: 0, start: 0 }), InvalidArgumentError, 'start on a record list', /document/)
      v = await t.reopen(v)
      equal(await (await v.lists.get('recs')).slice(0, 3), [{ x: 0 }, { x: 10 }, { x: 2 }], 'after reopen')
      equal((await v.search.similar([-0.1, -1], { k: 10, lists: ['emb'] })).map(indexOf), [4, 1, 0, 2], 'similar after reopen')
    },
  },

  {
    name: 'explicit index: a vector far past the end (2^31, 2^40) is found by similar and items; the gap before it never is',
    async run(t) {
      const v = await t.open()
      const dim = 384
      const one = (j: number) => {
        const x = new Float32Array(dim)
        x[j] = 1
        return x
      }
      const emb = (await v.lists.create('emb', { type: 'embedding', dim })) as EmbeddingList
      await emb.appendMany([one(0), one(1)])
      equal(await emb.append(one(2), { index: 2 ** 31 }), 2 ** 31, 'an index past 2^31')
      equal(await emb.append(one(3), { index: 2 ** 40 }), 2 ** 40, 'the largest index')
      equal(await emb.append(one(0), { index: 1 }), 1, 'a replacement')
      equal(await emb.size(), 2 ** 40 + 1, 'size = max index + 1')
      // Loading these for search once allocated a row per index up to the largest (a RangeError at
      // 2^31; 4.6 GB at index 3,000,000 of dimension 384): rows now exist for written items only.
      const at = (h: unknown[]) => h.map(indexOf)
      equal(at(await v.search.similar(one(2), { k: 1 })), [2 ** 31], 'similar finds the item at 2^31')
      equal(at(await v.search.similar(one(3), { k: 1 })), [2 ** 40], 'similar finds the item at 2^40')
      equal(at(await v.search.similar(one(0), { k: 10 })).slice(0, 2), [0, 1], 'the replaced vector scores as replaced')
      equal((await v.search.similar(one(1), { k: 10 })).length, 4, 'four vectors, no gap')
      equal(at(await v.search.items({ similar: one(3), k: 1 })), [2 ** 40], 'search.items finds the item at 2^40')
      equal(at(await v.search.items({ similar: one(2), k: 10 })).sort((a, b) => a - b), [0, 1, 2 ** 31, 2 ** 40], 'search.items: every written item, no gap')
      equal(Array.from(await emb.get(2 ** 40)), Array.from(one(3)), 'get at 2^40')
      // A list description covers every index up to 2^40: once walked one by one (a hang).
      await emb.describe('all', 'unit basis vectors')
      equal(at(await v.search.items({ description: 'basis', k: 10 })).sort((a, b) => a - b), [0, 1, 2 ** 31, 2 ** 40], 'description: the written items only')
      equal(at(await v.search.items({ description: 'basis', similar: one(3), k: 1 })), [2 ** 40], 'description and similar')
      // A read across the gap wants one entry per index: no array or Float32Array that large exists.
      // Once the engine's untyped RangeError ("Invalid typed array length"); now a typed refusal.
      const { InvalidArgumentError } = t.lib
      await rejects(emb.slice(0), InvalidArgumentError, 'slice across the gap to 2^40', /one per index, gaps included/)
      await rejects(emb.matrix(2, 2 ** 40 + 1), InvalidArgumentError, 'matrix across the gap to 2^40', /smaller ranges/)
      const recs = await v.lists.create('recs', { type: 'record', fields: ['x'] })
      await recs.append({ x: 1 }, { index: 2 ** 40 })
      await rejects(recs.slice(0), InvalidArgumentError, 'a record slice across the gap to 2^40', /more entries than an array holds/)
      // Ranges that fit still read, gaps as NaN vectors / undefined.
      equal(Array.from(await emb.matrix(2 ** 40 - 1)).slice(dim), Array.from(one(3)), 'the last vector, after a gap')
      check(Number.isNaN((await emb.matrix(2 ** 40 - 1))[0]), 'the gap before it reads as NaN')
      equal(await recs.slice(2 ** 40 - 1), [undefined, { x: 1 }], 'a record slice near the end')
    },
  },

  {
    name: 'explicit index: documents need index and start; replaced text leaves text search; overlapping positions are found',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      const v = await t.open()
      const docs = await v.lists.create('docs', { type: 'document' })
      await docs.appendMany(['alpha beta ', 'gamma delta ', 'epsilon'])
      equal((await v.search.text('gamma')).map(indexOf), [1], 'indexed before')
      await rejects(docs.append('x', { index: 1 }), InvalidArgumentError, 'index without start', /start/)
      await rejects(docs.append('x', { start: 3 } as never), InvalidArgumentError, 'start without index', /start/)
      await docs.append('zeta eta theta', { index: 1, start: 6 })
      equal(await docs.get(1), 'zeta eta theta', 'the replaced document')
      equal(await v.search.text('gamma'), [], 'its old text is no longer found')
      equal((await v.search.text('theta')).map(indexOf), [1], 'its new text is')
      equal((await v.search.items({ text: 'theta' })).map(indexOf), [1], 'search.items too')
      const info = await docs.item(1)
      equal([info.start, info.end], [6, 20], 'its character range is where it was put')
      equal((await docs.content({ start: 15, end: 17 })).map((d) => d.index), [1], 'content finds the long document over a later start')
      equal((await docs.content({ start: 19, end: 25 })).map((d) => d.index).sort(), [1, 2], 'overlapping documents are both returned')
      await docs.append('far away', { index: 9, start: 100 })
      equal(await docs.size(), 10, 'size after a gap')
      equal((await v.lists.info('docs')).chars, 108, 'chars = max(chars, start + length)')
      equal((await docs.content({ start: 103, end: 104 })).map((d) => d.text), ['far away'], 'found by position')
      equal((await v.search.text('away')).map(indexOf), [9], 'and by text')
    },
  },

  {
    name: 'explicit index: replacing an item replaces the lineage recorded for it alone; item() names the append that wrote it last',
    async run(t) {
      const v = await t.open()
      const src = await v.lists.create('src', { type: 'document' })
      await src.appendMany(['s0', 's1', 's2'])
      const out = await v.lists.create('out', { type: 'record', fields: ['y'] })
      await out.appendMany([{ y: 0 }, { y: 1 }], { itemParents: [[{ list: 'src', start: 0 }], [{ list: 'src', start: 1 }]] })
      await out.append({ y: 11 }, { index: 1, parents: [{ list: 'src', start: 2 }] })
      equal((await v.lineage.parents('out', { start: 1, end: 2 })).map((e) => e.parentStart), [2], 'the new parent replaces the old one')
      equal((await v.lineage.parents('out', { start: 0, end: 1 })).map((e) => e.parentStart), [0], 'the other item keeps its parent')
      equal((await v.lineage.children('src', { start: 1, end: 2 })).length, 0, 'the old parent has no child left')
      const info = await out.item(1)
      equal(info.append, { start: 1, end: 2 }, 'item() names the latest append covering it')
    },
  },

  {
    name: "lineage in characters: a document parent range in chars links the documents it overlaps and is reported as given",
    async run(t) {
      const { InvalidArgumentError } = t.lib
      let v = await t.open()
      const raw = await v.lists.create('raw', { type: 'document' })
      await raw.appendMany(['abc', 'defg', 'hi']) // [0,3) [3,7) [7,9)
      const notes = await v.lists.create('notes', { type: 'record', fields: ['n'] })
      await notes.append({ n: 1 })
      const chunks = await v.lists.create('chunks', { type: 'document' })
      await chunks.append('cd', { parents: [{ list: 'raw', start: 2, end: 5, unit: 'chars' }] })
      await chunks.append('i', { parents: [{ list: 'raw', start: 8, unit: 'chars' }, { list: 'notes', start: 0 }] })
      const edges = (await v.lineage.parents('chunks')).map((e) => [e.childStart, e.parent, e.parentStart, e.parentEnd, e.parentChars])
      equal(edges, [[0, 'raw', 0, 2, { start: 2, end: 5 }], [1, 'raw', 2, 3, { start: 8, end: 9 }], [1, 'notes', 0, 1, undefined]], 'edges hold the documents and the characters given')
      equal((await v.lineage.children('raw', { start: 4, end: 5, unit: 'chars' })).map((e) => [e.child, e.childStart]), [['chunks', 0]], 'children of a character range')
      equal(await v.lineage.children('raw', { start: 0, end: 1, unit: 'chars' }).then((es) => es.map((e) => e.childStart)), [0], 'the first document')
      equal((await v.lineage.ancestors('chunks', { start: 0, end: 1 })).map((n) => [n.list, n.start, n.end]), [['raw', 0, 2]], 'walks stay in items')
      equal((await v.lineage.parents('raw', { start: 3, end: 4, unit: 'chars' })), [], 'a source document has no parents')
      await rejects(chunks.append('x', { parents: [{ list: 'notes', start: 0, unit: 'chars' }] }), InvalidArgumentError, 'chars on a record list', /document/)
      await rejects(chunks.append('x', { parents: [{ list: 'raw', start: 5, end: 10, unit: 'chars' }] }), InvalidArgumentError, 'past the characters', /9 characters/)
      await rejects(chunks.append('x', { parents: [{ list: 'raw', start: 0, unit: 'bytes' as never }] }), InvalidArgumentError, 'an unknown unit')
      await rejects(v.lineage.children('notes', { start: 0, unit: 'chars' }), InvalidArgumentError, 'a chars query on a record list')
      v = await t.reopen(v)
      equal((await v.lineage.parents('chunks', { start: 0, end: 1 }))[0]!.parentChars, { start: 2, end: 5 }, 'after reopen')
      await (await v.lists.get<DocumentList>('chunks')).append('CD', { index: 0, start: 0 })
      equal((await v.lineage.parents('chunks', { start: 0, end: 1 })), [], 'replacing the item drops its edge and characters')
    },
  },

  {
    name: 'bad arguments are refused with InvalidArgumentError',
    async run(t) {
      const { InvalidArgumentError } = t.lib
      const v = await t.open()
      const docs = await v.lists.create('docs', { type: 'document' })
      await rejects(docs.appendMany([]), InvalidArgumentError, 'appendMany of nothing')
      await rejects(docs.appendMany(['a', 'b'], { itemParents: [[]] }), InvalidArgumentError, 'itemParents of the wrong length')
      await rejects(docs.content({ start: 5, end: 2 }), InvalidArgumentError, 'a reversed range')
      await rejects(v.lineage.parents('docs', { start: -1 }), InvalidArgumentError, 'a negative start')
      await rejects(v.search.text(5 as never), InvalidArgumentError, 'a number as text query')
      await rejects(v.search.similar(new Float32Array(0)), InvalidArgumentError, 'an empty vector')
      await rejects(v.search.code(''), InvalidArgumentError, 'an empty code query')
      await rejects(v.session(''), InvalidArgumentError, 'an empty session name')
      await rejects(v.lists.create('e', { type: 'embedding' } as never), InvalidArgumentError, 'an embedding list without dim')
      await rejects(v.lists.create('d', { type: 'document', dim: 3 } as never), InvalidArgumentError, 'a document list with dim')
      await rejects(v.lists.create('r', { type: 'record', fields: ['a', 'a'] }), InvalidArgumentError, 'duplicate fields')
      equal((await v.lists.list()).map((l) => l.name), ['docs'], 'no list was created')
    },
  },
]
