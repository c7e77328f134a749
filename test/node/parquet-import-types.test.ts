// importParquet of the column types pandas, polars and DuckDB write every day that have no table
// dtype of their own (8/16-bit and unsigned integers, DATE, TIMESTAMP, lists). Before round
// twenty-four each was refused ("Arrow type Int8 has no table dtype; name one in options.dtypes"),
// and importParquet took no dtypes: such a file could not be imported at all. Files are written by
// native DuckDB (@duckdb/node-api), as a user's would be.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { InvalidArgumentError, openVault } from '../../src/node.js'
import { duckdbRun } from '../support/duckdb-reader.js'
import { tempDir } from './helpers.js'

const dir = tempDir()

async function duckdbFile(name: string, select: string): Promise<Uint8Array> {
  const file = join(dir, `${name}.parquet`)
  await duckdbRun(`COPY (${select}) TO '${file}' (FORMAT parquet)`)
  return new Uint8Array(readFileSync(file))
}

type Got = { dtype: string | undefined; values: unknown[] }

async function imported(vault: Awaited<ReturnType<typeof openVault>>, name: string, bytes: Uint8Array, dtypes?: Record<string, string>): Promise<Record<string, Got>> {
  await vault.importParquet(name, bytes, dtypes ? { dtypes } : {})
  const { table } = await vault.tables.get(name)
  return Object.fromEntries(table.schema.fields.map((f, i) => [f.name, { dtype: f.metadata.get('labvault.dtype'), values: [...table.getChildAt(i)!].map((v: unknown) => (ArrayBuffer.isView(v) ? [...(v as Uint8Array)] : v)) }]))
}

test('importParquet: small and unsigned integers, dates, timestamps and lists get the dtype that holds their values', async () => {
  const vault = await openVault('types', { path: dir })
  try {
    const bytes = await duckdbFile(
      'types',
      `SELECT * FROM (VALUES
        ((-128)::TINYINT, (-32768)::SMALLINT, 255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER, 9223372036854775807::UBIGINT,
         DATE '1969-12-31', TIMESTAMP '2024-01-02 03:04:05.678', TIMESTAMPTZ '2024-01-02 03:04:05+00',
         [1, NULL, 3], ['a', '\uFEFFb', ''], [1.5, -0.0], [true], NULL::INTEGER[]),
        (127, 32767, 0, 0, 0, 0, DATE '2024-02-29', NULL, NULL, [], NULL, [], [false, NULL], [9007199254740991])
      ) t(i8, i16, u8, u16, u32, u64, d, ts, tstz, li, ls, ld, lb, lbig)`,
    )
    const got = await imported(vault, 'types', bytes)
    assert.deepEqual(got.i8, { dtype: 'i32', values: [-128, 127] })
    assert.deepEqual(got.i16, { dtype: 'i32', values: [-32768, 32767] })
    assert.deepEqual(got.u8, { dtype: 'i32', values: [255, 0] })
    assert.deepEqual(got.u16, { dtype: 'i32', values: [65535, 0] })
    assert.deepEqual(got.u32, { dtype: 'i64', values: [4294967295n, 0n] })
    assert.deepEqual(got.u64, { dtype: 'i64', values: [9223372036854775807n, 0n] })
    assert.deepEqual(got.d, { dtype: 'f64', values: [Date.UTC(1969, 11, 31), Date.UTC(2024, 1, 29)] })
    assert.deepEqual(got.ts, { dtype: 'f64?', values: [Date.UTC(2024, 0, 2, 3, 4, 5, 678), null] })
    assert.deepEqual(got.tstz, { dtype: 'f64?', values: [Date.UTC(2024, 0, 2, 3, 4, 5), null] })
    // Lists as JSON text (what a json column's get returns).
    assert.deepEqual(got.li, { dtype: 'json', values: ['[1,null,3]', '[]'] })
    assert.deepEqual(got.ls, { dtype: 'json?', values: ['["a","\uFEFFb",""]', null] })
    assert.deepEqual(got.ld, { dtype: 'json', values: ['[1.5,0]', '[]'] })
    assert.deepEqual(got.lb, { dtype: 'json', values: ['[true]', '[false,null]'] })
    assert.deepEqual(got.lbig, { dtype: 'json?', values: [null, '[9007199254740991]'] })
    // The JSON text reads back as the lists through SQL's json and as values in JS.
    assert.deepEqual(JSON.parse(got.ls!.values[0] as string), ['a', '\uFEFFb', ''])
  } finally {
    await vault.close()
  }
})

test('importParquet: a UUID column is its canonical text (it was the 36 bytes of that text, as bytes)', async () => {
  const vault = await openVault('pq-uuid', { storage: 'memory' })
  try {
    const bytes = await duckdbFile('uuid', "SELECT * FROM (VALUES ('123e4567-e89b-12d3-a456-426614174000'::UUID), (NULL), ('00000000-0000-0000-0000-000000000000'::UUID)) t(id)")
    const got = await imported(vault, 'uuids', bytes)
    assert.deepEqual(got.id, { dtype: 'str:utf8?', values: ['123e4567-e89b-12d3-a456-426614174000', null, '00000000-0000-0000-0000-000000000000'] })
    // As DuckDB reads them back from an export.
    const back = await vault.sql`SELECT id FROM tables."uuids" ORDER BY id NULLS LAST`
    assert.deepEqual(back.toArray().map((r) => r.toJSON().id), ['00000000-0000-0000-0000-000000000000', '123e4567-e89b-12d3-a456-426614174000', null])
  } finally {
    await vault.close()
  }
})

test('importParquet: a value no dtype holds exactly is refused naming its column, and nothing is written', async () => {
  const vault = await openVault('refused', { path: dir })
  try {
    const tooBig = await duckdbFile('u64-max', `SELECT 18446744073709551615::UBIGINT AS big`)
    await assert.rejects(vault.importParquet('big', tooBig), (e: unknown) => e instanceof InvalidArgumentError && /big/.test((e as Error).message))
    const bigList = await duckdbFile('list-big', `SELECT [9007199254740993::BIGINT] AS l`)
    await assert.rejects(vault.importParquet('biglist', bigList), (e: unknown) => e instanceof InvalidArgumentError && /"l", row 0/.test((e as Error).message))
    assert.deepEqual((await vault.tables.list()).map((t) => t.name), [])
    // Named dtypes win over the defaults.
    const got = await imported(vault, 'named', await duckdbFile('named', `SELECT 7::TINYINT AS a, [1.5, 2.5] AS v`), { a: 'f64', v: 'vec:f64' })
    assert.deepEqual(got.a, { dtype: 'f64', values: [7] })
    assert.equal(got.v!.dtype, 'vec:f64')
  } finally {
    await vault.close()
  }
})

test('importParquet: a misspelt option, dtypes that are not an object, or dtypes with into: records are refused', async () => {
  const vault = await openVault('options', { path: dir })
  try {
    const bytes = await duckdbFile('opt', `SELECT 1::TINYINT AS a`)
    for (const options of [{ dtype: { a: 'f64' } }, { dtypes: 'f64' }, { dtypes: null }, { into: 'records', dtypes: { a: 'f64' } }]) {
      await assert.rejects(vault.importParquet('opt', bytes, options as never), InvalidArgumentError, JSON.stringify(options))
    }
    assert.deepEqual((await vault.tables.list()).map((t) => t.name), [])
    assert.equal(await vault.lists.has('opt'), false)
  } finally {
    await vault.close()
  }
})
