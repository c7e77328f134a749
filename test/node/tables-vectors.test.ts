// Property: the direct Arrow vector builders of tables (shared/arrow-vectors.ts, used by write()
// and execute) hold, for any stored values, what Arrow's own `vectorFromArray` holds (values, nulls,
// type), survive an IPC round trip unchanged, and are deterministic (equal values → equal IPC bytes:
// a column's content hash depends on its values only). Hostile corners: nulls anywhere (first, last, all), empty strings, non-ASCII and astral
// characters after ASCII, lengths around the bitmap's byte and 64-bit boundaries, extreme numbers.
//
// Budget: LABVAULT_PROP_RUNS runs (default 200, well under a second); LABVAULT_PROP_SEED replays.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { Bool, Field, Float32, Float64, Int32, Int64, RecordBatch, Schema, Struct, Table, Utf8, makeData, tableFromIPC, tableToIPC, vectorFromArray, type DataType, type Vector } from 'apache-arrow'
import { boolVector, numericVector, utf8Vector } from '../../src/domains/tables/shared/arrow-vectors.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 200)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '-'), maxLength: 12 }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.constantFrom('a', 'é', '\0', '😀', '\u{10FFFF}', '\uFFFD', '\u07FF', '\u0800'), maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constant('') },
)
const withNulls = <T>(value: fc.Arbitrary<T>) =>
  fc.oneof(
    fc.array(value, { maxLength: 140 }),
    fc.array(fc.option(value, { nil: null, freq: 3 }), { maxLength: 140 }),
    fc.integer({ min: 0, max: 70 }).map((n) => new Array<T | null>(n).fill(null)),
  )

interface Case {
  name: string
  type: () => DataType
  values: fc.Arbitrary<unknown[]>
  build(values: unknown[]): Vector
}
const cases: Case[] = [
  { name: 'utf8', type: () => new Utf8(), values: withNulls(text), build: utf8Vector },
  { name: 'bool', type: () => new Bool(), values: withNulls(fc.boolean()), build: boolVector },
  { name: 'i32', type: () => new Int32(), values: withNulls(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), build: (v) => numericVector('i32', v) },
  { name: 'i64', type: () => new Int64(), values: withNulls(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })), build: (v) => numericVector('i64', v) },
  { name: 'f32', type: () => new Float32(), values: withNulls(fc.float().map(Math.fround)), build: (v) => numericVector('f32', v) },
  { name: 'f64', type: () => new Float64(), values: withNulls(fc.oneof(fc.double(), fc.constantFrom(-0, NaN, Infinity, 5e-324))), build: (v) => numericVector('f64', v) },
]

// A fixed schema (a nullable field): \`new Table({ c: v })\` infers nullability from the vector's
// state, which Arrow changes once the vector is read, and the schema is part of the bytes.
const ipc = (v: Vector): Uint8Array => {
  const schema = new Schema([new Field('c', v.type, true)])
  return tableToIPC(new Table(schema, new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: v.length, nullCount: 0, children: [v.data[0]!] }))), 'stream')
}

const plain = (v: Vector): unknown[] => [...v].map((x) => (x === undefined ? null : x))

test('direct vector builders: the values of Arrow\'s vectorFromArray, through IPC, deterministically', (t) => {
  t.diagnostic(`replay with LABVAULT_PROP_SEED=${SEED}`)
  for (const c of cases) {
    const out = fc.check(
      fc.property(c.values, (values) => {
        const mine = c.build(values)
        const theirs = vectorFromArray(values, c.type()) as Vector
        assert.equal(mine.length, values.length)
        assert.equal(mine.nullCount, values.filter((v) => v === null).length)
        assert.equal(String(mine.type), String(theirs.type))
        assert.deepEqual(plain(mine), plain(theirs))
        const bytes = ipc(mine)
        const back = tableFromIPC(bytes).getChild('c')!
        assert.equal(back.nullCount, mine.nullCount)
        assert.deepEqual(plain(back), plain(theirs))
        assert.deepEqual(ipc(c.build([...values])), bytes, `${c.name}: equal values gave different IPC bytes`)
        // Exactly sized: never more bytes than Arrow's builder (whose slack goes into the IPC stream).
        assert.ok(bytes.length <= ipc(theirs).length, `${c.name}: ${bytes.length} IPC bytes, Arrow's builder ${ipc(theirs).length}`)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    if (out.failed) assert.fail(`${c.name}: ${String(out.errorInstance)}\n${fc.defaultReportMessage(out)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/tables-vectors.test.ts`)
  }
})

test('a long non-ASCII string after ASCII ones grows the buffer and keeps every byte', () => {
  const values = ['ascii', 'é'.repeat(5000) + '😀'.repeat(3000), null, 'x']
  const v = utf8Vector(values)
  assert.deepEqual(plain(v), values)
  assert.deepEqual(plain(tableFromIPC(ipc(v)).getChild('c')!), values)
})
