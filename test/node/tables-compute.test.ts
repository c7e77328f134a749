import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { makeVector, tableFromArrays, type Table } from 'apache-arrow'
import { InvalidArgumentError, NotFoundError } from '../../src/errors/errors.js'
import { parseBuilder } from '../../src/domains/tables/shared/builder-spec.js'
import type { BuilderSpec } from '../../src/domains/tables/shared/builder-types.js'
import { columnValues, columnsToTable, DTYPE_METADATA } from '../../src/domains/tables/shared/table-arrow.js'
import { parseTableDType } from '../../src/domains/tables/shared/table-dtypes.js'
import { utf8Vector } from '../../src/domains/tables/shared/arrow-vectors.js'
import { computeInstance } from '../../src/domains/tables/engine/compute/execute-builders.js'
import type { BuilderResult, ComputeRequest, ComputeResult, TableSource } from '../../src/domains/tables/engine/compute/compute-types.js'
import { loadCodeModule } from '../../src/domains/tables/engine/compute/module-loader.js'

/**
 * The compute engine of versioned tables (issue 10): each return type, concurrency, abort,
 * progress, row reuse / force / changed dependencies, checks on what builders return, resume from
 * completed builders. Code modules are real ES modules loaded from source text; they see the test
 * only through a probe object passed as the artifact folder (what a builder is given).
 */

interface Probe {
  calls: Record<string, number>
  inflight: number
  maxInflight: number
  serial: number
  papers: string[]
  gate?: Promise<void>
  failAt?: number
}

function newProbe(papers = ['a.pdf', 'b.pdf', 'c.pdf']): Probe {
  return { calls: {}, inflight: 0, maxInflight: 0, serial: 0, papers }
}

// One module for every test: its state lives in the probe, so tests do not share any.
const SOURCE = `
const count = (ctx, name) => { const p = ctx.artifactFolder; p.calls[name] = (p.calls[name] ?? 0) + 1; return p }
export function papers(args, ctx) {
  const p = count(ctx, 'papers')
  return p.papers.map((name, i) => ({ paper: name, n: i }))
}
export function* paperGen(args, ctx) {
  const p = count(ctx, 'paperGen')
  for (const name of p.papers) yield { paper: name, n: 0 }
}
export function stamp(args, ctx) {
  const p = count(ctx, 'stamp')
  return args.prefix + ':' + args.paper + ':' + (++p.serial)
}
export async function slow(args, ctx) {
  const p = count(ctx, 'slow')
  if (p.failAt !== undefined && ctx.index === p.failAt) throw new Error('boom at ' + ctx.index)
  p.inflight++; p.maxInflight = Math.max(p.maxInflight, p.inflight)
  await (p.gate ?? new Promise((r) => setTimeout(r, 1)))
  p.inflight--
  return { len: args.paper.length, upper: args.paper.toUpperCase() }
}
export function lengths(args, ctx) {
  count(ctx, 'lengths')
  return { total: args.papers.map((x) => x.length) }
}
export function arrowOut(args, ctx) {
  count(ctx, 'arrowOut')
  return ctx.arrow.tableFromArrays({ twice: Float64Array.from(args.n, (x) => x * 2) })
}
export async function* gen(args, ctx) {
  count(ctx, 'gen')
  for (const name of args.papers) yield name + '!'
}
export function lookup(args, ctx) {
  count(ctx, 'lookup')
  return args.found + '|' + args.proc + '|' + JSON.stringify(args.text)
}
export function busy(args, ctx) {
  count(ctx, 'busy')
  const until = performance.now() + 1
  while (performance.now() < until) {}
  return 1
}
export function wrong(args, ctx) { return [{ x: 1 }] }
export function typed(args, ctx) {
  return [0, 1, 2].map((i) => ({
    b: i % 2 === 0, by: new Uint8Array([i, 255]), fb: new Uint8Array([i]), v: new Float32Array([i, -i]), mp: new Map([[i, { deep: [i] }]]),
    js: { i, s: 'é' + i }, big: i === 1 ? null : BigInt(i) * 10n ** 15n, art: 'file-' + i + '.pdf', lat: 'café' + i, f32: i + 0.1,
  }))
}
export function same(args, ctx) { return args.value }
`

const P = 'papers'
// The index lists the probe's papers: it is given the artifact folder (the probe), whose files
// (request's `artifacts`: the papers) are part of its fingerprint, so a new paper makes it run.
const idx = (extra: Record<string, unknown> = {}, table = 't'): BuilderSpec =>
  parseBuilder({ changedColumns: ['paper', 'n'], primaryKey: ['paper'], function: { module: P, export: 'papers' }, arguments: { folder: '~ARTIFACT_FOLDER~' }, dtypes: { paper: 'str:utf8', n: 'i32' }, ...extra }, { table, name: `${table}_index` })
