// Property: what `tables.get` returns, written back with `tables.write` (the whole Arrow table, and a
// slice of it), reads back the same: the same values in the same stored form and the same
// `labvault.dtype`s. Tables are drawn over every dtype docs/tables.md lists (each column dtype,
// their `?` variants, `artifact`, the pandas names, and columns whose dtype is inferred), with
// values from hostile corners (U+FEFF at the start, lone surrogates, `__proto__`, empty and large
// strings and bytes, deep JSON, NaN and -0, integer and bigint limits). The same data given as row
// objects and as an object of columns makes the same table. A write refused is refused with
// InvalidArgumentError and changes nothing.
//
// Budget: LABVAULT_PROP_RUNS runs (default 40, a few seconds). A failure prints its seed;
// LABVAULT_PROP_SEED=<seed> replays it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import type { Table } from 'apache-arrow'
import { InvalidArgumentError, openVault, type Vault } from '../../src/node.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 40)
const SEED = Number(process.env.LABVAULT_PROP_SEED ?? 0x7ab1e5)

const BOM = '\uFEFF'
/** Artifact names every instance written here holds (an artifact column may name only these). */
const FILES = ['a.pdf', `b${BOM}`, '__proto__', 'é 😀']

const hostileString = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: fc.constantFrom('a', 'é', '\0', '😀', ' ', BOM, '\u{10FFFF}', '"', '\\'), maxLength: 8 }) },
  { weight: 2, arbitrary: fc.constantFrom(BOM, `${BOM}x`, `${BOM}${BOM}`, '__proto__', '', 'constructor') },
  { weight: 1, arbitrary: fc.constantFrom('\uD800', 'x\uDC00', 'x'.repeat(70_000), `${BOM}${'é'.repeat(5000)}`) },
)
const asciiString = fc.oneof({ weight: 4, arbitrary: fc.string({ unit: fc.constantFrom('a', ' ', '\0', '~'), maxLength: 6 }) }, { weight: 1, arbitrary: hostileString })
const deep = (n: number): unknown => (n === 0 ? BOM : [deep(n - 1)])
const jsonValue = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: hostileString },
  // Values JSON writes as the text `null`.
  { weight: 1, arbitrary: fc.constantFrom(NaN, -Infinity, new Date(NaN)) },
  { weight: 1, arbitrary: fc.constantFrom(JSON.parse('{"__proto__":{"x":1},"constructor":null}'), -0, NaN, 1e308, -Number.MAX_SAFE_INTEGER, deep(200), { s: `${BOM}x`, t: ['\uD800'] }, new Date(0), 1n) },
)
const msgpackValue = fc.oneof(
  { weight: 3, arbitrary: jsonValue },
  { weight: 1, arbitrary: fc.constantFrom(new Map<unknown, unknown>([[1, 'a'], ['__proto__', new Set([1n])]]), new Set([BOM]), new Date(-1), (1n << 63n) - 1n, -(1n << 64n), new Float32Array([NaN, -0]), new Uint8Array(0), [undefined, null]) },
)
const i32 = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(-(2 ** 31), 2 ** 31 - 1, 0, -0))
const i64 = fc.oneof(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.constantFrom(-(1n << 63n), (1n << 63n) - 1n, 0n, 1n << 63n), fc.constantFrom(Number.MAX_SAFE_INTEGER, -0))
const f64 = fc.oneof(fc.double(), fc.constantFrom(-0, NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE))
const f32 = fc.oneof(fc.float(), fc.constantFrom(-0, NaN, 3.4e38, 1e39))
const bytes = (max: number) => fc.oneof({ weight: 4, arbitrary: fc.uint8Array({ maxLength: max }) }, { weight: 1, arbitrary: fc.constantFrom(new Uint8Array([0xef, 0xbb, 0xbf]), new Uint8Array(0)) })

/** A vec element type, and numbers (or bigints) that fit it. */
const ELEM: Record<string, fc.Arbitrary<unknown>> = {
  f32: fc.float(), f64: fc.double(), i8: fc.integer({ min: -128, max: 127 }), u8: fc.integer({ min: 0, max: 255 }),
  i16: fc.integer({ min: -32768, max: 32767 }), u16: fc.integer({ min: 0, max: 65535 }), i32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  u32: fc.integer({ min: 0, max: 2 ** 32 - 1 }), i64: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), u64: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
}

/** A column's dtype as given (undefined: inferred) and how to draw its values. */
interface Kind {
  dtype: string | undefined
  value: fc.Arbitrary<unknown>
}

