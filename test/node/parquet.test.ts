import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  Bool, Field, Float32, Float64, Int32, Int64, List, Table, TimestampMillisecond, TimestampMicrosecond, Utf8, Struct, vectorFromArray,
} from 'apache-arrow'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { readParquet, readParquetRows, writeParquet } from '../../src/codec/parquet.js'
import { InvalidArgumentError, UnsupportedError } from '../../src/errors/errors.js'
import { duckdbReadParquet } from '../support/duckdb-reader.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-parquet-')
const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 150)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const listOfF64 = new List(new Field('element', new Float64(), true))

function everyType(): Table {
  return new Table({
    i32: vectorFromArray([1, -2147483648, null, 2147483647], new Int32()),
    i64: vectorFromArray([1n, -(2n ** 63n), null, 2n ** 63n - 1n], new Int64()),
    f32: vectorFromArray([1.5, -0.25, null, 3.4028234663852886e38], new Float32()),
    f64: vectorFromArray([Math.PI, -0, null, Number.MAX_VALUE], new Float64()),
    s: vectorFromArray(['a', '', null, 'é😀\0z'], new Utf8()),
    b: vectorFromArray([true, false, null, true], new Bool()),
    nulls: vectorFromArray([null, null, null, null], new Float64()),
    t: vectorFromArray([Date.UTC(2026, 10, 30, 12, 0, 0, 123), 0, null, -86_400_000], new TimestampMillisecond('UTC')),
    l: vectorFromArray([[1, 2.5], [], null, [Number.NaN, -1]], listOfF64),
  })
}

test('every supported type reaches native DuckDB with its type and values; pages are zstd', async () => {
  const bytes = await writeParquet(everyType())
  const { rows, types, names } = await duckdbReadParquet(bytes, dir)
  assert.deepEqual(names, ['i32', 'i64', 'f32', 'f64', 's', 'b', 'nulls', 't', 'l'])
  assert.deepEqual(types, ['INTEGER', 'BIGINT', 'FLOAT', 'DOUBLE', 'VARCHAR', 'BOOLEAN', 'DOUBLE', 'TIMESTAMP WITH TIME ZONE', 'DOUBLE[]'])
  assert.deepEqual(rows.map((r) => r.i32), [1, -2147483648, null, 2147483647])
  assert.deepEqual(rows.map((r) => r.i64), ['1', String(-(2n ** 63n)), null, String(2n ** 63n - 1n)])
  assert.deepEqual(rows.map((r) => r.f32), [1.5, -0.25, null, 3.4028234663852886e38])
  assert.deepEqual(rows.map((r) => r.s), ['a', '', null, 'é😀\0z'])
  assert.deepEqual(rows.map((r) => r.b), [true, false, null, true])
  assert.deepEqual(rows.map((r) => r.nulls), [null, null, null, null])
  assert.deepEqual(rows.map((r) => r.t), ['2026-11-30 12:00:00.123+00', '1970-01-01 00:00:00+00', null, '1969-12-31 00:00:00+00'])
  assert.deepEqual(rows.map((r) => r.l), [[1, 2.5], [], null, ['NaN', -1]])
  const codecs = await duckdbReadParquet(bytes, dir, 'SELECT DISTINCT compression FROM parquet_metadata($FILE)')
  assert.deepEqual(codecs.rows, [{ compression: 'ZSTD' }])
  const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
  const used = new Set(meta.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec)))
  assert.deepEqual([...used], ['ZSTD'])
})

test('hyparquet (independent of the writer) reads the same values back, and readParquet rebuilds Arrow types', async () => {
  const table = everyType()
  const bytes = await writeParquet(table)
  const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, compressors })
  assert.equal(rows.length, 4)
  assert.deepEqual(rows.map((r) => r.i64), [1n, -(2n ** 63n), null, 2n ** 63n - 1n])
  assert.deepEqual(rows.map((r) => (r.t as Date | null)?.getTime() ?? null), [Date.UTC(2026, 10, 30, 12, 0, 0, 123), 0, null, -86_400_000])
  const back = await readParquet(bytes)
  assert.deepEqual(back.schema.fields.map((f) => String(f.type)), ['Int32', 'Int64', 'Float32', 'Float64', 'Utf8', 'Bool', 'Float64', 'Timestamp<MILLISECOND, UTC>', 'List<Float64>'])
  for (const name of ['i32', 'f32', 'f64', 's', 'b', 'nulls', 't']) assert.deepEqual([...back.getChild(name)!], [...table.getChild(name)!], name)
  assert.deepEqual([...back.getChild('i64')!], [...table.getChild('i64')!])
  assert.deepEqual([...back.getChild('l')!].map((v) => (v === null ? null : [...v])), [[1, 2.5], [], null, [Number.NaN, -1]])
  assert.deepEqual(await readParquetRows(bytes), rows)
})

test('microsecond timestamps keep their microseconds in the file', async () => {
  const micros = 1_764_504_000_123_456n
  const table = new Table({ t: vectorFromArray([0], new TimestampMicrosecond()) })
  // vectorFromArray takes milliseconds for timestamps; set the raw value to check no rounding happens.
  ;(table.getChild('t')!.data[0]!.values as unknown as BigInt64Array)[0] = micros
  const { rows, types } = await duckdbReadParquet(await writeParquet(table), dir, 'SELECT epoch_us(t) AS us FROM f')
  assert.deepEqual(types, ['BIGINT'])
  assert.deepEqual(rows, [{ us: String(micros) }])
})