const col = (name: string, spec: Record<string, unknown>): BuilderSpec => parseBuilder(spec, { table: 't', name })
const stampB = (prefix = 'x', extra: Record<string, unknown> = {}): BuilderSpec =>
  col('stamp', { changedColumns: ['s'], function: { module: P, export: 'stamp' }, arguments: { paper: '<<self.paper[index]>>', prefix }, dtypes: { s: 'str:utf8' }, ...extra })

/** Other tables, as a tables domain would serve them: instances in creation order. */
function memorySource(tables: Record<string, [string, Table][]>): TableSource {
  return {
    async resolveInstance(table, instance) {
      const list = tables[table]
      if (!list) throw new NotFoundError(`table ${table} does not exist`)
      if (instance === undefined) return list.at(-1)![0]
      if (!list.some(([id]) => id === instance)) throw new NotFoundError(`no instance ${instance}`)
      return instance
    },
    async read(table, instanceId) {
      return tables[table]!.find(([id]) => id === instanceId)![1]
    },
  }
}

function request(probe: Probe, builders: BuilderSpec[], extra: Partial<ComputeRequest> = {}): ComputeRequest {
  return {
    table: 't', instanceId: 'TEMP_base', builders, code: async (m) => {
      if (m !== P) throw new NotFoundError(`no code module ${m}`)
      return SOURCE
    },
    source: memorySource({}), artifactFolder: probe, artifacts: async () => probe.papers.map((p) => [p, `hash of ${p}`] as const), processId: 'proc-1', ...extra,
  }
}

const values = (r: ComputeResult | Table, c: string): unknown[] => columnValues('table' in r ? r.table : r, c)
const origin = (r: ComputeResult) => ({ instanceId: 'base_1_x', table: r.table, fingerprints: r.fingerprints })

async function rejects(p: Promise<unknown>, Class: new (...a: never[]) => Error, ...parts: string[]): Promise<void> {
  await assert.rejects(p, (err: Error) => {
    assert.ok(err instanceof Class, `expected ${Class.name}, got ${err.name}: ${err.message}`)
    for (const part of parts) assert.ok(err.message.includes(part), `${JSON.stringify(err.message)} lacks ${JSON.stringify(part)}`)
    return true
  })
}

test('each return type: rows (objects, columns, Arrow), row-wise, generator; dtypes in the Arrow fields', async () => {
  const probe = newProbe()
  const r = await computeInstance(request(probe, [
    col('gen', { changedColumns: ['bang'], returnType: 'generator', function: { module: P, export: 'gen' }, arguments: { papers: '<<self.paper>>' } }),
    col('lengths', { changedColumns: ['total'], returnType: 'rows', function: { module: P, export: 'lengths' }, arguments: { papers: '<<self.paper>>' }, dtypes: { total: 'i64' } }),
    col('arrow', { changedColumns: ['twice'], returnType: 'rows', function: { module: P, export: 'arrowOut' }, arguments: { n: '<<self.n>>' } }),
    col('slow', { changedColumns: ['len', 'upper'], function: { module: P, export: 'slow' }, arguments: { paper: '<<self.paper[index]>>' }, dtypes: { len: 'f64', upper: 'str:utf8' } }),
    idx(),
  ]))
  assert.deepEqual(r.table.schema.fields.map((f) => f.name), ['paper', 'n', 'bang', 'total', 'twice', 'len', 'upper'])
  assert.deepEqual(values(r, 'paper'), ['a.pdf', 'b.pdf', 'c.pdf'])
  assert.deepEqual(values(r, 'n'), [0, 1, 2])
  assert.deepEqual(values(r, 'bang'), ['a.pdf!', 'b.pdf!', 'c.pdf!'])
  assert.deepEqual(values(r, 'total'), [5n, 5n, 5n])
  assert.deepEqual(values(r, 'twice'), [0, 2, 4])
  assert.deepEqual(values(r, 'len'), [5, 5, 5])
  assert.deepEqual(values(r, 'upper'), ['A.PDF', 'B.PDF', 'C.PDF'])
  const dtypes = Object.fromEntries(r.table.schema.fields.map((f) => [f.name, f.metadata.get(DTYPE_METADATA)]))
  assert.deepEqual(dtypes, { paper: 'str:utf8', n: 'i32', bang: 'str:utf8?', total: 'i64', twice: 'f64?', len: 'f64', upper: 'str:utf8' })
  assert.deepEqual(r.builders.map((b) => [b.builder, b.computed, b.reused]), [['t_index', 3, 0], ['gen', 3, 0], ['lengths', 3, 0], ['arrow', 3, 0], ['slow', 3, 0]])
  assert.deepEqual(probe.calls, { papers: 1, gen: 1, lengths: 1, arrowOut: 1, slow: 3 })
  // A generator index builder works too.
  const g = await computeInstance(request(newProbe(['x']), [idx({ returnType: 'generator', function: { module: P, export: 'paperGen' } })]))
  assert.deepEqual(values(g, 'paper'), ['x'])
})

