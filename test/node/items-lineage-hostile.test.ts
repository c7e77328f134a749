import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConflictError, InvalidArgumentError, NotFoundError, openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

// Item lineage and sessions answering hostile or careless calls (docs/items.md). Found by
// probing; each test failed before its fix.

const dir = tempDir('labvault-lineage-hostile-')

test('a parent whose list is not a name (an object, an array, a number) is InvalidArgumentError and writes nothing', async () => {
  // Found by probing: `parents: [{ list: {} }]` reached SQLite as a bound value and the append
  // failed with a bare string ("Wrong API use: tried to bind a value of an unknown type"), not an error.
  const v = await openVault('parent-names', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['a', 'b'])
  const kid = await v.lists.create('kid', { type: 'document' })
  for (const list of [{}, ['docs'], 5, null, '']) {
    await assert.rejects(kid.append('x', { parents: [{ list: list as never, start: 0 }] }), InvalidArgumentError, `parents, list ${JSON.stringify(list)}`)
    await assert.rejects(kid.appendMany(['x'], { itemParents: [[{ list: list as never, start: 0 }]] }), InvalidArgumentError, `itemParents, list ${JSON.stringify(list)}`)
  }
  assert.equal(await kid.size(), 0)
  assert.deepEqual(await v.lineage.children('docs'), [])
  await v.close()
})

