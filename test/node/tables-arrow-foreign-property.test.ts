// Property: an Arrow table built the way other tools build them (apache-arrow's builders and raw
// buffers, columns of several chunks, sliced at any offset, nulls anywhere with any bytes left in a
// null row's slot, optionally through an IPC stream) given to `tables.write` is either stored and
// read back exactly (each row's value or null, in its row, and the dtype docs/tables.md gives it),
// or refused with InvalidArgumentError naming the column, and then nothing is written. Types:
// Int8…Int64 and Uint8…Uint32 at their limits, Float16/32/64 (NaN, -0), Bool, Utf8 and LargeUtf8
// (U+FEFF first, lone surrogates, `__proto__`, empty, huge), Dictionary<Utf8> with Int8/16/32/64
// indices, Binary, FixedSizeBinary, FixedSizeList<Float32> (embeddings), Timestamp in s/ms/us/ns
// (with and without a time zone), Decimal128 and Uint64 (refused).
//
// Budget: LABVAULT_PROP_RUNS runs (default 40). A failure prints its seed; LABVAULT_PROP_SEED=<seed> replays it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  Binary, Bool, Decimal, Dictionary, Field, FixedSizeBinary, FixedSizeList, Float16, Float32, Float64, Int16, Int32, Int64, Int8, LargeUtf8,
  Table, TimeUnit, Timestamp, Uint16, Uint32, Uint64, Uint8, Utf8, Vector, makeData, tableFromIPC, tableToIPC, vectorFromArray, type Data, type DataType,
} from 'apache-arrow'
import { InvalidArgumentError, UnsupportedError, openVault } from '../../src/node.js'
import { readParquet, writeParquet } from '../../src/codec/parquet.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 40)
const SEED = Number(process.env.LABVAULT_PROP_SEED ?? 0xa770)
const BOM = '\uFEFF'

const hostileString = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: fc.constantFrom('a', 'é', '\0', '😀', ' ', BOM, '\u{10FFFF}'), maxLength: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom(BOM, `${BOM}x`, `${BOM}${BOM}`, '__proto__', '', '\uD800', `${BOM}\uDC00`) },
  { weight: 1, arbitrary: fc.constantFrom('x'.repeat(70_000), `${BOM}${'é'.repeat(3000)}`) },
)

/** One kind of foreign column: its Arrow type, how a value is drawn and laid out, what reads back. */
interface Kind {
  label: string
  type: () => DataType
  value: fc.Arbitrary<unknown>
  /** A chunk of these values (null: a null row), laid out as other writers lay them out. */
  chunk: (values: unknown[], garbage: number) => Data
  /** The dtype named in `write`'s options (undefined: inferred from the Arrow type). */
  dtype?: string
  /** The `labvault.dtype` it reads back with (nullable or not); undefined: refused. */
  stored?: (nullable: boolean) => string
  /** A value as `get`'s column gives it (plain: typed arrays as arrays). */
  expect?: (v: unknown) => unknown
}

/** A validity bitmap (null when there is no null). */
function bitmap(values: unknown[]): { nullBitmap?: Uint8Array; nullCount: number } {
  const nullCount = values.filter((v) => v === null).length
  if (nullCount === 0) return { nullCount }
  const bits = new Uint8Array(((values.length + 63) >> 6) << 3)
  values.forEach((v, i) => v !== null && (bits[i >> 3]! |= 1 << (i & 7)))
  return { nullBitmap: bits, nullCount }
}

/** A primitive chunk from raw slots; a null row's slot holds `garbage` (another writer's leftover). */
function primitive(type: () => DataType, Array_: { new (n: number): { [i: number]: unknown } }, big = false) {
  return (values: unknown[], garbage: number): Data => {
    const data = new Array_(values.length)
    values.forEach((v, i) => (data[i] = v ?? (big ? BigInt(garbage) : garbage)))
    return makeData({ type: type(), length: values.length, data: data as never, ...bitmap(values) } as never)
  }
}
const built = (type: () => DataType) => (values: unknown[]): Data => vectorFromArray(values, type() as never).data[0]!
const same = (v: unknown) => v
const plain = (v: unknown): unknown =>
  ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<unknown>) : v instanceof Vector ? Array.from(v.toArray() as ArrayLike<unknown>) : v ?? null