test('references to other tables and keywords resolve; dependencies are reported', async () => {
  const probe = newProbe(['a', 'b'])
  const stories1 = tableFromArrays({ name: ['a', 'b'], text: ['old a', 'old b'] })
  const stories2 = tableFromArrays({ name: ['b', 'a'], text: ['text of b', 'text of a'] })
  const source = memorySource({ stories: [['base_1_u', stories1], ['base_2_v', stories2]] })
  const r = await computeInstance(request(probe, [idx(), col('look', {
    changedColumns: ['out'], function: { module: P, export: 'lookup' },
    arguments: { text: '<<stories.text[name::<<self.paper[index]>>]>>', found: '~ARTIFACT_FOLDER~', proc: 'pid=~processId~' },
  })], { source, artifactFolder: probe }))
  // `found` is the artifact folder itself (here the probe object), not a string.
  const out = values(r, 'out') as string[]
  assert.match(out[0]!, /^\[object Object\]\|pid=proc-1\|\["text of a"\]$/)
  assert.match(out[1]!, /\|\["text of b"\]$/)
  assert.deepEqual(r.dependencies, [{ table: 'stories', instanceId: 'base_2_v' }])
  // A given instance is read, not the latest.
  const r2 = await computeInstance(request(newProbe(['a']), [idx(), col('look', {
    changedColumns: ['out'], function: { module: P, export: 'lookup' }, arguments: { text: '<<stories(base_1_u).text[name::<<self.paper[index]>>]>>', found: 1, proc: 2 },
  })], { source }))
  assert.deepEqual(values(r2, 'out'), ['1|2|["old a"]'])
  // An unknown table or column is a NotFoundError naming it.
  await rejects(computeInstance(request(newProbe(), [idx(), col('look', { changedColumns: ['o'], function: { module: P, export: 'same' }, arguments: { value: '<<ghosts.x>>' } })], { source })), NotFoundError, 'ghosts')
  await rejects(computeInstance(request(newProbe(), [idx(), col('look', { changedColumns: ['o'], function: { module: P, export: 'same' }, arguments: { value: '<<stories.title>>' } })], { source })), NotFoundError, 'title')
})

test('row-wise calls run `concurrency` at a time', async () => {
  for (const concurrency of [1, 3, 8]) {
    const probe = newProbe(Array.from({ length: 12 }, (_, i) => `p${i}`))
    await computeInstance(request(probe, [idx(), col('slow', { changedColumns: ['len', 'upper'], concurrency, function: { module: P, export: 'slow' }, arguments: { paper: '<<self.paper[index]>>' } })]))
    assert.equal(probe.calls['slow'], 12)
    assert.equal(probe.maxInflight, concurrency)
  }
})

test('progress: per builder, from the reused rows to the total, one step per row-wise call', async () => {
  const probe = newProbe()
  const seen: string[] = []
  const r = await computeInstance(request(probe, [idx(), stampB()], { onProgress: (p) => seen.push(`${p.builder} ${p.done}/${p.total} r${p.reused}`) }))
  assert.deepEqual(seen, ['t_index 3/3 r0', 'stamp 0/3 r0', 'stamp 1/3 r0', 'stamp 2/3 r0', 'stamp 3/3 r0'])
  probe.papers.push('d.pdf')
  seen.length = 0
  await computeInstance(request(probe, [idx(), stampB()], { origin: origin(r), onProgress: (p) => seen.push(`${p.builder} ${p.done}/${p.total} r${p.reused}`) }))
  assert.deepEqual(seen, ['t_index 4/4 r0', 'stamp 3/4 r3', 'stamp 4/4 r3'])
})

test('abort: no call starts after the signal, and the rejection is its reason', async () => {
  const probe = newProbe(Array.from({ length: 50 }, (_, i) => `p${i}`))
  const ac = new AbortController()
  const p = computeInstance(request(probe, [idx(), col('slow', { changedColumns: ['len', 'upper'], concurrency: 2, function: { module: P, export: 'slow' }, arguments: { paper: '<<self.paper[index]>>' } })], {
    signal: ac.signal, onProgress: (e) => e.builder === 'slow' && e.done === 5 && ac.abort(new Error('enough')),
  }))
  await assert.rejects(p, /enough/)
  const after = probe.calls['slow']!
  assert.ok(after >= 5 && after <= 7, `calls: ${after}`)
  await new Promise((r) => setTimeout(r, 20))
  assert.equal(probe.calls['slow'], after)
  assert.equal(probe.inflight, 0)
  // Already aborted: nothing runs.
  const probe2 = newProbe()
  await assert.rejects(computeInstance(request(probe2, [idx()], { signal: AbortSignal.abort() })))
  assert.deepEqual(probe2.calls, {})
})