const kindArb: fc.Arbitrary<Kind> = fc.oneof(
  fc.constantFrom<Kind>(
    { dtype: 'i32', value: i32 }, { dtype: 'i64', value: i64 }, { dtype: 'f64', value: f64 }, { dtype: 'f32', value: f32 },
    { dtype: 'bool', value: fc.boolean() }, { dtype: 'bytes', value: bytes(40) },
    { dtype: 'str:utf8', value: hostileString }, { dtype: 'str:latin1', value: hostileString }, { dtype: 'str:ascii', value: asciiString },
    { dtype: 'str:utf16le', value: hostileString }, { dtype: 'str:utf16be', value: hostileString },
    { dtype: 'msgpack', value: msgpackValue }, { dtype: 'json', value: jsonValue }, { dtype: 'artifact', value: fc.constantFrom(...FILES) },
    { dtype: 'vec:f32', value: fc.array(fc.float(), { maxLength: 5 }) },
    // Pandas names (nullable by name).
    { dtype: 'Int32', value: i32 }, { dtype: 'Int64', value: i64 }, { dtype: 'Float32', value: f32 }, { dtype: 'Float64', value: f64 },
    { dtype: 'boolean', value: fc.boolean() }, { dtype: 'string', value: hostileString }, { dtype: 'artifact_string', value: fc.constantFrom(...FILES) },
    { dtype: 'object', value: jsonValue },
    // Inferred from the values.
    { dtype: undefined, value: f64 }, { dtype: undefined, value: i64.filter((v) => typeof v === 'bigint') }, { dtype: undefined, value: hostileString },
    { dtype: undefined, value: fc.boolean() }, { dtype: undefined, value: bytes(8) }, { dtype: undefined, value: fc.array(fc.float(), { minLength: 2, maxLength: 2 }).map((a) => Float32Array.from(a)) },
    { dtype: undefined, value: fc.constantFrom(new Date(0), new Map([[BOM, 1]]), new Set(['__proto__'])) }, { dtype: undefined, value: jsonValue.filter((v) => v !== null && typeof v === 'object' && !(v instanceof Date)) },
  ),
  fc.integer({ min: 1, max: 40 }).chain((n) => fc.constantFrom<Kind>({ dtype: `bytes:${n}`, value: bytes(n + 1) }, { dtype: `msgpack:${n}`, value: msgpackValue }, { dtype: `str:${n}`, value: hostileString }, { dtype: `str:${n}:utf16le`, value: hostileString }, { dtype: `str:${n}:ascii`, value: asciiString })),
  fc.constantFrom(...Object.keys(ELEM)).chain((t) =>
    fc.oneof(
      fc.integer({ min: 1, max: 3 }).chain((d) => fc.constant<Kind>({ dtype: `vec:${t}:${d}:2`, value: fc.array(ELEM[t]!, { minLength: 2 * d, maxLength: 2 * d }) })),
      fc.constant<Kind>({ dtype: `vec:${t}`, value: fc.array(ELEM[t]!, { maxLength: 4 }) }),
    ),
  ),
)

const NAMES = ['a', '__proto__', `${BOM}s`, 'é', 'constructor', '0', 'x y', 'toString']
const columnArb = fc.record({ name: fc.constantFrom(...NAMES), kind: kindArb, nullable: fc.boolean() })
const caseArb = fc
  .record({ rows: fc.integer({ min: 1, max: 9 }), columns: fc.uniqueArray(columnArb, { minLength: 1, maxLength: 4, selector: (c) => c.name }) })
  .chain(({ rows, columns }) =>
    fc.record({
      columns: fc.constant(columns),
      values: fc.tuple(...columns.map((c) => fc.array(c.nullable ? fc.option(c.kind.value, { freq: 4, nil: null }) : c.kind.value, { minLength: rows, maxLength: rows }))),
      slice: fc.tuple(fc.nat(rows - 1), fc.nat(rows - 1)).map(([a, b]) => [Math.min(a, b), Math.max(a, b) + 1] as const),
    }),
  )

/** A column's values as comparable data: typed arrays and nested vectors as arrays (NaN and -0 kept). */
function values(table: Table, name: string): unknown[] {
  const plain = (v: unknown): unknown =>
    ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<unknown>) : v !== null && typeof v === 'object' && 'toArray' in v ? Array.from((v as { toArray(): ArrayLike<unknown> }).toArray()) : v
  const col = table.getChild(name)!
  return Array.from({ length: table.numRows }, (_, r) => plain(col.get(r) ?? null))
}
const shape = (t: Table) => t.schema.fields.map((f) => [f.name, f.metadata.get('labvault.dtype'), String(f.type)])
const sameTable = (got: Table, want: Table, what: string) => {
  assert.deepEqual(shape(got), shape(want), `${what}: fields`)
  for (const f of want.schema.fields) assert.deepEqual(values(got, f.name), values(want, f.name), `${what}: column ${JSON.stringify(f.name)} (${f.metadata.get('labvault.dtype')})`)
}