/** A string as UTF-8 holds it: a lone surrogate becomes U+FFFD. */
const wellFormed = (s: string) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(new TextEncoder().encode(s))
const int = (min: number, max: number) => fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max, 0))
const nullable = (d: string) => (q: boolean) => d + (q ? '?' : '')
const halfOf = (bits: number): number => new Vector([makeData({ type: new Float16(), length: 1, data: new Uint16Array([bits]) })]).get(0) as number

const timestamp = (unit: TimeUnit, tz: string | null): Kind => ({
  label: `timestamp ${TimeUnit[unit]} ${tz}`, type: () => new Timestamp(unit, tz), dtype: 'i64?', stored: () => 'i64?',
  value: fc.oneof(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), fc.constantFrom(-(1n << 63n), (1n << 63n) - 1n, 0n)),
  chunk: primitive(() => new Timestamp(unit, tz), BigInt64Array, true), expect: same,
})
const dictionary = (indices: () => Int8 | Int16 | Int32 | Int64, big: boolean): Kind => ({
  label: `dictionary ${String(indices())}`, type: () => new Dictionary(new Utf8(), indices() as Int32), stored: nullable('str:utf8'),
  value: fc.constantFrom('a', `${BOM}b`, '__proto__', '', 'é'),
  chunk: (values, garbage) => {
    const words = ['a', `${BOM}b`, '__proto__', '', 'é']
    const Indices = big ? BigInt64Array : indices().ArrayType
    const data = new Indices(values.length) as unknown as { [i: number]: unknown }
    values.forEach((v, i) => (data[i] = v === null ? (big ? BigInt(garbage % 5) : garbage % 5) : big ? BigInt(words.indexOf(v as string)) : words.indexOf(v as string)))
    return makeData({ type: new Dictionary(new Utf8(), indices() as Int32), length: values.length, data: data as never, dictionary: vectorFromArray(words, new Utf8()), ...bitmap(values) } as never)
  },
  expect: same,
})