test('abort reaches a long run of synchronous calls (the executor yields to the event loop)', async () => {
  const probe = newProbe(Array.from({ length: 400 }, (_, i) => `p${i}`))
  const ac = new AbortController()
  // The timer is armed once the busy builder's first call has returned, not when the test starts:
  // on a loaded machine the index builder and the module's load can outlast a fixed delay.
  let armed = false
  const onProgress = (e: { builder: string; done: number }): void => {
    if (e.builder !== 'busy' || e.done < 1 || armed) return
    armed = true
    setTimeout(() => ac.abort(new Error('timer abort')), 20)
  }
  await assert.rejects(computeInstance(request(probe, [idx(), col('busy', { changedColumns: ['b'], function: { module: P, export: 'busy' } })], { signal: ac.signal, onProgress })), /timer abort/)
  const calls = probe.calls['busy'] ?? 0
  assert.ok(armed && calls > 0 && calls < 400, `calls: ${calls}`)
})

test('reference results: one column → values, several or none → row objects, a row key → one; ranges; negative keys', async () => {
  const probe = newProbe(['a', 'bb', 'ccc', 'dddd'])
  const papers = tableFromArrays({ name: ['x', 'y', 'z'], year: Int32Array.from([1999, 2005, 2010]) })
  const one = (name: string, value: string) => col(name, { changedColumns: [name], function: { module: P, export: 'same' }, arguments: { value }, dtypes: { [name]: 'json' } })
  const r = await computeInstance(request(probe, [
    idx(),
    one('whole', '<<papers>>'),
    one('cols', '<<papers.{name}[year::2000:2010]>>'),
    one('vals', '<<papers.name[year::2000:2011]>>'),
    one('last', '<<papers.name[-1]>>'),
    one('row', '<<papers[1]>>'),
    one('eq', '<<papers.name[year::1999]>>'),
    one('none', '<<papers.name[year::3000]>>'),
    one('mine', '<<self.{paper,n}[index]>>'),
    one('text', 'paper <<self.paper[index]>> of <<papers.name[0]>>'),
    one('lit', 'a \\<< b <<papers.name[0]>> \\<<'),
  ], { source: memorySource({ papers: [['base_1_a', papers]] }) }))
  const first = (c: string) => values(r, c)[0]
  assert.deepEqual(first('whole'), [{ name: 'x', year: 1999 }, { name: 'y', year: 2005 }, { name: 'z', year: 2010 }])
  assert.deepEqual(first('cols'), [{ name: 'y' }])
  assert.deepEqual(first('vals'), ['y', 'z'])
  assert.equal(first('last'), 'z')
  assert.deepEqual(first('row'), { name: 'y', year: 2005 })
  assert.deepEqual(first('eq'), ['x'])
  assert.deepEqual(first('none'), [])
  assert.deepEqual(values(r, 'mine'), [{ paper: 'a', n: 0 }, { paper: 'bb', n: 1 }, { paper: 'ccc', n: 2 }, { paper: 'dddd', n: 3 }])
  assert.equal(first('lit'), 'a << b x <<')
  assert.deepEqual(values(r, 'text'), ['paper a of x', 'paper bb of x', 'paper ccc of x', 'paper dddd of x'])
  await rejects(computeInstance(request(newProbe(), [idx(), one('far', '<<papers.name[7]>>')], { source: memorySource({ papers: [['base_1_a', papers]] }) })), InvalidArgumentError, '"far"', 'row 7 is out of range')
})

test('reuse: unchanged builders copy rows by primary key; new rows computed; force recomputes all', async () => {
  const probe = newProbe()
  const first = await computeInstance(request(probe, [idx(), stampB()]))
  const firstS = values(first, 's')
  assert.equal(probe.calls['stamp'], 3)
  const again = await computeInstance(request(probe, [idx(), stampB()], { origin: origin(first) }))
  assert.deepEqual(values(again, 's'), firstS)
  assert.equal(probe.calls['stamp'], 3)
  assert.deepEqual(again.fingerprints, first.fingerprints)
  // A new row (and a reordered index): old rows keep their values by key, only the new one is computed.
  probe.papers = ['new.pdf', 'c.pdf', 'a.pdf', 'b.pdf']
  const grown = await computeInstance(request(probe, [idx(), stampB()], { origin: origin(again) }))
  assert.equal(probe.calls['stamp'], 4)
  assert.deepEqual(values(grown, 's').slice(1), [firstS[2], firstS[0], firstS[1]])
  assert.deepEqual(grown.builders.map((b) => [b.builder, b.computed, b.reused]), [['t_index', 4, 0], ['stamp', 1, 3]])
  // force: every row computed again.
  const forced = await computeInstance(request(probe, [idx(), stampB()], { origin: origin(grown), force: true }))
  assert.equal(probe.calls['stamp'], 8)
  for (const [i, v] of values(forced, 's').entries()) assert.notEqual(v, values(grown, 's')[i])
})

