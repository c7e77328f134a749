// Property: what a builder's function returns is what `execute` materialises, typed by the builder's
// dtypes, whichever way it is returned (row-wise calls at any concurrency, sync or async; `rows` as
// row objects or as an object of columns; a generator), and the same table `write` makes of the
// same columns with those dtypes (a column left out of `dtypes` with the dtype the builder docs
// promise: its first non-null value's, nullable). Or both refuse it: execute with
// InvalidArgumentError, changing nothing. Re-executing a copy (every row reused) and with `force`
// (every row computed again) gives the same table. Values come from hostile corners (U+FEFF, lone
// surrogates, `__proto__` keys and column names, NaN and -0, integer and bigint limits, huge and
// empty strings and bytes, deep JSON, wrong types, nulls where none are allowed).
//
// Budget: LABVAULT_PROP_RUNS runs (default 30). A failure prints its seed; LABVAULT_PROP_SEED=<seed>
// replays it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { Table } from 'apache-arrow'
import { InvalidArgumentError, openVault, type Vault } from '../../src/node.js'
import { dumpTables } from './tables-support.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 30)
const SEED = Number(process.env.LABVAULT_PROP_SEED ?? 0xb111d)

const BOM = '\uFEFF'
const text = fc.oneof(
  { weight: 12, arbitrary: fc.string({ unit: fc.constantFrom('b', 'ü', '\0', '🙂', BOM, '\u{10FFFF}', '\n'), maxLength: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom('', BOM, `${BOM}${BOM}y`, '__proto__', 'constructor', 'z'.repeat(66_000)) },
  // A table column cannot hold these exactly (Arrow Utf8): refused in a str column.
  { weight: 1, arbitrary: fc.constantFrom('\uDBFF', 'y\uDC01z') },
)
const json = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(JSON.parse('{"__proto__":{"p":1},"toString":2}'), NaN, -0, -Infinity, [[[[[[BOM]]]]]], { k: '\uD800' }) },
)
const DTYPES: Record<string, fc.Arbitrary<unknown>> = {
  f64: fc.oneof(fc.double(), fc.constantFrom(NaN, -0, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE)),
  f32: fc.oneof(fc.float(), fc.constantFrom(NaN, -0, 1e39, -1e-46)),
  i32: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }, { weight: 1, arbitrary: fc.constantFrom(-0, -(2 ** 31), 2 ** 31, 0.5) }),
  i64: fc.oneof({ weight: 8, arbitrary: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }) }, { weight: 1, arbitrary: fc.constantFrom(-(1n << 63n), (1n << 63n) - 1n, 1n << 63n, Number.MAX_SAFE_INTEGER, 2 ** 53) }),
  bool: fc.boolean(),
  'str:utf8': text,
  bytes: fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.constantFrom(new Uint8Array(0), new Uint8Array([0xef, 0xbb, 0xbf]))),
  json,
  msgpack: fc.oneof(json, fc.constantFrom(new Map<unknown, unknown>([['__proto__', 1n]]), new Set([BOM]), new Date(-1), -(1n << 64n), new Uint8Array([0]))),
}
/** Left out of `dtypes` (inferred): only values of one type, so the first one's type fits all. */
const INFERRED: fc.Arbitrary<unknown>[] = [DTYPES.f64!, fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), DTYPES.bool!, text, DTYPES.bytes!]
const inferredDType = (values: readonly unknown[]): string => {
  const v = values.find((x) => x !== null)
  return typeof v === 'number' ? 'f64?' : typeof v === 'bigint' ? 'i64?' : typeof v === 'boolean' ? 'bool?' : typeof v === 'string' ? 'str:utf8?' : v instanceof Uint8Array ? 'bytes?' : 'msgpack?'
}

const NAMES = ['v', '__proto__', `${BOM}w`, 'constructor', 'é', 'hasOwnProperty']
const RETURNS = ['row-wise', 'row-wise-async', 'rows-objects', 'rows-columns', 'generator', 'generator-async'] as const