const KINDS: Kind[] = [
  { label: 'int32', type: () => new Int32(), value: int(-(2 ** 31), 2 ** 31 - 1), chunk: primitive(() => new Int32(), Int32Array), stored: nullable('i32'), expect: same },
  { label: 'int64', type: () => new Int64(), value: fc.constantFrom(-(1n << 63n), (1n << 63n) - 1n, 0n, -1n), chunk: primitive(() => new Int64(), BigInt64Array, true), stored: nullable('i64'), expect: same },
  { label: 'float64', type: () => new Float64(), value: fc.oneof(fc.double(), fc.constantFrom(NaN, -0, Infinity, 5e-324)), chunk: primitive(() => new Float64(), Float64Array), stored: nullable('f64'), expect: same },
  { label: 'float32', type: () => new Float32(), value: fc.float().map(Math.fround), chunk: primitive(() => new Float32(), Float32Array), stored: nullable('f32'), expect: same },
  { label: 'int8 as i32', type: () => new Int8(), dtype: 'i32?', value: int(-128, 127), chunk: primitive(() => new Int8(), Int8Array), stored: () => 'i32?', expect: same },
  { label: 'int16 as i32', type: () => new Int16(), dtype: 'i32?', value: int(-32768, 32767), chunk: primitive(() => new Int16(), Int16Array), stored: () => 'i32?', expect: same },
  { label: 'uint8 as i32', type: () => new Uint8(), dtype: 'i32?', value: int(0, 255), chunk: primitive(() => new Uint8(), Uint8Array), stored: () => 'i32?', expect: same },
  { label: 'uint16 as f32', type: () => new Uint16(), dtype: 'f32?', value: int(0, 65535), chunk: primitive(() => new Uint16(), Uint16Array), stored: () => 'f32?', expect: same },
  { label: 'uint32 as f64', type: () => new Uint32(), dtype: 'f64?', value: int(0, 2 ** 32 - 1), chunk: primitive(() => new Uint32(), Uint32Array), stored: () => 'f64?', expect: same },
  { label: 'int32 as f64', type: () => new Int32(), dtype: 'f64?', value: int(-(2 ** 31), 2 ** 31 - 1), chunk: primitive(() => new Int32(), Int32Array), stored: () => 'f64?', expect: same },
  // Drawn as any 16-bit pattern (NaNs, infinities, subnormals, -0): each reads back as its half's value.
  { label: 'float16 as f32', type: () => new Float16(), dtype: 'f32?', value: int(0, 0xffff), chunk: primitive(() => new Float16(), Uint16Array), stored: () => 'f32?', expect: (v) => halfOf(v as number) },
  { label: 'bool', type: () => new Bool(), value: fc.boolean(), chunk: built(() => new Bool()), stored: nullable('bool'), expect: same },
  { label: 'utf8', type: () => new Utf8(), value: hostileString, chunk: built(() => new Utf8()), stored: nullable('str:utf8'), expect: (v) => wellFormed(v as string) },
  { label: 'largeutf8', type: () => new LargeUtf8(), value: hostileString, chunk: built(() => new LargeUtf8()), stored: nullable('str:utf8'), expect: (v) => wellFormed(v as string) },
  { label: 'binary', type: () => new Binary(), value: fc.uint8Array({ maxLength: 6 }), chunk: built(() => new Binary()), stored: nullable('bytes'), expect: plain },
  { label: 'fixedsizebinary', type: () => new FixedSizeBinary(3), value: fc.uint8Array({ minLength: 3, maxLength: 3 }), chunk: built(() => new FixedSizeBinary(3)), stored: nullable('bytes:3'), expect: plain },
  {
    label: 'embedding', type: () => new FixedSizeList(2, new Field('item', new Float32(), true)), value: fc.tuple(fc.float(), fc.float()).map((a) => Float32Array.from(a)),
    chunk: built(() => new FixedSizeList(2, new Field('item', new Float32(), true))), stored: nullable('vec:f32:2'), expect: plain,
  },
  dictionary(() => new Int8(), false), dictionary(() => new Int16(), false), dictionary(() => new Int32(), false), dictionary(() => new Int64(), true),
  timestamp(TimeUnit.SECOND, null), timestamp(TimeUnit.MILLISECOND, 'UTC'), timestamp(TimeUnit.MICROSECOND, null), timestamp(TimeUnit.NANOSECOND, 'Europe/Paris'),
  // Refused: no exact value (Decimal), no dtype (Uint64 not named).
  {
    label: 'decimal', type: () => new Decimal(2, 10, 128), dtype: 'f64?', value: fc.integer(),
    chunk: (values) => makeData({ type: new Decimal(2, 10, 128), length: values.length, data: Uint32Array.from(values.flatMap((v) => [Number(v ?? 0) >>> 0, 0, 0, 0])), ...bitmap(values) } as never),
  },
  { label: 'uint64', type: () => new Uint64(), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), chunk: primitive(() => new Uint64(), BigUint64Array, true) },
]

/**
 * What writeParquet → readParquet gives back for a value of each kind (`'refused'`: UnsupportedError
 * naming the column; kinds not listed are not drawn there: timestamps read back at millisecond precision).
 */
const PARQUET: Record<string, ((v: unknown) => unknown) | 'refused'> = {
  'int32': same, 'int64': same, 'float64': same, 'float32': same, 'int8 as i32': same, 'int16 as i32': same, 'uint8 as i32': same, 'uint16 as f32': same,
  'uint32 as f64': same, 'uint64': same, 'float16 as f32': (v) => halfOf(v as number), 'bool': same, 'utf8': (v) => wellFormed(v as string),
  'largeutf8': (v) => wellFormed(v as string), 'binary': plain, 'embedding': plain, 'fixedsizebinary': 'refused', 'decimal': 'refused',
  ...Object.fromEntries(KINDS.filter((k) => k.label.startsWith('dictionary')).map((k) => [k.label, same])),
}