test("a session's currentCell that is not a cell number is InvalidArgumentError and writes nothing", async () => {
  // Found by probing: `session: { id, currentCell: {} }` failed with a bare string from SQLite's
  // binding, and `currentCell: '0'` was taken as cell 0.
  const v = await openVault('session-cells', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  const s = await v.session('run.ts', { code: 'go()' })
  for (const currentCell of [{}, '0', 0.5, -1, NaN, 2 ** 53, [0]]) {
    await assert.rejects(docs.append('x', { session: { id: s.id, currentCell } as never }), InvalidArgumentError, `currentCell ${String(currentCell)}`)
  }
  assert.equal(await docs.size(), 0)
  assert.deepEqual(await s.wrote(), [])
  await docs.append('x', { session: s })
  assert.equal((await docs.item(0)).session?.cell, 0)
  await v.close()
})

test('a finished session takes no more cells (ConflictError): its code stays what made its items', async () => {
  // Found by probing: after `s.done()`, `s.cell('evil()')` added code to the completed session,
  // and `search.code('evil')` then named the items it had made before that code existed.
  const v = await openVault('finished-cells', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  const s = await v.session('nb.ipynb', { kind: 'notebook', code: 'a()' })
  await docs.append('x', { session: s })
  await s.done()
  await assert.rejects(s.cell('evil()'), ConflictError)
  const f = await v.session('f.ts', { code: 'b()' })
  await f.fail(new Error('boom'))
  await assert.rejects(f.cell('later()'), ConflictError)
  assert.deepEqual((await s.info()).cells, ['a()'])
  assert.deepEqual((await f.info()).cells, ['b()'])
  assert.deepEqual(await v.search.code('evil'), [])
  for (const id of [{}, '1', 1.5]) await assert.rejects(v.sessions.info(id as never), InvalidArgumentError)
  await v.close()
  const w = await openVault('finished-cells', { storage: 'fs', path: dir })
  assert.deepEqual((await w.sessions.info(s.id)).cells, ['a()'])
  await w.close()
})

test("parentChars goes with the edge recorded in characters, also beside an item-range parent at the same start", async () => {
  // Found by probing: an append with parents [{ docs 0–2 (items) }, { docs chars 0–3 }] reported the
  // characters on the item edge docs[0, 2) and none on the edge docs[0, 1) they were given for
  // (edges were matched to their characters by list and start only, in no fixed order).
  const v = await openVault('parent-chars', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['0123456789', 'abcdefghij', 'KLMNOPQRST'])
  const kid = await v.lists.create('kid', { type: 'document' })
  await kid.append('x', { parents: [{ list: 'docs', start: 0, end: 2 }, { list: 'docs', start: 0, end: 3, unit: 'chars' }] })
  await kid.append('y', { parents: [{ list: 'docs', start: 1, end: 3, unit: 'chars' }, { list: 'docs', start: 0, end: 15, unit: 'chars' }, { list: 'docs', start: 0, end: 3 }] })
  await kid.appendMany(['z'], { itemParents: [[{ list: 'docs', start: 0 }, { list: 'docs', start: 2, end: 4, unit: 'chars' }]] })
  const shape = (edges: { childStart: number; parentStart: number; parentEnd: number; parentChars?: { start: number; end: number } }[]) =>
    edges.map((e) => `${e.childStart} ← [${e.parentStart}, ${e.parentEnd})${e.parentChars ? ` chars [${e.parentChars.start}, ${e.parentChars.end})` : ''}`).sort()
  const expected = [
    '0 ← [0, 1) chars [0, 3)',
    '0 ← [0, 2)',
    '1 ← [0, 1) chars [1, 3)',
    '1 ← [0, 2) chars [0, 15)',
    '1 ← [0, 3)',
    '2 ← [0, 1)',
    '2 ← [0, 1) chars [2, 4)',
  ]
  assert.deepEqual(shape(await v.lineage.parents('kid')), expected)
  assert.deepEqual(shape(await v.lineage.children('docs')), expected)
  await v.close()
  const w = await openVault('parent-chars', { storage: 'fs', path: dir })
  assert.deepEqual(shape(await w.lineage.parents('kid')), expected, 'after a reopen')
  await w.close()
})

test('a parent range never names items that were never written (a gap left by an explicit index)', async () => {
  // Found by probing: with g holding only item 10 (an append at index 10), `parents: [{ list: 'g',
  // start: 3 }]` was taken: an edge to an item that does not exist, which a later append at index
  // 3 would then appear to have been the parent of, before it existed.
  const v = await openVault('parent-gaps', { storage: 'fs', path: dir })
  const kid = await v.lists.create('kid', { type: 'record', fields: ['x'] })
  const g = await v.lists.create('g', { type: 'record', fields: ['x'] })
  await g.append({ x: 0 })
  await g.append({ x: 10 }, { index: 10 })
  const e = await v.lists.create('e', { type: 'embedding', dim: 2 })
  await e.appendMany([new Float32Array([1, 0]), new Float32Array([0, 1])])
  await e.append(new Float32Array([1, 1]), { index: 2 ** 40 })
  const d = await v.lists.create('d', { type: 'document' })
  await d.append('0123456789')
  await d.append('far', { index: 5, start: 1000 })
  for (const [list, start, end] of [['g', 3, 4], ['g', 0, 11], ['g', 9, 11], ['e', 0, 3], ['e', 2 ** 40 - 1, 2 ** 40 + 1], ['d', 1, 2], ['d', 0, 6]] as const) {
    await assert.rejects(kid.append({ x: 1 }, { parents: [{ list, start, end }] }), NotFoundError, `${list}[${start}, ${end})`)
    await assert.rejects(kid.appendMany([{ x: 1 }], { itemParents: [[{ list, start, end }]] }), NotFoundError, `item parents ${list}[${start}, ${end})`)
  }
  assert.equal(await kid.size(), 0)
  // Ranges of items that exist are taken, on either side of a gap.
  await kid.append({ x: 1 }, { parents: [{ list: 'g', start: 0 }, { list: 'g', start: 10 }, { list: 'e', start: 0, end: 2 }, { list: 'e', start: 2 ** 40 }, { list: 'd', start: 5 }] })
  assert.deepEqual((await v.lineage.parents('kid')).map((x) => [x.parent, x.parentStart, x.parentEnd]), [['g', 0, 1], ['g', 10, 11], ['e', 0, 2], ['e', 2 ** 40, 2 ** 40 + 1], ['d', 5, 6]])
  await v.close()
})

test('a character range links only the documents that overlap it, also when explicit indexes put them out of order', async () => {
  // Found by probing: with d[0] at characters [0, 10), d[1] at [1000, 1009) and d[2] at [10, 20),
  // a parent { list: 'd', start: 5, end: 15, unit: 'chars' } made one edge to items [0, 3): d[1],
  // which holds none of those characters, was reported as a parent (children of d[1] named k[0]),
  // and a lineage query over characters [5, 15) answered d[1]'s children too.
  const v = await openVault('chars-runs', { storage: 'fs', path: dir })
  const d = await v.lists.create('d', { type: 'document' })
  await d.append('0123456789')
  await d.append('FARFARFAR', { index: 1, start: 1000 })
  await d.append('abcdefghij', { index: 2, start: 10 })
  const k = await v.lists.create('k', { type: 'record', fields: ['x'] })
  const far = await v.lists.create('far', { type: 'record', fields: ['x'] })
  await k.append({ x: 0 }, { parents: [{ list: 'd', start: 5, end: 15, unit: 'chars' }] })
  await far.append({ x: 1 }, { parents: [{ list: 'd', start: 1 }] })
  const edges = await v.lineage.parents('k')
  assert.deepEqual(edges.map((e) => [e.parent, e.parentStart, e.parentEnd, e.parentChars]), [['d', 0, 1, { start: 5, end: 15 }], ['d', 2, 3, { start: 5, end: 15 }]])
  assert.deepEqual(await v.lineage.children('d', { start: 1, end: 2 }), [{ child: 'far', childStart: 0, childEnd: 1, parent: 'd', parentStart: 1, parentEnd: 2 }])
  assert.deepEqual((await v.lineage.children('d', { start: 5, end: 15, unit: 'chars' })).map((e) => e.child), ['k', 'k'])
  assert.deepEqual(await v.lineage.descendants('d', { start: 5, end: 15, unit: 'chars' }), [{ list: 'k', start: 0, end: 1, depth: 1 }])
  assert.deepEqual(await v.lineage.ancestors('k'), [{ list: 'd', start: 0, end: 1, depth: 1 }, { list: 'd', start: 2, end: 3, depth: 1 }])
  // A query over characters that no document holds answers nothing.
  assert.deepEqual(await v.lineage.children('d', { start: 500, end: 600, unit: 'chars' }), [])
  await v.close()
  const w = await openVault('chars-runs', { storage: 'fs', path: dir })
  assert.deepEqual(await w.lineage.parents('k'), edges, 'after a reopen')
  await w.close()
})

test('replacing items at an explicit index keeps the characters of the edges that stay', async () => {
  // Found by probing: r[0, 3) derived from docs chars [0, 3) (the whole append) and r[0] alone from
  // chars [2, 5); replacing r[0] removed its own edge and also the characters of the whole
  // append's edge, which stayed: parentChars of r[0, 3) ← docs[0, 1) became undefined. Since a
  // replaced item leaves the edges of the append it replaced, that edge stays as r[1, 3).
  const v = await openVault('replace-chars', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['0123456789', 'abcdefghij'])
  const r = await v.lists.create('r', { type: 'record', fields: ['x'] })
  await r.appendMany([{ x: 0 }, { x: 1 }, { x: 2 }], {
    parents: [{ list: 'docs', start: 0, end: 3, unit: 'chars' }],
    itemParents: [[{ list: 'docs', start: 2, end: 5, unit: 'chars' }], [{ list: 'docs', start: 0, end: 12, unit: 'chars' }], []],
  })
  await r.appendMany([{ x: 3 }], { parents: [{ list: 'docs', start: 0, end: 1 }, { list: 'docs', start: 4, end: 6, unit: 'chars' }] })
  const shape = async (w = v) => (await w.lineage.parents('r')).map((e) => `${e.childStart}-${e.childEnd} ← ${e.parentStart}-${e.parentEnd}${e.parentChars ? ` chars ${e.parentChars.start}-${e.parentChars.end}` : ''}`)
  await r.append({ x: 9 }, { index: 0 })
  await r.append({ x: 9 }, { index: 3, parents: [{ list: 'docs', start: 1 }] })
  const expected = ['1-2 ← 0-2 chars 0-12', '1-3 ← 0-1 chars 0-3', '3-4 ← 1-2']
  assert.deepEqual(await shape(), expected)
  await v.close()
  const w = await openVault('replace-chars', { storage: 'fs', path: dir })
  assert.deepEqual(await shape(w), expected, 'after a reopen')
  await w.close()
})

test('a lineage query over part of an append reports characters only on the edges that have them', async () => {
  // Found by probing: r[0, 3) derived from docs[0] (items) and r[0] alone from docs chars [0, 3),
  // both keyed (r, 0, append, docs, 0); parents('r', { start: 1, end: 2 }) found the whole
  // append's edge without r[0]'s, and gave it r[0]'s characters (the first of the key it met).
  const v = await openVault('partial-chars', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['0123456789', 'abcdefghij'])
  const r = await v.lists.create('r', { type: 'record', fields: ['x'] })
  await r.appendMany([{ x: 0 }, { x: 1 }, { x: 2 }], { parents: [{ list: 'docs', start: 0 }], itemParents: [[{ list: 'docs', start: 0, end: 3, unit: 'chars' }], [], []] })
  const whole = { child: 'r', childStart: 0, childEnd: 3, parent: 'docs', parentStart: 0, parentEnd: 1 }
  assert.deepEqual(await v.lineage.parents('r', { start: 1, end: 2 }), [whole])
  assert.deepEqual(await v.lineage.parents('r', { start: 2 }), [whole])
  assert.deepEqual(await v.lineage.parents('r'), [{ ...whole, childEnd: 1, parentChars: { start: 0, end: 3 } }, whole])
  await v.close()
})

test('a lineage range that is not an object (a number, an array, a string) is InvalidArgumentError, not the whole list', async () => {
  // Found by probing: `parents('kid', 5)` has no start or end, and answered every edge of the list.
  const v = await openVault('range-shapes', { storage: 'fs', path: dir })
  const docs = await v.lists.create('docs', { type: 'document' })
  await docs.appendMany(['a', 'b', 'c'])
  const kid = await v.lists.create('kid', { type: 'document' })
  await kid.appendMany(['x', 'y'], { itemParents: [[{ list: 'docs', start: 0 }], [{ list: 'docs', start: 2 }]] })
  for (const range of [5, [0, 1], '0']) {
    await assert.rejects(v.lineage.parents('kid', range as never), InvalidArgumentError, `parents, ${JSON.stringify(range)}`)
    await assert.rejects(v.lineage.children('docs', range as never), InvalidArgumentError, `children, ${JSON.stringify(range)}`)
    await assert.rejects(v.lineage.ancestors('kid', range as never), InvalidArgumentError, `ancestors, ${JSON.stringify(range)}`)
  }
  // An object range and no range answer as before.
  assert.equal((await v.lineage.parents('kid', { start: 1 })).length, 1)
  assert.equal((await v.lineage.parents('kid')).length, 2)
  await v.close()
})

test('a replaced item reports the parents of its new content only, not those of the append it replaced', async () => {
  // Found by probing: r[0, 3) derived from x[0] (the whole append); replacing r[1] with content
  // derived from y[0] (or from nothing) removed only edges recorded for r[1] alone, so
  // parents('r', { start: 1 }) still named x[0] through the whole append's edge r[0, 3).
  const v = await openVault('replace-parents', { storage: 'fs', path: dir })
  const x = await v.lists.create('x', { type: 'document' })
  await x.appendMany(['x0', 'x1'])
  const y = await v.lists.create('y', { type: 'document' })
  await y.appendMany(['y0'])
  const r = await v.lists.create('r', { type: 'record', fields: ['n'] })
  await r.appendMany([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }], { parents: [{ list: 'x', start: 0 }] })
  await r.appendMany([{ n: 4 }, { n: 5 }], { parents: [{ list: 'x', start: 0, end: 2, unit: 'chars' }] })
  await r.append({ n: 9 }, { index: 1, parents: [{ list: 'y', start: 0 }] })
  await r.append({ n: 9 }, { index: 4 })
  const shape = async (w = v, range?: { start: number; end?: number }) =>
    (await w.lineage.parents('r', range)).map((e) => `${e.childStart}-${e.childEnd} ← ${e.parent}${e.parentStart}-${e.parentEnd}${e.parentChars ? ` chars ${e.parentChars.start}-${e.parentChars.end}` : ''}`)
  assert.deepEqual(await shape(v, { start: 1, end: 2 }), ['1-2 ← y0-1'])
  assert.deepEqual(await shape(v, { start: 4, end: 5 }), [])
  const expected = ['0-1 ← x0-1', '1-2 ← y0-1', '2-4 ← x0-1', '5-6 ← x0-1 chars 0-2']
  assert.deepEqual(await shape(), expected)
  assert.deepEqual((await v.lineage.ancestors('r', { start: 1, end: 2 })).map((n) => `${n.list}${n.start}-${n.end}`), ['y0-1'])
  assert.deepEqual((await v.lineage.children('x')).map((e) => `${e.childStart}-${e.childEnd}`), ['0-1', '2-4', '5-6'])
  await v.close()
  const w = await openVault('replace-parents', { storage: 'fs', path: dir })
  assert.deepEqual(await shape(w), expected, 'after a reopen')
  await w.close()
})

test('a walk past maxNodes stops there and marks its last node truncated; a walk that fits has no mark', async () => {
  // Found by probing: the guard (100,000 nodes) was looked at between depths only, so a walk could
  // return 150,001 nodes, and a walk it stopped looked complete (a list at the next depth was
  // silently missing). Now a walk stops at maxNodes within a depth and says so.
  const v = await openVault('walk-limit', { storage: 'fs', path: dir })
  const p = await v.lists.create('p', { type: 'document' })
  await p.appendMany(['a', 'b', 'c', 'd', 'e', 'f'])
  const c = await v.lists.create('c', { type: 'document' })
  // Three disjoint parent ranges at depth 1 (p[0], p[2], p[4]), then g at depth 2.
  await c.appendMany(['x', 'y', 'z'], { itemParents: [[{ list: 'p', start: 0 }], [{ list: 'p', start: 2 }], [{ list: 'p', start: 4 }]] })
  const g = await v.lists.create('g', { type: 'document' })
  await g.append('root')
  await p.append('h', { parents: [{ list: 'g', start: 0 }] })
  const d = await v.lists.create('d', { type: 'document' })
  await d.append('leaf', { parents: [{ list: 'c', start: 0 }] })
  const shape = (nodes: { list: string; start: number; end: number; depth: number; truncated?: true }[]) => nodes.map((n) => `${n.list}${n.start}-${n.end}@${n.depth}${n.truncated ? ' truncated' : ''}`)
  const all = ['p0-1@1', 'p2-3@1', 'p4-5@1']
  assert.deepEqual(shape(await v.lineage.ancestors('c')), all)
  assert.deepEqual(shape(await v.lineage.ancestors('c', { maxNodes: 3 })), all)
  // Within one depth: two of the three, the second marked.
  assert.deepEqual(shape(await v.lineage.ancestors('c', { maxNodes: 2 })), ['p0-1@1', 'p2-3@1 truncated'])
  // Across depths: d → c → p.
  assert.deepEqual(shape(await v.lineage.ancestors('d')), ['c0-1@1', 'p0-1@2'])
  assert.deepEqual(shape(await v.lineage.ancestors('d', { maxNodes: 1 })), ['c0-1@1 truncated'])
  assert.deepEqual(shape(await v.lineage.ancestors('d', { maxNodes: 1, depth: 1 })), ['c0-1@1'])
  assert.deepEqual(shape(await v.lineage.descendants('g', { maxNodes: 1 })), ['p6-7@1'])
  for (const maxNodes of [0, -1, 1.5, NaN, '2', Infinity]) {
    await assert.rejects(v.lineage.ancestors('c', { maxNodes: maxNodes as never }), InvalidArgumentError, `maxNodes ${String(maxNodes)}`)
  }
  await v.close()
})