test('reuse: an unchanged re-execution hands back the origin\'s vectors, the index\'s included; a changed index column is new', async () => {
  const probe = newProbe()
  const first = await computeInstance(request(probe, [idx(), stampB()]))
  const again = await computeInstance(request(probe, [idx(), stampB()], { origin: origin(first) }))
  for (const c of ['paper', 'n', 's']) assert.equal(again.table.getChild(c)!.data[0], first.table.getChild(c)!.data[0], `column ${c} is the origin's`)
  // Same keys from a changed index builder: the key column is still the origin's (same bytes), n is new.
  const changed = await computeInstance(request(probe, [idx(), stampB()], { origin: origin(first), code: async () => SOURCE.replace('n: i }', 'n: i + 10 }') }))
  assert.equal(changed.table.getChild('paper')!.data[0], first.table.getChild('paper')!.data[0])
  assert.notEqual(changed.table.getChild('n')!.data[0], first.table.getChild('n')!.data[0])
  assert.deepEqual(values(changed, 'n'), [10, 11, 12])
})

test('duplicate keys are refused even when the origin has the very same keys (an origin this index builder did not make)', async () => {
  const dup = columnsToTable([
    { name: 'paper', dtype: parseTableDType('str:utf8'), vector: utf8Vector(['a', 'a']) },
    { name: 'n', dtype: parseTableDType('i32'), vector: makeVector(Int32Array.of(0, 0)) },
  ], 2)
  await rejects(computeInstance(request(newProbe(['a', 'a']), [idx()], { origin: { instanceId: 'base_1_w', table: dup, fingerprints: {} } })), InvalidArgumentError, '"t_index"', 'primary key')
  // Out of order (not strictly increasing) duplicates are found too.
  await rejects(computeInstance(request(newProbe(['b', 'a', 'b']), [idx()])), InvalidArgumentError, '"t_index"', 'primary key')
})

test('progressIntervalMs: synchronous row-wise calls report at that pace and at the last row; promised calls one step each', async () => {
  const probe = newProbe(Array.from({ length: 2000 }, (_, i) => `p${i}`))
  const seen: number[] = []
  await computeInstance(request(probe, [idx(), stampB()], { progressIntervalMs: 60_000, onProgress: (p) => p.builder === 'stamp' && seen.push(p.done) }))
  assert.equal(probe.calls['stamp'], 2000)
  assert.deepEqual(seen, [0, 2000])
  const slowProbe = newProbe(Array.from({ length: 6 }, (_, i) => `p${i}`))
  const steps: number[] = []
  await computeInstance(request(slowProbe, [idx(), col('slow', { changedColumns: ['len', 'upper'], function: { module: P, export: 'slow' }, arguments: { paper: '<<self.paper[index]>>' } })], {
    progressIntervalMs: 60_000, onProgress: (p) => p.builder === 'slow' && steps.push(p.done),
  }))
  assert.deepEqual(steps, [0, 1, 2, 3, 4, 5, 6])
})

test('reuse: a changed builder recomputes itself and what reads it, nothing else', async () => {
  const probe = newProbe()
  const reader = col('reader', { changedColumns: ['r'], function: { module: P, export: 'stamp' }, arguments: { paper: '<<self.s[index]>>', prefix: 'r' } })
  const other = col('other', { changedColumns: ['o'], function: { module: P, export: 'stamp' }, arguments: { paper: '<<self.paper[index]>>', prefix: 'o' } })
  const first = await computeInstance(request(probe, [idx(), stampB('x'), reader, other]))
  const changed = await computeInstance(request(probe, [idx(), stampB('y'), reader, other], { origin: origin(first) }))
  assert.deepEqual(changed.builders.map((b) => [b.builder, b.computed, b.reused]), [['t_index', 0, 3], ['stamp', 3, 0], ['reader', 3, 0], ['other', 0, 3]])
  assert.deepEqual(values(changed, 'o'), values(first, 'o'))
  assert.ok((values(changed, 's') as string[]).every((s) => s.startsWith('y:')))
  // The description alone changes nothing computed.
  const described = await computeInstance(request(probe, [idx(), stampB('y', { description: 'now with words' }), reader, other], { origin: origin(changed) }))
  assert.deepEqual(described.builders.map((b) => b.computed), [0, 0, 0, 0])
  // A changed code module recomputes every builder using it.
  const src2 = SOURCE + '\n// v2\n'
  const recoded = await computeInstance(request(probe, [idx(), stampB('y'), reader, other], { origin: origin(described), code: async () => src2 }))
  assert.deepEqual(recoded.builders.map((b) => b.computed), [3, 3, 3, 3])
})