const columnArb = fc.record({
  name: fc.constantFrom(...NAMES),
  dtype: fc.option(fc.constantFrom(...Object.keys(DTYPES)), { nil: undefined, freq: 5 }),
  nullable: fc.boolean(),
  inferred: fc.nat(INFERRED.length - 1),
})
const caseArb = fc
  .record({
    rows: fc.integer({ min: 1, max: 7 }),
    columns: fc.uniqueArray(columnArb, { minLength: 1, maxLength: 3, selector: (c) => c.name }),
    returns: fc.constantFrom(...RETURNS),
    concurrency: fc.constantFrom(1, 2, 1024),
    // Now and then a value no dtype of the column takes (a wrong type) or a null where none is allowed.
    stray: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.record({ row: fc.nat(), column: fc.nat(), value: fc.constantFrom<unknown>(null, 'x', 1.5, {}, Symbol.iterator) }) },
    ),
  })
  .chain((c) =>
    fc.record({
      plan: fc.constant(c),
      values: fc.tuple(...c.columns.map((col) => {
        const arb = col.dtype === undefined ? INFERRED[col.inferred]! : DTYPES[col.dtype]!
        return fc.array(col.nullable ? fc.option(arb, { freq: 4, nil: null }) : arb, { minLength: c.rows, maxLength: c.rows })
      })),
    }),
  )

// The builders read what to return from here (the vault runs in this process): their arguments
// are JSON-like and could not carry NaN, bigints or Maps.
const shared = globalThis as { __builderOut?: unknown[][]; __builderNames?: string[] }
const MODULE = `
const out = () => globalThis.__builderOut
const row = (i) => out().length === 1 ? out()[0][i] : out().map((c) => c[i])
const own = (entries) => { const o = {}; for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true }); return o }
export const ids = (a) => ({ id: Int32Array.from({ length: a.rows }, (_, i) => i) })
export const rowWise = (a, ctx) => row(ctx.index)
export const rowWiseAsync = async (a, ctx) => { await null; return row(ctx.index) }
export const rowsObjects = (a) => Array.from({ length: a.rows }, (_, i) => own(globalThis.__builderNames.map((n, k) => [n, out()[k][i]])))
export const rowsColumns = (a) => own(globalThis.__builderNames.map((n, k) => [n, out()[k]]))
export function* generator(a) { for (let i = 0; i < a.rows; i++) yield row(i) }
export async function* generatorAsync(a) { for (let i = 0; i < a.rows; i++) { await null; yield row(i) } }
`
const EXPORT: Record<(typeof RETURNS)[number], [string, string]> = {
  'row-wise': ['row-wise', 'rowWise'], 'row-wise-async': ['row-wise', 'rowWiseAsync'], 'rows-objects': ['rows', 'rowsObjects'],
  'rows-columns': ['rows', 'rowsColumns'], generator: ['generator', 'generator'], 'generator-async': ['generator', 'generatorAsync'],
}

/** A column's values as comparable data: typed arrays as arrays (NaN and -0 kept). */
const columnData = (table: Table, name: string): unknown[] =>
  Array.from({ length: table.numRows }, (_, r) => {
    const v: unknown = table.getChild(name)!.get(r)
    return ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : (v ?? null)
  })
function sameTable(got: Table, want: Table, what: string): void {
  const shape = (t: Table) => t.schema.fields.map((f) => [f.name, f.metadata.get('labvault.dtype'), String(f.type)])
  assert.deepEqual(shape(got), shape(want), `${what}: fields`)
  for (const f of want.schema.fields) assert.deepEqual(columnData(got, f.name), columnData(want, f.name), `${what}: column ${JSON.stringify(f.name)}`)
}