const NAMES = ['a', '__proto__', `${BOM}a`, 'A', 'a ', 'é', 'constructor', '0']
const columnArb = fc.record({
  name: fc.constantFrom(...NAMES), kind: fc.constantFrom(...KINDS).map((k) => Object.assign(Object.create(k) as Kind, { [fc.toStringMethod]: () => k.label })), nullFreq: fc.constantFrom(0, 1, 3),
  // Chunk sizes; the vector is sliced to [start, start + rows) of their concatenation.
  chunks: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 3 }), garbage: fc.integer({ min: 1, max: 127 }),
})
type Column = typeof columnArb extends fc.Arbitrary<infer C> ? C : never
const caseOf = (column: fc.Arbitrary<Column>) => fc.record({
  rows: fc.integer({ min: 0, max: 12 }),
  start: fc.nat(5),
  ipc: fc.boolean(),
  columns: fc.uniqueArray(column, { minLength: 1, maxLength: 4, selector: (c) => c.name }),
}).chain((c) => fc.record({
  case: fc.constant(c),
  values: fc.tuple(...c.columns.map((col) => {
    const total = Math.max(col.chunks.reduce((a, b) => a + b, 0), c.start + c.rows)
    const v = col.nullFreq === 0 ? col.kind.value : fc.option(col.kind.value, { freq: col.nullFreq, nil: null })
    return fc.array(v, { minLength: total, maxLength: total })
  })),
}))
const caseArb = caseOf(columnArb)
const parquetCaseArb = caseOf(columnArb.filter((c) => Object.hasOwn(PARQUET, c.kind.label)))

/** The column: its values in chunks of the drawn sizes (the last takes the rest), sliced to the case's rows. */
function vectorOf(kind: Kind, values: unknown[], chunks: number[], garbage: number, start: number, rows: number): Vector {
  const data: Data[] = []
  let at = 0
  chunks.forEach((n, i) => {
    const end = i === chunks.length - 1 ? values.length : Math.min(values.length, at + n)
    data.push(kind.chunk(values.slice(at, end), garbage))
    at = end
  })
  return new Vector(data).slice(start, start + rows)
}

test('tables: foreign Arrow columns (chunked, sliced, nulls anywhere, through IPC) are stored exactly or refused naming the column', { timeout: 300_000 }, async (t) => {
  t.diagnostic(`replay with LABVAULT_PROP_SEED=${SEED}`)
  const vault = await openVault(`tables-arrow-foreign-${SEED}`, { storage: 'memory' })
  await vault.tables.create('t', { allowMultipleArtifacts: true })
  let written = 0
  let refused = 0
  const out = await fc.check(
    fc.asyncProperty(caseArb, async ({ case: c, values }) => {
      const vectors: Record<string, Vector> = Object.create(null)
      const dtypes: Record<string, string> = Object.create(null)
      c.columns.forEach((col, i) => {
        Object.defineProperty(vectors, col.name, { value: vectorOf(col.kind, values[i]!, col.chunks, col.garbage, c.start, c.rows), enumerable: true })
      })
      let table = new Table(vectors)
      // Where each drawn column is (an object's integer-like keys, "0", come first).
      const at = c.columns.map((col) => table.schema.fields.findIndex((f) => f.name === col.name))
      assert.equal(table.numRows, c.rows)
      // (arrow-js's own IPC reader drops a leading U+FEFF of a name: the names given are the ones read.)
      if (c.ipc) table = tableFromIPC(tableToIPC(table, 'stream'))
      const names = table.schema.fields.map((f) => f.name)
      if (new Set(names).size < names.length) return
      c.columns.forEach((col, i) => col.kind.dtype && (dtypes[names[at[i]!]!] = col.kind.dtype))
      const expected = c.columns.map((col, i) => values[i]!.slice(c.start, c.start + c.rows))
      const refusedBy = c.columns.find((col) => !col.kind.stored)
      const before = await vault.tables.instances('t')
      let result: Table
      try {
        await vault.tables.write('t', table, { dtypes })
        result = (await vault.tables.get('t')).table
      } catch (err) {
        assert.ok(err instanceof InvalidArgumentError, `refused with InvalidArgumentError, got ${String(err)}`)
        assert.deepEqual(await vault.tables.instances('t'), before, 'nothing written')
        if (c.rows === 0) return void refused++
        assert.ok(refusedBy, `refused although every column is writable: ${(err as Error).message}`)
        assert.ok(c.columns.some((col, i) => !col.kind.stored && (err as Error).message.includes(`column "${names[at[i]!]}"`)), `names the column: ${(err as Error).message}`)
        refused++
        return
      }
      assert.ok(c.rows > 0 && !refusedBy, `written although it should be refused (${refusedBy?.kind.label ?? 'no rows'})`)
      written++
      assert.equal(result.numRows, c.rows)
      assert.deepEqual(result.schema.fields.map((f) => f.name), names)
      c.columns.forEach((col, i) => {
        const field = result.schema.fields[at[i]!]!
        const got = Array.from({ length: c.rows }, (_, r) => plain(result.getChildAt(at[i]!)!.get(r)))
        const want = expected[i]!.map((v) => (v === null ? null : col.kind.expect!(v)))
        const what = `column ${JSON.stringify(col.name)} (${col.kind.label}, ${c.ipc ? 'through IPC' : 'built'})`
        assert.equal(field.metadata.get('labvault.dtype'), col.kind.stored!(want.includes(null) || (col.kind.dtype?.endsWith('?') ?? false)), `${what}: dtype`)
        assert.deepEqual(got, want, `${what}: values`)
      })
    }),
    { numRuns: RUNS, seed: SEED },
  )
  await vault.close()
  t.diagnostic(`${written} written, ${refused} refused`)
  if (out.failed) assert.fail(`${fc.defaultReportMessage(out)}\n${String(out.errorInstance)}\nreplay with LABVAULT_PROP_SEED=${out.seed}`)
})