test('reuse: a changed dependency instance recomputes the builders that read it', async () => {
  const probe = newProbe(['a', 'b'])
  const v1 = tableFromArrays({ name: ['a', 'b'], text: ['1', '2'] })
  const tables: Record<string, [string, Table][]> = { stories: [['base_1_u', v1]] }
  const reads = col('look', { changedColumns: ['out'], function: { module: P, export: 'lookup' }, arguments: { text: '<<stories.text[name::<<self.paper[index]>>]>>', found: 0, proc: 0 } })
  const declared = col('decl', { changedColumns: ['d'], function: { module: P, export: 'stamp' }, arguments: { paper: '<<self.paper[index]>>', prefix: 'd' }, dependencies: ['stories'] })
  const free = col('free', { changedColumns: ['f'], function: { module: P, export: 'stamp' }, arguments: { paper: '<<self.paper[index]>>', prefix: 'f' } })
  const first = await computeInstance(request(probe, [idx(), reads, declared, free], { source: memorySource(tables) }))
  tables['stories']!.push(['base_2_v', tableFromArrays({ name: ['a', 'b'], text: ['3', '4'] })])
  const second = await computeInstance(request(probe, [idx(), reads, declared, free], { source: memorySource(tables), origin: origin(first) }))
  assert.deepEqual(second.builders.map((b) => [b.builder, b.computed, b.reused]), [['t_index', 0, 2], ['look', 2, 0], ['decl', 2, 0], ['free', 0, 2]])
  assert.deepEqual(values(second, 'out'), ['0|0|["3"]', '0|0|["4"]'])
  assert.deepEqual(second.dependencies, [{ table: 'stories', instanceId: 'base_2_v' }])
})

test('keepOld: the origin rows missing from the new index stay, before the new ones', async () => {
  const probe = newProbe(['a', 'b'])
  const first = await computeInstance(request(probe, [idx({ keepOld: true }), stampB()]))
  probe.papers = ['c', 'b']
  const second = await computeInstance(request(probe, [idx({ keepOld: true }), stampB()], { origin: origin(first) }))
  assert.deepEqual(values(second, 'paper'), ['a', 'c', 'b'])
  assert.deepEqual(values(second, 'n'), [0, 0, 1])
  assert.deepEqual([values(second, 's')[0], values(second, 's')[2]], values(first, 's'))
  assert.equal(second.builders[1]!.computed, 1)
})

test('every table dtype survives the executor: Arrow form and what a later builder reads back', async () => {
  const dtypes = { b: 'bool', by: 'bytes', fb: 'bytes:2', v: 'vec:f32:2', mp: 'msgpack', js: 'json', big: 'i64?', art: 'artifact', lat: 'str:latin1', f32: 'f32' }
  const cols = Object.keys(dtypes)
  const r = await computeInstance(request(newProbe(), [idx(),
    col('typed', { changedColumns: cols, returnType: 'rows', function: { module: P, export: 'typed' }, dtypes }),
    // A later builder reads them back through self.
    col('echo', { changedColumns: ['echo'], function: { module: P, export: 'same' }, arguments: { value: '<<self.{mp,js,big,v}[index]>>' }, dtypes: { echo: 'msgpack' } }),
  ]))
  assert.deepEqual(Object.fromEntries(r.table.schema.fields.filter((f) => cols.includes(f.name)).map((f) => [f.name, f.metadata.get(DTYPE_METADATA)])), dtypes)
  assert.deepEqual(values(r, 'b'), [true, false, true])
  assert.deepEqual(values(r, 'by'), [new Uint8Array([0, 255]), new Uint8Array([1, 255]), new Uint8Array([2, 255])])
  assert.deepEqual(values(r, 'fb'), [new Uint8Array([0, 0]), new Uint8Array([1, 0]), new Uint8Array([2, 0])])
  assert.deepEqual(values(r, 'v'), [new Float32Array([0, -0]), new Float32Array([1, -1]), new Float32Array([2, -2])])
  assert.deepEqual(values(r, 'mp'), [0, 1, 2].map((i) => new Map([[i, { deep: [i] }]])))
  assert.deepEqual(values(r, 'js'), [0, 1, 2].map((i) => ({ i, s: 'é' + i })))
  assert.deepEqual(values(r, 'big'), [0n, null, 2n * 10n ** 15n])
  assert.deepEqual(values(r, 'art'), ['file-0.pdf', 'file-1.pdf', 'file-2.pdf'])
  assert.deepEqual(values(r, 'lat'), ['café0', 'café1', 'café2'])
  assert.deepEqual(values(r, 'f32'), [0.1, 1.1, 2.1].map(Math.fround))
  assert.deepEqual(values(r, 'echo')[2], { mp: new Map([[2, { deep: [2] }]]), js: { i: 2, s: 'é2' }, big: 2n * 10n ** 15n, v: new Float32Array([2, -2]) })
})

