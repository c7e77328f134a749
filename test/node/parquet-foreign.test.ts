// Parquet files written by native DuckDB (@duckdb/node-api), read by importParquet / readParquet.
// Before round twenty-four, hyparquet read every schema name with a decoder that drops a leading
// U+FEFF: a column "\uFEFFa" was imported as "a", and beside a column "a" the two became one column
// (holding the first's values); an INTERVAL column failed with a plain Error naming no column.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { UnsupportedError, openVault } from '../../src/node.js'
import { Field, FixedSizeList, Float32, Int32, List, Table, TimestampMillisecond, Uint32, Uint64, Vector, makeData, vectorFromArray } from 'apache-arrow'
import { readParquet, readParquetRows, writeParquet } from '../../src/codec/parquet.js'
import { duckdbReadParquet, duckdbRun } from '../support/duckdb-reader.js'
import { tempDir } from './helpers.js'

const dir = tempDir()
const BOM = '\uFEFF'

async function duckdbFile(name: string, select: string): Promise<Uint8Array> {
  const file = join(dir, `${name}.parquet`)
  await duckdbRun(`COPY (${select}) TO '${file}' (FORMAT parquet)`)
  return new Uint8Array(readFileSync(file))
}

test('importParquet: column names beginning with U+FEFF keep it, and do not merge with the name without it', async () => {
  const bytes = await duckdbFile('bom-names', `SELECT 1 AS "${BOM}a", 2 AS "a", 'x' AS "${BOM}", [3, 4] AS "${BOM}l", 5 AS "${BOM}${BOM}a" UNION ALL SELECT NULL, 6, NULL, NULL, 7`)
  const names = [`${BOM}a`, 'a', BOM, `${BOM}l`, `${BOM}${BOM}a`]
  const table = await readParquet(bytes)
  assert.deepEqual(table.schema.fields.map((f) => f.name), names)
  assert.deepEqual([...table.getChild('a')!], [2, 6])
  assert.deepEqual([...table.getChild(`${BOM}a`)!], [1, null])
  assert.deepEqual([...table.getChild(`${BOM}l`)!].map((v) => (v ? [...v] : v)), [[3, 4], null])
  assert.deepEqual((await readParquetRows(bytes)).map((r) => Object.keys(r)), [names, names])
  const v = await openVault('parquet-foreign-bom', { storage: 'memory' })
  await v.importParquet('t', await duckdbFile('bom-flat', `SELECT 1 AS "${BOM}a", 2 AS "a", 'x' AS "${BOM}"`))
  const got = (await v.tables.get('t')).table
  assert.deepEqual(got.schema.fields.map((f) => f.name), [`${BOM}a`, 'a', BOM])
  assert.deepEqual(got.toArray().map((r) => [r[`${BOM}a`], r.a, r[BOM]]), [[1, 2, 'x']])
  await v.close()
})

test('importParquet: an INTERVAL column is refused naming it (UnsupportedError), and nothing is left behind', async () => {
  const bytes = await duckdbFile('interval', `SELECT 1 AS ok, INTERVAL 3 DAY AS "span"`)
  const v = await openVault('parquet-foreign-interval', { storage: 'memory' })
  await assert.rejects(v.importParquet('t', bytes), (e: unknown) => e instanceof UnsupportedError && /"span"/.test((e as Error).message))
  await assert.rejects(v.importParquet('r', bytes, { into: 'records' }), (e: unknown) => e instanceof UnsupportedError && /"span"/.test((e as Error).message))
  assert.deepEqual(await v.tables.list(), [])
  assert.equal(await v.lists.has('r'), false)
  await v.close()
})

test('writeParquet: sliced and chunked list, fixed-size list and timestamp columns, and unsigned limits, read back by DuckDB and hyparquet', async () => {
  // Before round twenty-four a sliced chunk's offset was added again to its (already sliced) offsets
  // and values: a sliced list column threw a RangeError or read other rows, a sliced timestamp
  // column was shifted; a Uint64 2^64-1 or Uint32 2^32-1 was refused with a plain Error.
  const list = new Vector([
    ...vectorFromArray([[1, 2], null, [], [3]], new List(new Field('item', new Int32(), true))).slice(1).data,
    ...vectorFromArray([[4, 5]], new List(new Field('item', new Int32(), true))).data,
  ])
  const emb = vectorFromArray([new Float32Array([1, 2]), null, new Float32Array([3, 4]), new Float32Array([5, 6]), new Float32Array([7, 8])], new FixedSizeList(2, new Field('item', new Float32(), true))).slice(1)
  const ts = new Vector([makeData({ type: new TimestampMillisecond(), length: 6, nullCount: 1, nullBitmap: new Uint8Array([0b111011]), data: new BigInt64Array([9n, 1n, 0n, 2n, 3n, 4n]) })]).slice(1, 6)
  const u64 = vectorFromArray([0n, (1n << 64n) - 1n, null, 1n << 63n, 5n], new Uint64()).slice(1)
  const u32 = vectorFromArray([7, 2 ** 32 - 1, null, 2 ** 31, 0], new Uint32()).slice(1)
  const table = new Table({ list, emb, ts: ts.slice(1), u64, u32 })
  const bytes = await writeParquet(table)
  const want = {
    list: [null, [], [3], [4, 5]],
    emb: [null, [3, 4], [5, 6], [7, 8]],
    ts: [null, 2, 3, 4],
    u64: [(1n << 64n) - 1n, null, 1n << 63n, 5n],
    u32: [2 ** 32 - 1, null, 2 ** 31, 0],
  }
  const back = await readParquet(bytes)
  const plain = (v: unknown) => (v !== null && typeof v === 'object' && Symbol.iterator in v ? [...(v as Iterable<unknown>)] : v)
  for (const [name, values] of Object.entries(want)) assert.deepEqual([...back.getChild(name)!].map(plain), values, `hyparquet: ${name}`)
  const duck = (await duckdbReadParquet(bytes, dir, `SELECT list, emb, epoch_ms(ts) AS ts, u64::VARCHAR AS u64, u32 FROM f`)).rows
  assert.deepEqual(duck.map((r) => r.list), want.list)
  assert.deepEqual(duck.map((r) => r.emb), want.emb)
  assert.deepEqual(duck.map((r) => (r.ts === null ? null : Number(r.ts))), want.ts)
  assert.deepEqual(duck.map((r) => r.u64), want.u64.map((x) => (x === null ? null : String(x))))
  assert.deepEqual(duck.map((r) => r.u32), want.u32)
})