test('tables: a builder\'s returned values are what execute materialises, as write stores them (or both refuse)', { timeout: 300_000 }, async (t) => {
  t.diagnostic(`replay with LABVAULT_PROP_SEED=${SEED}`)
  const vault: Vault = await openVault(`tables-builders-prop-${SEED}`, { storage: 'memory' })
  await vault.code.create('m', MODULE)
  let built = 0
  let refused = 0
  let n = 0
  const out = await fc.check(
    fc.asyncProperty(caseArb, async ({ plan, values }) => {
      const cols = values.map((v) => [...v])
      if (plan.stray) cols[plan.stray.column % cols.length]![plan.stray.row % plan.rows] = plan.stray.value
      const names = plan.columns.map((c) => c.name)
      shared.__builderOut = cols
      shared.__builderNames = names
      // Own properties even for "__proto__".
      const dtypes: Record<string, string> = Object.create(null)
      const promised: Record<string, string> = Object.create(null)
      plan.columns.forEach((c, k) => {
        if (c.dtype !== undefined) dtypes[c.name] = c.dtype + (c.nullable ? '?' : '')
        promised[c.name] = dtypes[c.name] ?? inferredDType(cols[k]!)
      })
      const table = `b${++n}`
      await vault.tables.create(table)
      await vault.tables.createInstance(table, { builders: ['c'] })
      await vault.tables.builders.create(table, `${table}_index`, { changedColumns: ['id'], function: { module: 'm', export: 'ids' }, arguments: { rows: plan.rows }, dtypes: { id: 'i32' } })
      const [returnType, fn] = EXPORT[plan.returns]
      await vault.tables.builders.create(table, 'c', { changedColumns: names, returnType, function: { module: 'm', export: fn }, arguments: { rows: plan.rows }, dtypes, concurrency: plan.concurrency } as never)

      // The oracle: write of the same columns with the dtypes promised.
      const oracle = `w${n}`
      await vault.tables.create(oracle)
      const data: Record<string, unknown> = Object.create(null)
      data.id = Int32Array.from({ length: plan.rows }, (_, i) => i)
      names.forEach((name, k) => { data[name] = cols[k] })
      let want: Table | undefined
      try {
        await vault.tables.write(oracle, data as never, { dtypes: { id: 'i32', ...promised } })
        want = (await vault.tables.get(oracle)).table
      } catch (err) {
        assert.ok(err instanceof InvalidArgumentError, `write refused with ${String(err)}`)
      }

      const before = await dumpTables(vault)
      if (!want) {
        await assert.rejects(vault.tables.execute(table), (e) => e instanceof InvalidArgumentError, `${plan.returns}: write refused it, execute must too`)
        assert.deepEqual(await dumpTables(vault), before, 'a refused execute changes nothing')
        refused++
        return
      }
      await vault.tables.execute(table)
      sameTable((await vault.tables.get(table)).table, want, `${plan.returns} (concurrency ${plan.concurrency})`)
      // Every row reused: no builder is called (a changed global would show), same table.
      shared.__builderOut = cols.map((c) => c.map(() => Symbol.iterator))
      await vault.tables.createInstance(table, { copy: true })
      await vault.tables.execute(table)
      sameTable((await vault.tables.get(table)).table, want, 'reused')
      shared.__builderOut = cols
      await vault.tables.createInstance(table, { copy: true })
      await vault.tables.execute(table, { force: true })
      sameTable((await vault.tables.get(table)).table, want, 'forced')
      built++
    }),
    { seed: SEED, numRuns: RUNS },
  )
  await vault.close()
  if (out.failed) assert.fail(`${fc.defaultReportMessage(out)}\n${String((out.errorInstance as Error | undefined)?.message ?? out.errorInstance)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/tables-builders-property.test.ts`)
  t.diagnostic(`${built} tables built, ${refused} refused`)
  assert.ok(built >= RUNS / 3, `too few valid cases (${built} of ${RUNS}): the generator draws mostly refused data`)
})