test('what builders return is checked: row counts, columns, dtypes, nulls, duplicate keys', async () => {
  const p = newProbe()
  await rejects(computeInstance(request(p, [idx(), col('w', { changedColumns: ['x'], returnType: 'rows', function: { module: P, export: 'wrong' } })])), InvalidArgumentError, '"w"', 'returned 1 rows; the index has 3')
  await rejects(computeInstance(request(p, [idx(), col('g', { changedColumns: ['x'], returnType: 'generator', function: { module: P, export: 'gen' }, arguments: { papers: ['only one'] } })])), InvalidArgumentError, '"g"', 'yielded 1 rows; the index has 3')
  await rejects(computeInstance(request(p, [idx(), col('g', { changedColumns: ['x'], returnType: 'generator', function: { module: P, export: 'gen' }, arguments: { papers: [1, 2, 3, 4].map(String) } })])), InvalidArgumentError, '"g"', 'more rows')
  await rejects(computeInstance(request(p, [idx(), col('v', { changedColumns: ['x'], function: { module: P, export: 'same' }, arguments: { value: 'text' }, dtypes: { x: 'f64' } })])), InvalidArgumentError, '"v"', 'row 0', '"x"', 'f64')
  await rejects(computeInstance(request(p, [idx(), col('v', { changedColumns: ['x'], function: { module: P, export: 'same' }, arguments: { value: null }, dtypes: { x: 'i32' } })])), InvalidArgumentError, '"v"', 'null', 'i32?')
  await rejects(computeInstance(request(p, [idx(), col('v', { changedColumns: ['x', 'y'], function: { module: P, export: 'same' }, arguments: { value: { x: 1 } } })])), InvalidArgumentError, '"v"', 'no column "y"')
  await rejects(computeInstance(request(p, [idx(), col('v', { changedColumns: ['x'], function: { module: P, export: 'nope' } })])), InvalidArgumentError, '"v"', '"nope"', 'stamp')
  await rejects(computeInstance(request(p, [idx(), col('v', { changedColumns: ['x'], function: { module: 'ghost', export: 'f' } })])), NotFoundError, 'ghost')
  await rejects(computeInstance(request(newProbe(['a', 'a']), [idx()])), InvalidArgumentError, '"t_index"', 'primary key')
  // A nullable dtype takes the null.
  const ok = await computeInstance(request(newProbe(), [idx(), col('v', { changedColumns: ['x'], function: { module: P, export: 'same' }, arguments: { value: null }, dtypes: { x: 'i32?' } })]))
  assert.deepEqual(values(ok, 'x'), [null, null, null])
})

test("a builder's own error propagates unchanged; onBuilderDone results resume the run at the next builder", async () => {
  const probe = newProbe()
  probe.failAt = 1
  const done: BuilderResult[] = []
  const builders = [idx(), stampB(), col('slow', { changedColumns: ['len', 'upper'], function: { module: P, export: 'slow' }, arguments: { paper: '<<self.paper[index]>>' } })]
  await assert.rejects(computeInstance(request(probe, builders, { onBuilderDone: (r) => void done.push(r) })), (err: Error) => !(err instanceof InvalidArgumentError) && err.message === 'boom at 1')
  assert.deepEqual(done.map((r) => r.builder), ['t_index', 'stamp'])
  delete probe.failAt
  const before = { ...probe.calls }
  const resumed = await computeInstance(request(probe, builders, { completed: done }))
  assert.equal(probe.calls['papers'], before['papers'])
  assert.equal(probe.calls['stamp'], before['stamp'])
  assert.deepEqual(values(resumed, 's'), values(done[1]!.columns, 's'))
  assert.deepEqual(values(resumed, 'upper'), ['A.PDF', 'B.PDF', 'C.PDF'])
  assert.deepEqual(resumed.builders.map((b) => b.builder), ['t_index', 'stamp', 'slow'])
})

test('code modules: load from source text; bare imports and syntax errors are named errors', async () => {
  const ns = (await loadCodeModule('m', 'export const answer = () => 42\nexport default function () { return "d" }')).namespace
  assert.equal((ns['answer'] as () => number)(), 42)
  assert.equal((ns['default'] as () => string)(), 'd')
  // The same text is one module (loaded once).
  assert.equal((await loadCodeModule('m2', 'export const answer = () => 42\nexport default function () { return "d" }')).namespace, ns)
  await rejects(loadCodeModule('needs-arrow', 'import { tableFromArrays } from "apache-arrow"\nexport const f = () => tableFromArrays'), InvalidArgumentError, '"needs-arrow"', 'cannot import packages')
  await rejects(loadCodeModule('relative', 'import x from "./x.js"\nexport const f = () => x'), InvalidArgumentError, '"relative"')
  await rejects(loadCodeModule('broken', 'export function (('), InvalidArgumentError, '"broken"')
})

