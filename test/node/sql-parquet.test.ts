import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { InvalidArgumentError, NotFoundError, openVault } from '../../src/node.js'
import { readParquetRows } from '../../src/codec/parquet.js'
import { duckdbReadParquet, duckdbRun } from '../support/duckdb-reader.js'
import { tempDir } from './helpers.js'

// vault.exportParquet / vault.importParquet (issue 12): files read back by native DuckDB
// (@duckdb/node-api, an independent reader) and by hyparquet; files written by native DuckDB read in.

const dir = tempDir()
let n = 0
const fresh = () => openVault(`pq-${n++}`, { storage: 'fs', path: dir })

describe('Parquet out of and into the vault', () => {
  test('exportParquet: a query and a relation by name, read back by native DuckDB and hyparquet', async () => {
    const v = await fresh()
    const preds = await v.lists.create('preds', { type: 'record', fields: ['model', 'fold', 'score'] })
    await preds.appendMany([
      { model: 'rf', fold: 0, score: 0.5 },
      { model: 'svm', fold: 0, score: 0.7 },
      { model: 'rf', fold: 1, score: 0.25 },
    ])
    await v.kv().set('lr', 0.001)
    const bytes = await v.exportParquet('SELECT model, avg(score) AS mean, count(*) AS n FROM items.preds GROUP BY model ORDER BY model')
    const byDuck = await duckdbReadParquet(bytes, dir)
    assert.deepEqual(byDuck.rows.map((r) => ({ ...r, n: Number(r.n) })), [{ model: 'rf', mean: 0.375, n: 2 }, { model: 'svm', mean: 0.7, n: 1 }], 'native DuckDB reads the rows')
    assert.deepEqual(await readParquetRows(bytes), [{ model: 'rf', mean: 0.375, n: 2 }, { model: 'svm', mean: 0.7, n: 1 }], 'hyparquet reads the same')
    assert.deepEqual((await duckdbReadParquet(bytes, dir, 'SELECT DISTINCT compression FROM parquet_metadata($FILE)')).rows, [{ compression: 'ZSTD' }], 'zstd pages')
    const relation = await readParquetRows(await v.exportParquet('items."preds"'))
    assert.deepEqual(relation.map((r) => [r.model, r.fold, r.score]), [['rf', 0, 0.5], ['svm', 0, 0.7], ['rf', 1, 0.25]], 'a relation by name, every row')
    const kv = await readParquetRows(await v.exportParquet('kv'))
    assert.deepEqual(kv.map((r) => [r.key, r.value]), [['lr', '0.001']], 'a vault-wide relation by name')
    const params = await readParquetRows(await v.exportParquet('SELECT model FROM items.preds WHERE score > ? ORDER BY model', { params: [0.4] }))
    assert.deepEqual(params, [{ model: 'rf' }, { model: 'svm' }], 'parameters bound')
    await assert.rejects(v.exportParquet('items."nope"'), NotFoundError)
    await assert.rejects(v.exportParquet(''), InvalidArgumentError)
    await assert.rejects(v.exportParquet('SELEC oops'), InvalidArgumentError)
    const empty = await v.exportParquet('SELECT model FROM items.preds WHERE false')
    assert.deepEqual((await duckdbReadParquet(empty, dir)).rows, [], 'an empty result is a valid empty file')
    await v.close()
  })

  test('importParquet: a file written by native DuckDB becomes a table instance, or records', async () => {
    const file = join(dir, 'from-duckdb.parquet')
    await duckdbRun(`COPY (SELECT i::BIGINT AS id, 'run-' || i AS name, i / 4.0 AS score, i % 2 = 0 AS even FROM range(5) t(i)) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`)
    const bytes = new Uint8Array(readFileSync(file))
    const v = await fresh()
    const r = await v.importParquet('scores', bytes)
    assert.equal(r.rows, 5)
    const { table, instanceId } = await v.tables.get('scores')
    assert.equal(instanceId, r.instanceId)
    assert.deepEqual(table.schema.fields.map((f) => f.name), ['id', 'name', 'score', 'even'])
    assert.deepEqual(table.toArray().map((row) => ({ ...row.toJSON(), id: Number(row.id) })), [0, 1, 2, 3, 4].map((i) => ({ id: i, name: `run-${i}`, score: i / 4, even: i % 2 === 0 })))
    const again = await v.importParquet('scores', bytes)
    assert.equal((await v.tables.instances('scores')).length, 2, 'a second import is a second instance')
    assert.notEqual(again.instanceId, r.instanceId)
    const rec = await v.importParquet('runs', bytes, { into: 'records' })
    assert.deepEqual([rec.start, rec.end], [0, 5])
    const list = await v.lists.get('runs')
    assert.deepEqual((await list.info()).fields, ['id', 'name', 'score', 'even'])
    assert.deepEqual(((await list.get(3)) as Record<string, unknown>).name, 'run-3')
    await assert.rejects(v.importParquet('', bytes), InvalidArgumentError)
    await assert.rejects(v.importParquet('x', 'not bytes' as never), InvalidArgumentError)
    await assert.rejects(v.importParquet('x', bytes, { into: 'columns' as never }), InvalidArgumentError)
    await assert.rejects(v.importParquet('x', new Uint8Array([1, 2, 3])), Error, 'not a Parquet file')
    assert.equal((await v.tables.list()).some((t) => t.name === 'x'), false, 'refused imports create nothing')
    await v.close()
  })

  test('a failed importParquet into a new table or list leaves nothing behind (the table it made stayed, empty)', async () => {
    const file = join(dir, 'unsupported.parquet')
    // UBIGINTs beyond i64 (smaller ones are imported as i64 since round twenty-four).
    await duckdbRun(`COPY (SELECT (18446744073709551613 + i)::UBIGINT AS u, [i, i] AS pair FROM range(3) t(i)) TO '${file}' (FORMAT parquet)`)
    const bytes = new Uint8Array(readFileSync(file))
    const v = await fresh()
    await assert.rejects(v.importParquet('unsupported', bytes), Error)
    assert.deepEqual((await v.tables.list()).map((t) => t.name), [], 'no table left behind')
    // An existing table is the caller's: a failed import into it keeps it.
    await v.tables.create('kept')
    await assert.rejects(v.importParquet('kept', bytes), Error)
    assert.deepEqual((await v.tables.list()).map((t) => t.name), ['kept'])
    await v.close()
  })

  test('importParquet keeps every column and value: a column named __proto__, a leading U+FEFF, DECIMALs', async () => {
    // Found by probing: hyparquet's row objects were built by assignment (a `__proto__` column set
    // the row's prototype and was lost), its TextDecoder dropped a string's leading U+FEFF, and a
    // DECIMAL column became Int32 (1.25 → 1) or, as INT64, failed with a raw TypeError.
    const file = join(dir, 'hostile-names.parquet')
    await duckdbRun(`COPY (SELECT i AS "__proto__", 'x' || i AS "constructor", '\uFEFF' || 'bom' AS s, (i + 0.25)::DECIMAL(9,2) AS d32, (i + 0.5)::DECIMAL(18,2) AS d64 FROM range(2) t(i)) TO '${file}' (FORMAT parquet)`)
    const bytes = new Uint8Array(readFileSync(file))
    const rows = await readParquetRows(bytes)
    assert.deepEqual(rows.map((r) => Object.keys(r)), [0, 1].map(() => ['__proto__', 'constructor', 's', 'd32', 'd64']))
    assert.equal(Object.getPrototypeOf(rows[0]), Object.prototype, 'a row keeps its prototype')
    assert.deepEqual(rows.map((r) => [Object.getOwnPropertyDescriptor(r, '__proto__')!.value, r.constructor, r.s, r.d32, r.d64]), [[0n, 'x0', '\uFEFFbom', 0.25, 0.5], [1n, 'x1', '\uFEFFbom', 1.25, 1.5]])
    const v = await fresh()
    await v.importParquet('hostile', bytes, { into: 'records' })
    const list = await v.lists.get('hostile')
    assert.deepEqual((await list.info()).fields, ['__proto__', 'constructor', 's', 'd32', 'd64'])
    const rec = (await list.get(1)) as Record<string, unknown>
    assert.deepEqual([Object.getOwnPropertyDescriptor(rec, '__proto__')!.value, rec.s, rec.d32], [1n, '\uFEFFbom', 1.25])
    await v.importParquet('hostile', bytes)
    const { table } = await v.tables.get('hostile')
    assert.deepEqual(table.schema.fields.map((f) => f.name), ['__proto__', 'constructor', 's', 'd32', 'd64'])
    assert.deepEqual(Array.from(table.getChild('d32')!.toArray() as Float64Array), [0.25, 1.25], 'DECIMAL(9,2) as doubles')
    assert.deepEqual(Array.from(table.getChild('d64')!.toArray() as Float64Array), [0.5, 1.5], 'DECIMAL(18,2) as doubles')
    assert.deepEqual(Array.from(table.getChild('__proto__')!.toArray() as BigInt64Array), [0n, 1n], 'the __proto__ column is there')
    await v.close()
  })

  test('importParquet and readParquetRows keep a binary column as bytes (it was decoded as UTF-8 text); ENUM and text stay strings', async () => {
    const file = join(dir, 'binary.parquet')
    await duckdbRun(`COPY (SELECT '\\x00\\xFF\\x80'::BLOB AS b, 'x'::ENUM('x', 'y') AS e, 'caf\u00e9' AS s) TO '${file}' (FORMAT parquet)`)
    const bytes = new Uint8Array(readFileSync(file))
    assert.deepEqual(await readParquetRows(bytes), [{ b: new Uint8Array([0, 255, 128]), e: 'x', s: 'caf\u00e9' }])
    const v = await fresh()
    await v.importParquet('bin', bytes, { into: 'records' })
    assert.deepEqual(await (await v.lists.get('bin')).get(0), { b: new Uint8Array([0, 255, 128]), e: 'x', s: 'caf\u00e9' })
    await v.importParquet('bin', bytes)
    const { table } = await v.tables.get('bin')
    assert.deepEqual(table.getChild('b')!.get(0), new Uint8Array([0, 255, 128]))
    // Bytes out of a record list and back in: a BLOB column all the way.
    const src = await v.lists.create('blobs', { type: 'record', fields: ['u'] })
    await src.appendMany([{ u: new Uint8Array([0, 255]) }, { u: new Uint8Array([]) }])
    await v.importParquet('blobs-copy', await v.exportParquet('SELECT u FROM items.blobs ORDER BY idx'), { into: 'records' })
    assert.deepEqual(await (await v.lists.get('blobs-copy')).slice(0, 2), [{ u: new Uint8Array([0, 255]) }, { u: new Uint8Array([]) }])
    await v.close()
  })
})