test('columns of different lengths (Arrow pads the short one with nulls) are written padded', async () => {
  const t = new Table({ f: vectorFromArray([1, 2, 3], new Float64()), l: vectorFromArray([[1]], listOfF64) })
  const { rows } = await duckdbReadParquet(await writeParquet(t), dir)
  assert.deepEqual(rows, [{ f: 1, l: [1] }, { f: 2, l: null }, { f: 3, l: null }])
})

test('an empty table is a valid empty file with its schema', async () => {
  const empty = new Table({ a: vectorFromArray([], new Float64()), s: vectorFromArray([], new Utf8()), l: vectorFromArray([], listOfF64) })
  const bytes = await writeParquet(empty)
  const { rows, names, types } = await duckdbReadParquet(bytes, dir)
  assert.deepEqual(rows, [])
  assert.deepEqual(names, ['a', 's', 'l'])
  assert.deepEqual(types, ['DOUBLE', 'VARCHAR', 'DOUBLE[]'])
  const back = await readParquet(bytes)
  assert.equal(back.numRows, 0)
  assert.deepEqual(back.schema.names, ['a', 's', 'l'])
})

test('snappy and uncompressed are available; options are checked', async () => {
  const t = new Table({ a: vectorFromArray([1, 2, 3], new Float64()) })
  for (const compression of ['snappy', 'none'] as const) {
    const { rows } = await duckdbReadParquet(await writeParquet(t, { compression }), dir)
    assert.deepEqual(rows, [{ a: 1 }, { a: 2 }, { a: 3 }])
  }
  const withMeta = await writeParquet(t, { metadata: { origin: 'labvault' }, rowGroupSize: 2 })
  const meta = parquetMetadata(withMeta.buffer as ArrayBuffer)
  assert.equal(meta.row_groups.length, 2)
  assert.deepEqual(meta.key_value_metadata, [{ key: 'origin', value: 'labvault' }])
  await assert.rejects(writeParquet(t, { compression: 'gzip' as never }), (e) => e instanceof InvalidArgumentError && /compression/.test(e.message))
  await assert.rejects(writeParquet(t, { level: 0 }), (e) => e instanceof InvalidArgumentError && /level/.test(e.message))
  await assert.rejects(writeParquet(t, { rowGroupSize: 1.5 }), (e) => e instanceof InvalidArgumentError && /rowGroupSize/.test(e.message))
  await assert.rejects(writeParquet({} as Table), (e) => e instanceof InvalidArgumentError && /Arrow Table/.test(e.message))
  await assert.rejects(writeParquet(new Table({})), (e) => e instanceof InvalidArgumentError && /no columns/.test(e.message))
  const nested = new Table({ st: vectorFromArray([{ x: 1 }], new Struct([new Field('x', new Float64())])) })
  await assert.rejects(writeParquet(nested), (e) => e instanceof UnsupportedError && /"st"/.test(e.message))
  await assert.rejects(readParquet(new Uint8Array([1, 2, 3])), (e) => e instanceof InvalidArgumentError && /not a Parquet file/.test(e.message))
})

// Property: whatever a table of these types holds (nulls, NaN, -0, extremes, any well-formed
// string, empty lists, zero rows) comes back from the file unchanged, through hyparquet.
const f64 = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, -0, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE))
const kinds = {
  f64: { type: () => new Float64(), value: fc.option(f64) },
  i32: { type: () => new Int32(), value: fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })) },
  i64: { type: () => new Int64(), value: fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })) },
  utf8: { type: () => new Utf8(), value: fc.option(fc.string({ unit: 'grapheme', maxLength: 12 })) },
  bool: { type: () => new Bool(), value: fc.option(fc.boolean()) },
  listF64: { type: () => listOfF64, value: fc.option(fc.array(fc.option(f64), { maxLength: 5 })) },
} as const
type Kind = keyof typeof kinds
const tableArb = fc
  .tuple(fc.array(fc.constantFrom(...(Object.keys(kinds) as Kind[])), { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 30 }))
  .chain(([cols, n]) => fc.tuple(...cols.map((k) => fc.array(kinds[k].value as fc.Arbitrary<unknown>, { minLength: n, maxLength: n }))).map((data) => ({ cols, data })))

function plain(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && Symbol.iterator in v) return [...(v as Iterable<unknown>)].map(plain)
  return v
}

test('property: any table of the supported types round-trips through a Parquet file (hyparquet reads it back)', async () => {
  await fc.assert(
    fc.asyncProperty(tableArb, fc.constantFrom('zstd', 'snappy', 'none'), async ({ cols, data }, compression) => {
      const vectors = Object.fromEntries(cols.map((k, i) => [`c${i}`, vectorFromArray(data[i]!, kinds[k].type() as never)]))
      const table = new Table(vectors)
      const back = await readParquet(await writeParquet(table, { compression: compression as 'zstd' }))
      assert.equal(back.numRows, table.numRows)
      for (let i = 0; i < cols.length; i++) {
        const name = `c${i}`
        assert.equal(String(back.getChild(name)!.type), String(table.getChild(name)!.type))
        assert.deepEqual(plain([...back.getChild(name)!]), plain([...table.getChild(name)!]), name)
      }
    }),
    { numRuns: Math.max(20, Math.floor(RUNS / 3)), seed: SEED },
  )
})

test('-0 and 0 in one float column (flat or in lists) both survive (no dictionary merges them)', async () => {
  const back = await readParquet(await writeParquet(new Table({ f: vectorFromArray([0, -0, 0], new Float64()) })))
  assert.deepEqual([...back.getChild('f')!].map((v) => Object.is(v, -0)), [false, true, false])
  const backList = await readParquet(await writeParquet(new Table({ l: vectorFromArray([[0], [-0]], listOfF64) })))
  assert.deepEqual([...backList.getChild('l')!].map((v) => Object.is(v!.get(0), -0)), [false, true])
})