const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 60)

test(`reuse, for any old and new index: kept keys keep their values, only new keys are computed (seed ${SEED})`, async () => {
  const keys = fc.uniqueArray(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('', ' ', '\0', '__proto__', '😀', '1', 'n1')), { maxLength: 12 })
  const out = await fc.check(fc.asyncProperty(keys, keys, fc.boolean(), fc.integer({ min: 1, max: 4 }), async (before, after, keepOld, concurrency) => {
    const probe = newProbe(before)
    const specs = () => [idx({ keepOld }), stampB('x', { concurrency })]
    const first = await computeInstance(request(probe, specs()))
    const old = new Map((values(first, 'paper') as string[]).map((p, i) => [p, values(first, 's')[i]]))
    probe.papers = after
    const calls = probe.calls['stamp'] ?? 0
    const second = await computeInstance(request(probe, specs(), { origin: origin(first) }))
    const papers = values(second, 'paper') as string[]
    const expected = keepOld ? [...before.filter((p) => !after.includes(p)), ...after] : after
    assert.deepEqual(papers, expected)
    const fresh = papers.filter((p) => !old.has(p)).length
    assert.equal((probe.calls['stamp'] ?? 0) - calls, fresh)
    assert.equal(second.builders[1]!.computed, fresh)
    papers.forEach((p, i) => {
      if (old.has(p)) assert.equal(values(second, 's')[i], old.get(p))
    })
  }), { seed: SEED, numRuns: RUNS })
  if (out.failed) throw new Error(`${fc.defaultReportMessage(out)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/tables-compute.test.ts`)
})

test(`reference conditions select exactly the rows a plain filter selects (seed ${SEED})`, async () => {
  const { compileArguments, tableData } = await import('../../src/domains/tables/engine/compute/arguments.js')
  const { escapeReferenceText } = await import('../../src/domains/tables/shared/table-references.js')
  const cell = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(0.5, -0, 1e21))
  const word = fc.constantFrom('a', 'b', 'ab', '', 'é', '3', ' x', 'a,b', 'a:b', '[', '<<')
  const rowsArb = fc.array(fc.record({ n: cell, s: word, big: fc.bigInt({ min: -3n, max: 3n }) }), { maxLength: 10 })
  const cond = fc.oneof(
    fc.record({ kind: fc.constant('eq' as const), column: fc.constantFrom('n', 's', 'big'), value: fc.oneof(cell.map(String), word) }),
    fc.record({ kind: fc.constant('range' as const), column: fc.constantFrom('n', 'big'), lo: fc.integer({ min: -4, max: 4 }), hi: fc.integer({ min: -4, max: 4 }) }),
  )
  const out = await fc.check(fc.property(rowsArb, fc.array(cond, { minLength: 1, maxLength: 2 }), (rows, conds) => {
    const cols: Record<string, unknown[]> = { n: rows.map((r) => r.n), s: rows.map((r) => r.s), big: rows.map((r) => r.big) }
    const data = tableData('t', rows.length, ['n', 's', 'big'], (c) => cols[c]!)
    const text = `<<t.s[${conds.map((c) => (c.kind === 'eq' ? `${c.column}::${c.value === '' ? '' : escapeReferenceText(c.value)}` : `${c.column}::${c.lo}:${c.hi}`)).join(',')}]>>`
    if (conds.some((c) => c.kind === 'eq' && c.value === '')) return // an empty literal is not expressible
    const env = { builder: 'b', self: data, table: () => data, artifactFolder: undefined, processId: undefined }
    const got = compileArguments({ v: text }, env).at(undefined)['v']
    const literal = (sample: unknown, t: string): unknown => (typeof sample === 'number' ? Number(t) : typeof sample === 'bigint' ? (/^-?\d+$/.test(t) ? BigInt(t) : undefined) : t)
    const keep = rows.filter((r) => conds.every((c) => {
      const x = r[c.column as keyof typeof r]
      if (c.kind === 'eq') {
        const v = literal(x, c.value)
        return v !== undefined && (typeof x === 'bigint' ? x === v : typeof x === 'number' ? x === v || (Number.isNaN(x) && Number.isNaN(v as number)) : x === v)
      }
      return typeof x === 'bigint' ? x >= BigInt(c.lo) && x < BigInt(c.hi) : (x as number) >= c.lo && (x as number) < c.hi
    }))
    assert.deepEqual(got, keep.map((r) => r.s), text)
  }), { seed: SEED, numRuns: RUNS * 10 })
  if (out.failed) throw new Error(`${fc.defaultReportMessage(out)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/tables-compute.test.ts`)
})
