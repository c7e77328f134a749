import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { stringify as toYaml } from 'yaml'
import { InvalidArgumentError, NotFoundError } from '../../src/errors/errors.js'
import { isWellFormed } from '../../src/codec/checks.js'
import { canonicalBuilderJson, parseBuilder } from '../../src/domains/tables/shared/builder-spec.js'
import { planBuilders } from '../../src/domains/tables/shared/builder-plan.js'
import {
  allReferences, findReferences, parseReference, printReference, usesIndex, type ReferenceCondition, type ReferenceValue, type TableReference,
} from '../../src/domains/tables/shared/table-references.js'
import { parseTableDType, storedValue } from '../../src/domains/tables/shared/table-dtypes.js'
import type { BuilderSpec } from '../../src/domains/tables/shared/builder-types.js'

/**
 * The builder language of versioned tables (issue 10): builder specs from objects, JSON and YAML
 * (with TableVault's spellings), table references, ordering by references, and the errors, each
 * naming what is wrong.
 */

const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 2000)

const fn = { module: 'papers', export: 'run' }

function throwsWith(f: () => unknown, Class: typeof InvalidArgumentError | typeof NotFoundError, ...parts: string[]): void {
  assert.throws(f, (err: Error) => {
    assert.ok(err instanceof Class, `expected ${Class.name}, got ${err.name}: ${err.message}`)
    for (const p of parts) assert.ok(err.message.includes(p), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(p)}`)
    return true
  })
}

test('references: every part parses', () => {
  const r = parseReference('<<stories(base_17_ab).{paper_name, text}[paper_name::<<self.paper_name[index]>>, year::2000:2010, 3]>>')
  assert.deepEqual(r, {
    table: 'stories', self: false, instance: 'base_17_ab', columns: ['paper_name', 'text'],
    conditions: [
      { kind: 'equals', column: 'paper_name', value: { kind: 'reference', ref: { table: 'self', self: true, column: 'paper_name', conditions: [{ kind: 'position', at: { kind: 'index' } }] } } },
      { kind: 'range', column: 'year', start: { kind: 'literal', text: '2000' }, end: { kind: 'literal', text: '2010' } },
      { kind: 'position', at: { kind: 'literal', text: '3' } },
    ],
  })
  assert.deepEqual(parseReference('<<llm_storage>>'), { table: 'llm_storage', self: false, conditions: [] })
  assert.deepEqual(parseReference('<< t . c >>'), { table: 't', self: false, column: 'c', conditions: [] })
  // Escaped keywords are plain words; escaped specials are part of names.
  assert.deepEqual(parseReference('<<\\self.\\index[\\index]>>'), {
    table: 'self', self: false, column: 'index', conditions: [{ kind: 'position', at: { kind: 'literal', text: 'index' } }],
  })
  assert.equal(parseReference('<<a\\.b\\ c.d\\:e>>').table, 'a.b c')
})

test('references: malformed text is refused, saying where', () => {
  for (const bad of ['<<>>', '<<t', '<<t.>>', '<<t.{a,}>>', '<<t[a::]>>', '<<t[]>>', '<<t(>>', 't>>', '<<t>> x', '<<t\\', '<<t[a::1:]>>', '<<t.{a}.b>>']) {
    throwsWith(() => parseReference(bad), InvalidArgumentError, 'table reference', 'at character')
  }
})

test('references: found inside argument strings, nested ones inside theirs', () => {
  const found = findReferences('summarise <<papers.text[id::<<self.id[index]>>]>> then <<other>>!')
  assert.equal(found.length, 2)
  assert.equal(found[0]!.ref.table, 'papers')
  assert.equal(found[1]!.ref.table, 'other')
  assert.equal('summarise <<papers.text[id::<<self.id[index]>>]>> then <<other>>!'.slice(found[1]!.start, found[1]!.end), '<<other>>')
  assert.deepEqual(findReferences('no reference here'), [])
  // An escaped `<<` is text; an unescaped one must start a reference.
  assert.deepEqual(findReferences('a \\<< b'), [])
  assert.equal(findReferences('\\<<x <<y>>').length, 1)
  assert.throws(() => findReferences('a << b'), InvalidArgumentError)
})

// -----------------------------------------------------------------------------------------------
// Property: any valid reference prints and reparses to the same value, names from hostile corners.

const hostileChar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('a', 'Z', '_', '0', 'é', '😀', '\0', '\u{10FFFF}') },
  { weight: 4, arbitrary: fc.constantFrom('<', '>', '<<', '(', ')', '{', '}', '[', ']', '.', ',', ':', '::', '\\', '~', ' ', '\t', '\n', '\u00a0', '\u2028') },
  { weight: 1, arbitrary: fc.constantFrom('\uD800', '\uDFFF') },
)
const nameArb = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: hostileChar, minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('self', 'index', '__proto__', ' ', '\\', '>>', 'self.x') },
)
const refArb: fc.Arbitrary<TableReference> = fc.letrec<{ ref: TableReference; value: ReferenceValue; cond: ReferenceCondition }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    { weight: 5, arbitrary: nameArb.map((text): ReferenceValue => ({ kind: 'literal', text })) },
    { weight: 2, arbitrary: fc.constant<ReferenceValue>({ kind: 'index' }) },
    { weight: 1, arbitrary: tie('ref').map((ref): ReferenceValue => ({ kind: 'reference', ref: ref as TableReference })) },
  ),
  cond: fc.oneof(
    tie('value').map((at): ReferenceCondition => ({ kind: 'position', at: at as ReferenceValue })),
    fc.tuple(nameArb, tie('value')).map(([column, value]): ReferenceCondition => ({ kind: 'equals', column, value: value as ReferenceValue })),
    fc.tuple(nameArb, tie('value'), tie('value')).map(([column, start, end]): ReferenceCondition => ({ kind: 'range', column, start: start as ReferenceValue, end: end as ReferenceValue })),
  ),
  ref: fc.record({
    self: fc.boolean(),
    table: nameArb,
    instance: fc.option(nameArb, { nil: undefined }),
    sel: fc.oneof(fc.constant(undefined), nameArb, fc.array(nameArb, { minLength: 1, maxLength: 3 })),
    conditions: fc.array(tie('cond') as fc.Arbitrary<ReferenceCondition>, { maxLength: 3, depthIdentifier: 'ref' }),
  }).map(({ self, table, instance, sel, conditions }) => {
    const r: Record<string, unknown> = { table: self ? 'self' : table, self, conditions }
    if (instance !== undefined) r['instance'] = instance
    if (typeof sel === 'string') r['column'] = sel
    else if (sel !== undefined) r['columns'] = sel
    return r as unknown as TableReference
  }),
})).ref

test(`references: print → parse is the identity for generated references (seed ${SEED}, ${RUNS} runs)`, () => {
  const out = fc.check(fc.property(refArb, (ref) => {
    const text = printReference(ref)
    assert.deepEqual(parseReference(text), ref)
    // The printed text is also found, whole, inside a longer argument string.
    const found = findReferences(`x ${text} y`)
    assert.equal(found.length, 1)
    assert.deepEqual(found[0]!.ref, ref)
  }), { seed: SEED, numRuns: RUNS })
  if (out.failed) throw new Error(`${fc.defaultReportMessage(out)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/tables-language.test.ts`)
})

// -----------------------------------------------------------------------------------------------
// Builder specs

const place = { table: 'llm_questions', name: 'question_1' }

test('builders: an object, JSON text and YAML text give the same spec, defaults filled in', () => {
  const obj = { changedColumns: ['q1'], function: fn, arguments: { paper: '<<self.paper_name[index]>>', n: 3 }, dtypes: { q1: 'str:utf8' } }
  const a = parseBuilder(obj, place)
  const b = parseBuilder(JSON.stringify(obj), place)
  const c = parseBuilder(`
changedColumns: [q1]
function: { module: papers, export: run }
arguments:
  paper: <<self.paper_name[index]>>
  n: 3
dtypes: { q1: str:utf8 }
`, place)
  assert.deepEqual(a, b)
  assert.deepEqual(a, c)
  assert.deepEqual(a, {
    kind: 'column', name: 'question_1', changedColumns: ['q1'], function: fn, arguments: { paper: '<<self.paper_name[index]>>', n: 3 },
    dtypes: { q1: 'str:utf8' }, dependencies: [], concurrency: 1, description: '', returnType: 'row-wise',
  })
})

test("builders: TableVault's YAML spellings are accepted", () => {
  const s = parseBuilder(`
builder_type: IndexBuilder
changed_columns: [paper_name, file]
primary_key: [paper_name]
keep_old: true
python_function: create_paper_table_from_folder
code_module: papers
return_type: dataframe
n_threads: 2
arguments: { folder: ~ARTIFACT_FOLDER~ }
dependencies: ['<<llm_storage>>', 'other(base_1_x)']
`, { table: 'stories', name: 'stories_index' })
  assert.equal(s.kind, 'index')
  assert.deepEqual(s.changedColumns, ['paper_name', 'file'])
  assert.equal(s.kind === 'index' && s.keepOld, true)
  assert.deepEqual(s.kind === 'index' && s.primaryKey, ['paper_name'])
  assert.deepEqual(s.function, { module: 'papers', export: 'create_paper_table_from_folder' })
  assert.equal(s.returnType, 'rows')
  assert.equal(s.concurrency, 2)
  assert.deepEqual(s.dependencies, [{ table: 'llm_storage' }, { table: 'other', instance: 'base_1_x' }])
  // A TableVault builder file as it is: pandas dtypes, is_custom, quoted keywords.
  const tv = parseBuilder(`
builder_type: IndexBuilder
changed_columns: ['paper_name', 'artifact_name', 'original_path', 'pages', 'score']
primary_key: ['paper_name']
python_function: create_paper_table_from_folder
code_module: table_generation
arguments:
  folder_dir: '../test_data/test_sample'
  artifact_folder: '~ARTIFACT_FOLDER~'
  extension: '.pdf'
n_threads: 1
is_custom: false
return_type: dataframe
dtypes:
  paper_name: string
  artifact_name: artifact_string
  original_path: string
  pages: Int64
  score: float64
`, { table: 'stories', name: 'stories_index' })
  assert.deepEqual(tv.dtypes, { paper_name: 'str:utf8?', artifact_name: 'artifact?', original_path: 'str:utf8?', pages: 'i64?', score: 'f64' })
  throwsWith(() => parseBuilder({ changedColumns: ['x'], function: fn, is_custom: true }, place), InvalidArgumentError, 'is_custom')
})

test('builders: each bad field is refused with InvalidArgumentError naming the builder and the field', () => {
  const ok = { changedColumns: ['q1'], function: fn }
  const cases: [unknown, string][] = [
    [{ ...ok, colour: 'red' }, '"colour": unknown field'],
    [{ ...ok, changedColumns: [] }, 'changedColumns'],
    [{ ...ok, changedColumns: ['a', 'a'] }, 'changedColumns[1]'],
    [{ ...ok, changedColumns: ['\uD800'] }, 'changedColumns[0]'],
    [{ changedColumns: ['q1'] }, 'function'],
    [{ ...ok, function: { module: 'm' } }, 'function.export'],
    [{ ...ok, function: { module: 'm', export: 'e', extra: 1 } }, 'function.extra'],
    [{ ...ok, returnType: 'dataframes' }, 'returnType'],
    [{ ...ok, concurrency: 0 }, 'concurrency'],
    [{ ...ok, concurrency: 1.5 }, 'concurrency'],
    [{ ...ok, dtypes: { q2: 'f64' } }, 'dtypes.q2'],
    [{ ...ok, dtypes: { q1: 'f65' } }, 'dtypes.q1'],
    [{ ...ok, arguments: { x: '<<t[a::]>>' } }, 'arguments'],
    [{ ...ok, arguments: { x: () => 1 } }, 'arguments.x'],
    [{ ...ok, arguments: { x: NaN } }, 'arguments.x'],
    [{ ...ok, arguments: { x: new Date() } }, 'arguments.x'],
    [{ ...ok, arguments: { x: '<<self.a(i)>>' } }, 'arguments'],
    [{ ...ok, returnType: 'rows', arguments: { x: '<<self.a[index]>>' } }, '"index"'],
    [{ ...ok, dependencies: ['<<self>>'] }, 'dependencies[0]'],
    [{ ...ok, dependencies: 'x' }, 'dependencies'],
    [{ ...ok, primaryKey: ['q1'] }, 'primaryKey'],
    [{ ...ok, keepOld: true }, 'keepOld'],
    [{ ...ok, kind: 'index' }, 'must be named'],
    [{ ...ok, kind: 'table' }, 'kind'],
    [{ ...ok, changed_columns: ['q1'] }, 'given twice'],
    ['{ "changedColumns": [', 'not valid JSON'],
    ['changedColumns: [q1\nfunction: {', 'not valid YAML'],
    ['just text', 'must be an object'],
    [[ok], 'must be an object'],
  ]
  for (const [spec, part] of cases) throwsWith(() => parseBuilder(spec, place), InvalidArgumentError, '"question_1"', part)
  const idx = { table: 'stories', name: 'stories_index' }
  throwsWith(() => parseBuilder({ ...ok, returnType: 'row-wise' }, idx), InvalidArgumentError, 'returnType')
  throwsWith(() => parseBuilder({ ...ok, primaryKey: ['zz'] }, idx), InvalidArgumentError, 'primaryKey')
  throwsWith(() => parseBuilder({ ...ok, arguments: { a: '<<self.q1>>' } }, idx), InvalidArgumentError, 'cannot read self')
  throwsWith(() => parseBuilder({ ...ok, kind: 'column' }, idx), InvalidArgumentError, 'kind')
})

test('builders: hostile but valid keys and names survive', () => {
  const own = (json: string): never => JSON.parse(json) as never // an own "__proto__" key, as JSON and YAML give it
  const s = parseBuilder({ changedColumns: ['__proto__', 'constructor'], function: { module: 'm😀', export: 'default' }, arguments: own('{"__proto__":{"a":1}}'), dtypes: own('{"__proto__":"json"}') }, { table: 't', name: 'b\0' })
  assert.deepEqual(s.changedColumns, ['__proto__', 'constructor'])
  assert.equal(Object.getPrototypeOf(s.arguments), Object.prototype)
  assert.deepEqual(Object.keys(s.arguments), ['__proto__'])
  assert.equal(s.dtypes['__proto__'], 'json')
  // An object whose prototype is not Object's is not JSON data.
  throwsWith(() => parseBuilder({ changedColumns: ['x'], function: fn, arguments: { __proto__: { a: 1 } } as never }, place), InvalidArgumentError, 'arguments')
  // The canonical JSON (what fingerprints hash) ignores key order and the description.
  const again = parseBuilder({ description: 'other', dtypes: own('{"__proto__":"json"}'), arguments: own('{"__proto__":{"a":1}}'), function: { export: 'default', module: 'm😀' }, changedColumns: ['__proto__', 'constructor'] }, { table: 't', name: 'b\0' })
  assert.equal(canonicalBuilderJson(s), canonicalBuilderJson(again))
})

// -----------------------------------------------------------------------------------------------
// Ordering

function col(name: string, changed: string[], args: Record<string, string> = {}): BuilderSpec {
  return parseBuilder({ changedColumns: changed, function: fn, arguments: args }, { table: 't', name })
}
const index = parseBuilder({ changedColumns: ['id'], function: fn }, { table: 't', name: 't_index' })

test('ordering: the index first, then each builder after those it reads through self', () => {
  const c = col('c', ['z'], { a: '<<self.y[index]>>', b: '<<self.x[index]>>' })
  const b = col('b', ['y'], { a: '<<self.x[index]>>' })
  const a = col('a', ['x'], { a: '<<self.id[index]>>' })
  const d = col('d', ['w'])
  const plan = planBuilders('t', [c, d, index, b, a])
  assert.equal(plan.index.name, 't_index')
  assert.deepEqual(plan.columns.map((s) => s.name), ['a', 'b', 'c', 'd'])
  // A reference nested in a condition orders too.
  const e = col('e', ['v'], { a: '<<other.text[key::<<self.w[index]>>]>>' })
  assert.deepEqual(planBuilders('t', [e, index, d]).columns.map((s) => s.name), ['d', 'e'])
  // `<<self>>` reads every column but the builder's own: it follows every other builder.
  const all = col('all', ['u'], { rows: '<<self>>' })
  assert.deepEqual(planBuilders('t', [all, d, index, a]).columns.map((s) => s.name), ['d', 'a', 'all'])
  throwsWith(() => planBuilders('t', [index, all, col('all2', ['u2'], { rows: '<<self>>' })]), InvalidArgumentError, 'cycle')
})

test('ordering: a cycle is an error naming it', () => {
  const a = col('a', ['x'], { v: '<<self.z[index]>>' })
  const b = col('b', ['y'], { v: '<<self.x[index]>>' })
  const c = col('c', ['z'], { v: '<<self.y[index]>>' })
  throwsWith(() => planBuilders('t', [index, a, b, c]), InvalidArgumentError, 'cycle', 'a → c → b → a')
  throwsWith(() => planBuilders('t', [index, col('s', ['x'], { v: '<<self.x[index]>>' })]), InvalidArgumentError, 'cycle', 's → s')
})

test('ordering: unknown self columns, tables and columns are errors naming them', () => {
  throwsWith(() => planBuilders('t', [index, col('a', ['x'], { v: '<<self.nope[index]>>' })]), NotFoundError, '"a"', '"nope"')
  const catalog = { columns: (t: string) => (t === 'papers' ? ['text', 'key'] : undefined) }
  throwsWith(() => planBuilders('t', [index, col('a', ['x'], { v: '<<ghosts.text>>' })], catalog), NotFoundError, '"a"', '"ghosts"')
  throwsWith(() => planBuilders('t', [index, col('a', ['x'], { v: '<<papers.title>>' })], catalog), NotFoundError, '"a"', '"title"', '"papers"')
  throwsWith(() => planBuilders('t', [index, col('a', ['x'], { v: '<<papers.text[year::1]>>' })], catalog), NotFoundError, '"year"')
  const depOnGhost = parseBuilder({ changedColumns: ['x'], function: fn, dependencies: ['ghosts'] }, { table: 't', name: 'a' })
  throwsWith(() => planBuilders('t', [index, depOnGhost], catalog), NotFoundError, '"ghosts"')
  assert.equal(planBuilders('t', [index, col('a', ['x'], { v: '<<papers.{text,key}[key::1]>>' })], catalog).columns.length, 1)
})

test('ordering: one index builder, unique builder names and columns', () => {
  throwsWith(() => planBuilders('t', [col('a', ['x'])]), InvalidArgumentError, 'no index builder', '"t_index"')
  throwsWith(() => planBuilders('t', [index, col('a', ['x']), col('a', ['y'])]), InvalidArgumentError, 'two builders are named "a"')
  throwsWith(() => planBuilders('t', [index, col('a', ['x']), col('b', ['x'])]), InvalidArgumentError, '"x"', '"a"', '"b"')
  throwsWith(() => planBuilders('t', [index, col('a', ['id'])]), InvalidArgumentError, '"id"', '"t_index"')
  const other = parseBuilder({ changedColumns: ['id'], function: fn }, { table: 'u', name: 'u_index' })
  throwsWith(() => planBuilders('t', [other]), InvalidArgumentError, 'must be named "t_index"')
})

test('table dtypes: column dtypes, artifact, and nullable variants', () => {
  assert.equal(parseTableDType('f64?').nullable, true)
  assert.equal(parseTableDType('str:4').name, 'str:4:utf8')
  assert.equal(parseTableDType('artifact').kind, 'artifact')
  throwsWith(() => parseTableDType('f64??', 'dtypes.x'), InvalidArgumentError, 'dtypes.x')
  throwsWith(() => parseTableDType(3, 'dtypes.x'), InvalidArgumentError, 'dtypes.x')
  assert.equal(storedValue(parseTableDType('i64'), 5, 'v'), 5n)
  assert.equal(storedValue(parseTableDType('str:4:utf8'), 'abcdef', 'v'), 'abcd')
  assert.equal(storedValue(parseTableDType('json'), { a: [1] }, 'v'), '{"a":[1]}')
  assert.equal(storedValue(parseTableDType('f64?'), null, 'v'), null)
  throwsWith(() => storedValue(parseTableDType('f64'), null, 'rows[2].x'), InvalidArgumentError, 'rows[2].x', 'f64?')
  throwsWith(() => storedValue(parseTableDType('i32'), 2 ** 40, 'rows[0].x'), InvalidArgumentError, 'rows[0].x')
  throwsWith(() => storedValue(parseTableDType('artifact'), '', 'rows[0].f'), InvalidArgumentError, 'rows[0].f')
})

// -----------------------------------------------------------------------------------------------
// Property: a valid spec given as an object, as JSON text and as YAML text is the same builder.

const wellFormed = (t: string): boolean => isWellFormed(t)
const colName = fc.string({ unit: hostileChar, minLength: 1, maxLength: 6 }).filter(wellFormed)
/** Argument text is valid when each unescaped `<<` starts a reference. */
const validText = (t: string): boolean => {
  try {
    findReferences(t)
    return true
  } catch {
    return false
  }
}
const argLeaf = fc.oneof(
  fc.string({ unit: hostileChar, maxLength: 8 }).filter((t) => wellFormed(t) && validText(t)),
  refArb.filter((r) => !usesIndex(r) && !allReferences(r).some((x) => x.self && x.instance !== undefined) && isWellFormed(printReference(r))).map((r) => `see ${printReference(r)} here`),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
  fc.boolean(),
  fc.constant(null),
)
const argValue = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, argLeaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(colName, tie('v'), { maxKeys: 3 })),
})).v
const specArb = fc.record({
  changedColumns: fc.uniqueArray(colName, { minLength: 1, maxLength: 4 }),
  arguments: fc.dictionary(colName, argValue, { maxKeys: 4 }),
  returnType: fc.constantFrom('rows', 'generator', 'row-wise'),
  concurrency: fc.integer({ min: 1, max: 1024 }),
  description: fc.string({ maxLength: 10 }).filter(wellFormed),
  dependencies: fc.array(fc.tuple(colName, fc.option(colName, { nil: undefined })).map(([table, instance]) => (instance === undefined ? { table } : { table, instance })), { maxLength: 2 }),
}).map((s) => ({ ...s, function: { module: 'm', export: 'f' }, dtypes: { [s.changedColumns[0]!]: 'f64?' } }))

test(`builders: object, JSON and YAML text give one spec for generated specs (seed ${SEED})`, () => {
  const out = fc.check(fc.property(specArb, (spec) => {
    const where = { table: 't', name: 'b' }
    const a = parseBuilder(spec, where)
    assert.deepEqual(parseBuilder(JSON.stringify(spec), where), a)
    // blockQuote: false — yaml 2's block-literal output of " \n" reads back as "\n" (its stringify
    // drops the leading space); quoted scalars round-trip every string.
    assert.deepEqual(parseBuilder(toYaml(spec, { blockQuote: false }), where), a)
  }), { seed: SEED, numRuns: Math.ceil(RUNS / 4) })
  if (out.failed) throw new Error(`${fc.defaultReportMessage(out)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/tables-language.test.ts`)
})