/** Writes into an external-edit instance holding {@link FILES}, so artifact columns may name them. */
async function write(vault: Vault, data: unknown, dtypes: Record<string, string>): Promise<string> {
  await vault.tables.createInstance('t', { externalEdit: true })
  try {
    const files = vault.tables.artifacts('t', { instanceId: 'TEMP_base' })
    for (const f of FILES) await files.put(f, new Uint8Array([1]))
    return (await vault.tables.write('t', data as never, { dtypes })).instanceId!
  } catch (err) {
    await vault.tables.deleteInstance('t', 'TEMP_base')
    throw err
  }
}

test('tables: get → write back (whole and sliced) → get gives the same values and dtypes, for every dtype and rows or columns input', { timeout: 300_000 }, async (t) => {
  t.diagnostic(`replay with LABVAULT_PROP_SEED=${SEED}`)
  const vault = await openVault(`tables-roundtrip-${SEED}`, { storage: 'memory' })
  await vault.tables.create('t', { allowMultipleArtifacts: true })
  let written = 0
  let refused = 0
  const out = await fc.check(
    fc.asyncProperty(caseArb, async ({ columns, values: drawn, slice }) => {
      // Own properties even for "__proto__" (as JSON.parse makes them).
      const data: Record<string, unknown[]> = Object.create(null)
      const dtypes: Record<string, string> = Object.create(null)
      columns.forEach((c, i) => {
        data[c.name] = drawn[i]!
        if (c.kind.dtype !== undefined) dtypes[c.name] = c.kind.dtype + (c.nullable && !/^[A-Z]|^(boolean|string|object|artifact_string)$/.test(c.kind.dtype) ? '?' : '')
      })
      const before = await vault.tables.instances('t')
      let first: Table
      try {
        first = (await vault.tables.get('t', { instanceId: await write(vault, data, dtypes) })).table
      } catch (err) {
        assert.ok(err instanceof InvalidArgumentError, `refused with ${String(err)}`)
        assert.deepEqual(await vault.tables.instances('t'), before, 'a refused write changes nothing')
        refused++
        return
      }
      written++
      // Strings of a dtype that neither cuts nor re-encodes them come back as written (a table holds
      // them as UTF-8: one it cannot hold exactly is refused above, not changed).
      columns.forEach((c, i) => {
        const d = c.kind.dtype
        const verbatim = d === undefined ? drawn[i]!.some((x) => typeof x === 'string') : d === 'string' || /^str:(utf8|latin1|ascii|utf16le|utf16be)$/.test(d)
        if (verbatim) assert.deepEqual(values(first, c.name), drawn[i], `column ${JSON.stringify(c.name)} (${d ?? 'inferred'}) as written`)
      })
      // The same data as row objects.
      const rows = Array.from({ length: first.numRows }, (_, r) => {
        const row: Record<string, unknown> = Object.create(null)
        for (const name of Object.keys(data)) row[name] = data[name]![r]
        return row
      })
      sameTable((await vault.tables.get('t', { instanceId: await write(vault, rows, dtypes) })).table, first, 'rows input')
      // Written back as it came, and a slice of it.
      const back = (await vault.tables.get('t', { instanceId: await write(vault, first, {}) })).table
      sameTable(back, first, 'written back')
      const part = first.slice(slice[0], slice[1])
      sameTable((await vault.tables.get('t', { instanceId: await write(vault, part, {}) })).table, part, `slice ${slice[0]}..${slice[1]} written back`)
      // Once more from the copy: still no drift.
      sameTable((await vault.tables.get('t', { instanceId: await write(vault, back, {}) })).table, first, 'written back twice')
    }),
    { seed: SEED, numRuns: RUNS },
  )
  await vault.close()
  if (out.failed) assert.fail(`${fc.defaultReportMessage(out)}\n${String((out.errorInstance as Error | undefined)?.message ?? out.errorInstance)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/tables-roundtrip-property.test.ts`)
  t.diagnostic(`${written} tables round-tripped, ${refused} refused`)
  assert.ok(written >= RUNS / 3, `too few valid tables (${written} of ${RUNS}): the generator draws mostly refused data`)
})