test('writeParquet → readParquet: foreign Arrow columns (chunked, sliced, nulls anywhere) read back as their rows, or are refused naming the column', { timeout: 300_000 }, async (t) => {
  t.diagnostic(`replay with LABVAULT_PROP_SEED=${SEED}`)
  let written = 0
  const out = await fc.check(
    fc.asyncProperty(parquetCaseArb, async ({ case: c, values }) => {
      const vectors: Record<string, Vector> = Object.create(null)
      c.columns.forEach((col, i) => Object.defineProperty(vectors, col.name, { value: vectorOf(col.kind, values[i]!, col.chunks, col.garbage, c.start, c.rows), enumerable: true }))
      let table = new Table(vectors)
      if (c.ipc) table = tableFromIPC(tableToIPC(table, 'stream'))
      const names = table.schema.fields.map((f) => f.name)
      if (new Set(names).size < names.length) return
      const at = c.columns.map((col) => new Table(vectors).schema.fields.findIndex((f) => f.name === col.name))
      const refusedBy = c.columns.find((col) => PARQUET[col.kind.label] === 'refused')
      let back: Table
      try {
        back = await readParquet(await writeParquet(table))
      } catch (err) {
        assert.ok(err instanceof UnsupportedError && refusedBy, `refused (${String(err)}) though every column is supported`)
        assert.ok(c.columns.some((col, i) => PARQUET[col.kind.label] === 'refused' && (err as Error).message.includes(JSON.stringify(names[at[i]!]))), `names the column: ${(err as Error).message}`)
        return
      }
      assert.ok(!refusedBy, `written although ${refusedBy?.kind.label} is refused`)
      written++
      assert.equal(back.numRows, c.rows)
      assert.deepEqual(back.schema.fields.map((f) => f.name), names)
      c.columns.forEach((col, i) => {
        const expect = PARQUET[col.kind.label] as (v: unknown) => unknown
        const got = Array.from({ length: c.rows }, (_, r) => plain(back.getChildAt(at[i]!)!.get(r)))
        assert.deepEqual(got, values[i]!.slice(c.start, c.start + c.rows).map((v) => (v === null ? null : expect(v))), `column ${JSON.stringify(col.name)} (${col.kind.label})`)
      })
    }),
    { numRuns: RUNS, seed: SEED },
  )
  t.diagnostic(`${written} written`)
  if (out.failed) assert.fail(`${fc.defaultReportMessage(out)}\n${String(out.errorInstance)}\nreplay with LABVAULT_PROP_SEED=${out.seed}`)
})
