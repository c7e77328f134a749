// Parquet files written by native DuckDB (@duckdb/node-api), read by importParquet / readParquet.
// Before round twenty-four, hyparquet read every schema name with a decoder that drops a leading
// U+FEFF: a column "\uFEFFa" was imported as "a", and beside a column "a" the two became one column
// (holding the first's values); an INTERVAL column failed with a plain Error naming no column.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { UnsupportedError, openVault } from '../../src/node.js'
import { readParquet, readParquetRows } from '../../src/codec/parquet.js'
import { duckdbRun } from '../support/duckdb-reader.js'
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
