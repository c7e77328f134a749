import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError, openVault, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

// Names the domains allow but DuckDB holds apart only by more than case: record fields `a` and `A`,
// a field `IDX` beside the relation's own `idx`, table columns `a` and `A`, tables `Foo` and `foo`.
// Each once made every query fail ("Column with name IDX already exists!") or read the wrong rows.

const dir = tempDir('labvault-sql-names-')

/** Rows of an Arrow table as plain objects. */
function rows(table: { toArray(): { toJSON(): Record<string, unknown> }[] }): Record<string, unknown>[] {
  return table.toArray().map((r) => ({ ...r.toJSON() }))
}

const kvCount = async (v: Vault) => rows(await v.sql('SELECT count(*) AS n FROM kv'))

describe('names that differ only in case', () => {
  test('record fields and table columns that clash get distinct columns (`<name>_2`, …; the index column `idx`, `item_idx`, `item_idx_2`)', async () => {
    const v = await openVault('sql-names-fields', { storage: 'memory' })
    try {
      await v.kv().set('k', 1)
      const cases: [string, string[], Record<string, unknown>][] = [
        ['cased', ['a', 'A'], { idx: 0, a: 1, A_2: 2 }],
        ['upper_idx', ['IDX'], { item_idx: 0, IDX: 1 }],
        ['both_idx', ['idx', 'ITEM_IDX'], { item_idx_2: 0, idx: 1, ITEM_IDX: 2 }],
        // A renamed field never takes the name of a field after it.
        ['taken', ['a', 'A', 'a_2'], { idx: 0, a: 1, A_3: 2, a_2: 3 }],
      ]
      for (const [name, fields] of cases) {
        const list = await v.lists.create(name, { type: 'record', fields })
        await list.append(Object.fromEntries(fields.map((f, i) => [f, i + 1])))
      }
      for (const [name, , expected] of cases) assert.deepEqual(rows(await v.sql(`SELECT * FROM items.${name}`)), [expected], name)
      assert.deepEqual(await kvCount(v), [{ n: 1 }])
      // Appends go to the same columns.
      await (await v.lists.get('cased')).append({ a: 10, A: 20 } as never)
      assert.deepEqual(rows(await v.sql('SELECT a, A_2 FROM items.cased ORDER BY idx')), [{ a: 1, A_2: 2 }, { a: 10, A_2: 20 }])

      await v.tables.create('t', {})
      await v.tables.write('t', [{ a: 1, A: 2 }])
      assert.deepEqual(rows(await v.sql('SELECT * FROM tables.t')), [{ a: 1, A_2: 2 }])
      assert.deepEqual(await kvCount(v), [{ n: 1 }])
    } finally {
      await v.close()
    }
  })

  test('of tables (and lists) whose names differ only in case, the older has the relation; deleting either leaves the right rows', async () => {
    const v = await openVault('sql-names-tables', { storage: 'memory' })
    try {
      await v.tables.create('Foo', {})
      await v.tables.write('Foo', [{ x: 1 }])
      await v.tables.create('foo', {})
      await v.tables.write('foo', [{ y: 'two' }])
      assert.deepEqual(rows(await v.sql('SELECT * FROM tables."Foo"')), [{ x: 1 }])
      assert.deepEqual(rows(await v.sql('SELECT * FROM tables.foo')), [{ x: 1 }], 'the same relation: names are case-insensitive')
      await v.tables.delete('foo')
      assert.deepEqual(rows(await v.sql('SELECT * FROM tables."Foo"')), [{ x: 1 }], "deleting foo leaves Foo's relation")
      await v.tables.create('foo', {})
      await v.tables.write('foo', [{ y: 'three' }])
      await v.tables.delete('Foo')
      assert.deepEqual(rows(await v.sql('SELECT * FROM tables.foo')), [{ y: 'three' }], "deleting Foo gives foo the relation")

      const older = await v.lists.create('Runs', { type: 'record', fields: ['r'] })
      await older.append({ r: 'older' })
      const younger = await v.lists.create('runs', { type: 'record', fields: ['r'] })
      await younger.append({ r: 'younger' })
      assert.deepEqual(rows(await v.sql('SELECT r FROM items.runs')), [{ r: 'older' }])
      await v.lists.delete('Runs')
      assert.deepEqual(rows(await v.sql('SELECT r FROM items.runs')), [{ r: 'younger' }], "deleting Runs gives runs the relation (its DROP does not drop it)")
    } finally {
      await v.close()
    }
  })

  test('a relation DuckDB cannot build fails alone: a query reading it names it, other queries run, also after a reopen', async () => {
    const open = () => openVault('sql-names-failed', { storage: 'fs', path: dir })
    let v = await open()
    try {
      await v.kv().set('k', 1)
      // A field name with a NUL: DuckDB's query text ends at the NUL.
      const bad = await v.lists.create('bad', { type: 'record', fields: ['a\u0000b'] })
      await bad.append({ 'a\u0000b': 1 })
      const good = await v.lists.create('good', { type: 'record', fields: ['g'] })
      await good.append({ g: 1 })
      assert.deepEqual(await kvCount(v), [{ n: 1 }])
      assert.deepEqual(rows(await v.sql('SELECT g FROM items.good')), [{ g: 1 }])
      await assert.rejects(v.sql('SELECT * FROM items.bad'), (err: Error) => err instanceof InvalidArgumentError && /relation items\."bad" could not be made/.test(err.message))
      await good.append({ g: 2 })
      assert.deepEqual(rows(await v.sql('SELECT count(*) AS n FROM items.good')), [{ n: 2 }])
    } finally {
      await v.close()
    }
    v = await open()
    try {
      assert.deepEqual(await kvCount(v), [{ n: 1 }])
      assert.deepEqual(rows(await v.sql('SELECT count(*) AS n FROM items.good')), [{ n: 2 }])
      await assert.rejects(v.sql('SELECT * FROM items.bad'), InvalidArgumentError)
      await v.lists.delete('bad')
      await assert.rejects(v.sql('SELECT * FROM items.bad'), /does not exist/)
      assert.deepEqual(await kvCount(v), [{ n: 1 }])
    } finally {
      await v.close()
    }
  })
  test('a result column named `__proto__` beside a BIGINT one is kept (the result came back with no columns at all)', async () => {
    const v = await openVault('sql-names-proto', { storage: 'memory' })
    try {
      const t = await v.sql(`SELECT 1 AS "__proto__", 2::BIGINT AS n, 'a' AS s`)
      assert.deepEqual(t.schema.fields.map((f) => f.name), ['__proto__', 'n', 's'])
      assert.deepEqual([t.getChild('__proto__')!.get(0), t.getChild('n')!.get(0), t.getChild('s')!.get(0)], [1, 2, 'a'])
    } finally {
      await v.close()
    }
  })
})
