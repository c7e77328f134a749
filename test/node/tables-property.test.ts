// Property: for any data, `tables.write` then `tables.get` gives back exactly what was written (in
// each dtype's stored form), also after close and reopen; or the write is refused with
// InvalidArgumentError and nothing changes. Hostile corners: nulls in nullable and non-nullable
// columns, lone surrogates, NaN and -0, extreme integers, empty strings and bytes, odd column names.
//
// Budget: LABVAULT_PROP_RUNS runs (default 60, a few seconds). A failure prints its seed;
// LABVAULT_PROP_SEED=<seed> replays it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError, openVault } from '../../src/node.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 60)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const hostileString = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom('a', 'é', '\0', '😀', ' ', '\u{10FFFF}', '\uFFFD'), maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom('\uD800', 'x\uDC00', '__proto__', '') },
)
const isWellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)

/** A dtype, how to draw its values, and what reading one back must give. */
interface Kind {
  dtype: string
  value: fc.Arbitrary<unknown>
  back(v: unknown): unknown
  /** False when the value must be refused. */
  valid?(v: unknown): boolean
}
const kinds: Kind[] = [
  { dtype: 'i32', value: fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(2 ** 31, 1.5)), back: (v) => v, valid: (v) => Number.isInteger(v) && (v as number) < 2 ** 31 },
  { dtype: 'i64', value: fc.oneof(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.constantFrom(1n << 63n)), back: (v) => v, valid: (v) => (v as bigint) < 1n << 63n },
  { dtype: 'f64', value: fc.oneof(fc.double(), fc.constantFrom(-0, NaN, Infinity, 5e-324)), back: (v) => v },
  { dtype: 'f32', value: fc.float({ noNaN: true }), back: (v) => Math.fround(v as number) },
  { dtype: 'bool', value: fc.boolean(), back: (v) => v },
  { dtype: 'str:utf8', value: hostileString, back: (v) => v, valid: (v) => isWellFormed(v as string) },
  { dtype: 'bytes', value: fc.uint8Array({ maxLength: 8 }), back: (v) => v },
  { dtype: 'json', value: fc.oneof(fc.constant({ a: [1, 'x'] }), fc.integer(), fc.constant('text')), back: (v) => JSON.stringify(v) },
  { dtype: 'vec:f32:3', value: fc.array(fc.float({ noNaN: true }), { minLength: 3, maxLength: 3 }).map((a) => Float32Array.from(a)), back: (v) => v },
]

const columnArb = fc.record({
  kind: fc.nat(kinds.length - 1),
  nullable: fc.boolean(),
  name: fc.oneof(fc.constantFrom('a', 'b c', 'é', '__proto__', 'constructor', '0', 'x'.repeat(40)), fc.string({ minLength: 1, maxLength: 5 })),
})
const caseArb = fc.record({ rows: fc.integer({ min: 1, max: 12 }), columns: fc.uniqueArray(columnArb, { minLength: 1, maxLength: 5, selector: (c) => c.name }) }).chain(({ rows, columns }) =>
  fc.tuple(
    fc.constant(columns),
    fc.tuple(...columns.map((c) => fc.array(fc.option(kinds[c.kind]!.value, { freq: 4, nil: null }), { minLength: rows, maxLength: rows }))),
  ),
)

const plain = (v: unknown): unknown => (v instanceof Uint8Array || v instanceof Float32Array ? Array.from(v) : v !== null && typeof v === 'object' && 'toArray' in v ? Array.from((v as { toArray(): ArrayLike<number> }).toArray()) : v)

test('tables: write then get returns what was written (or refuses it and changes nothing)', { timeout: 120_000 }, async (t) => {
  t.diagnostic(`replay with LABVAULT_PROP_SEED=${SEED}`)
  const name = `tables-prop-${SEED}`
  let vault = await openVault(name, { storage: 'memory' })
  await vault.tables.create('t', { allowMultipleArtifacts: true })
  let written = 0
  const out = await fc.check(
    fc.asyncProperty(caseArb, async ([columns, values]) => {
      // Own properties even for "__proto__" (as JSON.parse makes them).
      const data: Record<string, unknown[]> = Object.create(null)
      const dtypes: Record<string, string> = Object.create(null)
      columns.forEach((c, i) => {
        data[c.name] = values[i]!
        dtypes[c.name] = kinds[c.kind]!.dtype + (c.nullable ? '?' : '')
      })
      const valid = columns.every((c, i) => values[i]!.every((v) => (v === null ? c.nullable : (kinds[c.kind]!.valid?.(v) ?? true))))
      const before = await vault.tables.instances('t')
      if (!valid) {
        await assert.rejects(vault.tables.write('t', data, { dtypes }), InvalidArgumentError)
        assert.deepEqual(await vault.tables.instances('t'), before, 'a refused write changes nothing')
        return
      }
      const { instanceId } = await vault.tables.write('t', data, { dtypes })
      written++
      // Now and, every few cases, after close + reopen.
      if (written % 5 === 0) {
        await vault.close()
        vault = await openVault(name, { storage: 'memory' })
      }
      const { table } = await vault.tables.get('t', { instanceId: instanceId! })
      // Columns in the object's own key order (integer-like names first, as JavaScript orders them).
      assert.deepEqual(table.schema.fields.map((f) => [f.name, f.metadata.get('labvault.dtype')]), Object.keys(data).map((n) => [n, dtypes[n]]))
      columns.forEach((c, i) => {
        const col = table.getChild(c.name)!
        const got = Array.from({ length: table.numRows }, (_, r) => plain(col.get(r) ?? null))
        const want = values[i]!.map((v) => (v === null ? null : plain(kinds[c.kind]!.back(v))))
        assert.deepEqual(got, want, `column ${c.name} (${dtypes[c.name]})`)
      })
    }),
    { seed: SEED, numRuns: RUNS },
  )
  await vault.close()
  if (out.failed) assert.fail(`${fc.defaultReportMessage(out)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/tables-property.test.ts`)
})
