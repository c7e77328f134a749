import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError, openVault, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

// SQL over the vault is read-only. A text that closes the read-only wrapping's parenthesis itself
// and goes on after a `;` ran its other statements in DuckDB (duckdb-wasm runs every statement of
// a text): the forged rows were what later queries returned, and the Node cache file saved them.

const dir = tempDir('labvault-sql-readonly-')

/** Rows of an Arrow table as plain objects. */
function rows(table: { toArray(): { toJSON(): Record<string, unknown> }[] }): Record<string, unknown>[] {
  return table.toArray().map((r) => ({ ...r.toJSON() }))
}

/** A text that breaks out of `SELECT * FROM (<text>)` to run `statement`. */
const breakout = (statement: string) => `SELECT 1 AS x); ${statement}; SELECT * FROM (SELECT 1 AS x`

const STATEMENTS = [
  "UPDATE kv SET value = 'FORGED'",
  "INSERT INTO kv VALUES ('default', 'ghost', NULL, '42', 'value', 2)",
  'CREATE TABLE main.evil AS SELECT 42 AS n',
  'DROP TABLE kv',
  'DROP SCHEMA _labvault CASCADE',
  'BEGIN TRANSACTION',
  'SET lock_configuration = false',
]

describe('read-only', () => {
  test('a text of several statements is refused (string, tagged template, exportParquet) and changes nothing, on the handle and after a reopen', async () => {
    const open = () => openVault('sql-readonly', { storage: 'fs', path: dir })
    const kv = async (v: Vault) => rows(await v.sql('SELECT key, value FROM kv ORDER BY key'))
    let v = await open()
    try {
      await v.kv().set('a', 1)
      assert.deepEqual(await kv(v), [{ key: 'a', value: '1' }])
      for (const statement of STATEMENTS) {
        const text = breakout(statement)
        await assert.rejects(v.sql(text), InvalidArgumentError, `string: ${statement}`)
        // The tagged template goes through PREPARE … AS <text> (with its parameters).
        await assert.rejects(v.sql`SELECT ${1} AS x); ${statement}; SELECT * FROM (SELECT 1 AS x`, InvalidArgumentError, `template: ${statement}`)
        await assert.rejects(v.sql(text, { params: [] }), InvalidArgumentError, `with options: ${statement}`)
        await assert.rejects(v.exportParquet(text), InvalidArgumentError, `exportParquet: ${statement}`)
        await assert.rejects(v.sql(`SELECT 1; ${statement}`), InvalidArgumentError, `after a plain ';': ${statement}`)
        assert.deepEqual(await kv(v), [{ key: 'a', value: '1' }], `unchanged after ${statement}`)
      }
      await assert.rejects(v.sql('SELECT * FROM main.evil'), InvalidArgumentError, 'no table was created')
      // No transaction was left open: a write is seen, and parameters still bind.
      await v.kv().set('b', 2)
      assert.deepEqual(await kv(v), [{ key: 'a', value: '1' }, { key: 'b', value: '2' }])
      assert.deepEqual(rows(await v.sql`SELECT ${5} AS five`), [{ five: 5 }])
      // A PIVOT without an IN list is several statements to DuckDB (it creates an ENUM type): refused.
      await assert.rejects(v.sql('PIVOT (SELECT key, value FROM kv) ON key USING first(value)'), InvalidArgumentError, 'PIVOT without IN')
      assert.deepEqual(rows(await v.sql("PIVOT (SELECT key, value FROM kv) ON key IN ('a', 'b') USING first(value)")), [{ a: '1', b: '2' }])
    } finally {
      await v.close()
    }
    // The cache file written at close holds what the vault holds.
    v = await open()
    try {
      assert.deepEqual(await kv(v), [{ key: 'a', value: '1' }, { key: 'b', value: '2' }])
      assert.deepEqual(await v.kv().entries(), [['a', 1], ['b', 2]])
    } finally {
      await v.close()
    }
  })

  test('a `;` inside strings, quoted names, dollar quotes and comments, and trailing `;`, are one statement', async () => {
    const v = await openVault('sql-readonly-ok', { storage: 'memory' })
    try {
      await v.kv().set('a', 1)
      assert.deepEqual(rows(await v.sql("SELECT ';' AS s")), [{ s: ';' }])
      assert.deepEqual(rows(await v.sql("SELECT '); DROP TABLE kv; SELECT (' AS s")), [{ s: '); DROP TABLE kv; SELECT (' }])
      assert.deepEqual(rows(await v.sql('SELECT 1 AS ";)"')), [{ ';)': 1 }])
      assert.deepEqual(rows(await v.sql('SELECT $$a;b)$$ AS s')), [{ s: 'a;b)' }])
      assert.deepEqual(rows(await v.sql('SELECT 1 /* ; ) */ AS x')), [{ x: 1 }])
      assert.deepEqual(rows(await v.sql('SELECT 1 AS x -- ; )')), [{ x: 1 }])
      assert.deepEqual(rows(await v.sql('SELECT 1 AS x;')), [{ x: 1 }])
      assert.deepEqual(rows(await v.sql('SELECT 1 AS x ;; \n')), [{ x: 1 }])
      assert.deepEqual(rows(await v.sql('SELECT ? AS s;', { params: ['a;b'] })), [{ s: 'a;b' }])
      assert.deepEqual(rows(await v.sql`SELECT ${');'} AS s, count(*) AS n FROM kv;`), [{ s: ');', n: 1 }])
      assert.equal((await v.exportParquet("SELECT ';' AS s;")).length > 0, true)
    } finally {
      await v.close()
    }
  })
})
