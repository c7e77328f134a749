// Versioned tables built by stored code, used carelessly or with hostile intent (Node, memory and
// fs): keepOld when the primary key changed, generators that never end, and what a builder returns.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError, NotFoundError, openVault, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'
import { dumpTables } from './tables-support.js'

const dir = tempDir('labvault-tables-builders-hostile-')
let counter = 0
const STORAGES = ['memory', 'fs'] as const
const open = (storage: (typeof STORAGES)[number]) => openVault(`bh-${++counter}`, storage === 'fs' ? { storage, path: dir } : { storage })

const MODULE = `
export const rows = (a) => a.rows
export const ids = (a) => ({ id: Int32Array.from({ length: a.n }, (_, i) => i) })
export async function counted(a, ctx) { globalThis.__bhCalls = (globalThis.__bhCalls ?? 0) + 1; return ctx.index }
export async function* forever() { const t0 = performance.now(); let i = 0; for (;;) { for (let k = 0; k < 200; k++) await null; yield i++; if (performance.now() - t0 > 3000) return } }
export function* foreverSync() { const t0 = performance.now(); let i = 0; for (;;) { yield i++; if (performance.now() - t0 > 3000) return } }
`

/** A table whose index builder returns `rows` (its argument) with these dtypes and key. */
async function indexTable(vault: Vault, name: string, spec: Record<string, unknown>, copy = false): Promise<void> {
  if (!copy) await vault.tables.create(name)
  await vault.tables.createInstance(name, copy ? { copy: true } : {})
  await vault.tables.builders.create(name, `${name}_index`, { kind: 'index', returnType: 'rows', function: { module: 'm', export: 'rows' }, ...spec } as never)
}

const values = async (vault: Vault, table: string, column: string): Promise<unknown[]> => [...(await vault.tables.get(table)).table.getChild(column)!]

for (const storage of STORAGES) {
  describe(`tables: builders used carelessly (${storage})`, { timeout: 120_000 }, () => {
    test('keepOld after the key column changed dtype (i32 → i64): an origin row whose key is among the new ones is not kept twice', async () => {
      const vault = await open(storage)
      await vault.code.create('m', MODULE)
      await indexTable(vault, 'k', { changedColumns: ['id'], keepOld: true, arguments: { rows: [{ id: 1 }, { id: 2 }] }, dtypes: { id: 'i32' } })
      await vault.tables.execute('k')
      await indexTable(vault, 'k', { changedColumns: ['id'], keepOld: true, arguments: { rows: [{ id: 2 }, { id: 3 }] }, dtypes: { id: 'i64' } }, true)
      await vault.tables.execute('k')
      // Before: 1n, 2n, 2n, 3n (the origin's 2 was not the new 2n, so it was kept beside it).
      assert.deepEqual(await values(vault, 'k', 'id'), [1n, 2n, 3n])
      await vault.close()
    })

    test('keepOld after the primary key lost a column: origin rows that now share a key are refused (InvalidArgumentError), nothing changes', async () => {
      const vault = await open(storage)
      await vault.code.create('m', MODULE)
      const two = [{ a: 1, b: 'x' }, { a: 1, b: 'y' }]
      await indexTable(vault, 'n', { changedColumns: ['a', 'b'], primaryKey: ['a', 'b'], keepOld: true, arguments: { rows: two }, dtypes: { a: 'i32', b: 'str:utf8' } })
      await vault.tables.execute('n')
      await indexTable(vault, 'n', { changedColumns: ['a', 'b'], primaryKey: ['a'], keepOld: true, arguments: { rows: [{ a: 2, b: 'z' }] }, dtypes: { a: 'i32', b: 'str:utf8' } }, true)
      const before = await dumpTables(vault)
      // Before: materialised with the key a = 1 twice.
      await assert.rejects(vault.tables.execute('n'), (e) => e instanceof InvalidArgumentError && /keepOld: origin rows 0 and 1 have the same primary key \(a\) = 1/.test(e.message))
      assert.deepEqual(await dumpTables(vault), before)
      await vault.close()
    })

    for (const gen of ['forever', 'foreverSync']) {
      test(`an index generator that never ends (${gen}, steps settling through microtasks only): execute's signal ends it`, async () => {
        const vault = await open(storage)
        await vault.code.create('m', MODULE)
        await indexTable(vault, 'g', { changedColumns: ['id'], returnType: 'generator', function: { module: 'm', export: gen }, dtypes: { id: 'i32' } })
        const before = await dumpTables(vault)
        const started = performance.now()
        // Before: the timer never fired (the thread never left the microtask queue) and the
        // generator, which gives up by itself after 3 s here, materialised its rows.
        await assert.rejects(vault.tables.execute('g', { signal: AbortSignal.timeout(200) }), (e) => (e as Error).name === 'TimeoutError')
        assert.ok(performance.now() - started < 2500, `aborted after ${Math.round(performance.now() - started)} ms`)
        assert.deepEqual(await dumpTables(vault), before)
        await vault.close()
      })
    }

    test('row-wise async calls that settle at once (no macrotask): the signal ends the run, not the last row', async () => {
      const vault = await open(storage)
      await vault.code.create('m', MODULE)
      const n = 1_000_000
      await indexTable(vault, 'r', { changedColumns: ['id'], function: { module: 'm', export: 'ids' }, arguments: { n }, dtypes: { id: 'i32' } })
      await vault.tables.builders.create('r', 'c', { changedColumns: ['c'], function: { module: 'm', export: 'counted' }, dtypes: { c: 'i32' } })
      const g = globalThis as { __bhCalls?: number }
      g.__bhCalls = 0
      // Progress is polled on a timer: a report of some but not all rows comes only if the run
      // gives timers a turn; it aborts then.
      const ac = new AbortController()
      const onProgress = (p: { builder: string; done: number }): void => {
        if (p.builder === 'c' && p.done > 0 && p.done < n) ac.abort(new Error('enough'))
      }
      await assert.rejects(vault.tables.execute('r', { signal: ac.signal, onProgress }), /enough/)
      // Before: no timer ran until every row was computed, and execute resolved.
      assert.ok(g.__bhCalls < n, `${g.__bhCalls} of ${n} rows computed after the abort`)
      await vault.close()
    })

    test('a reference to a column another table lacks: NotFoundError naming it and the columns the table has', async () => {
      const vault = await open(storage)
      await vault.code.create('m', MODULE)
      await vault.tables.create('src')
      await vault.tables.write('src', { id: [1], v: ['a'] })
      await indexTable(vault, 'x', { changedColumns: ['id'], arguments: { rows: '<<src.nope>>' } })
      const before = await dumpTables(vault)
      // Before: "(its columns: )", the columns loaded for the reference (none) rather than the table's.
      await assert.rejects(vault.tables.execute('x'), (e) => e instanceof NotFoundError && e.message.includes('table "src" has no column "nope" (its columns: id, v)'))
      assert.deepEqual(await dumpTables(vault), before)
      await vault.close()
    })

    test('a code module exporting a function named then (a thenable namespace) loads, and that function builds', async () => {
      const vault = await open(storage)
      await vault.code.create('m', MODULE)
      await vault.code.create('thenable', 'export function then(args, ctx) { return `then ${ctx.index}` }\n')
      await indexTable(vault, 'th', { changedColumns: ['id'], function: { module: 'm', export: 'ids' }, arguments: { n: 2 }, dtypes: { id: 'i32' } })
      await vault.tables.builders.create('th', 'c', { changedColumns: ['c'], function: { module: 'thenable', export: 'then' }, dtypes: { c: 'str:utf8' } })
      // Before: the module's import never settled (it resolved to its own then(resolve, reject),
      // which never calls either): execute hung until its signal aborted it.
      await vault.tables.execute('th', { signal: AbortSignal.timeout(20_000) })
      assert.deepEqual(await values(vault, 'th', 'c'), ['then 0', 'then 1'])
      await vault.close()
    })

    test('execute with background that is not a boolean: InvalidArgumentError, nothing runs', async () => {
      const vault = await open(storage)
      await vault.code.create('m', MODULE)
      await indexTable(vault, 'bg', { changedColumns: ['id'], arguments: { rows: [{ id: 1 }] } })
      const before = await dumpTables(vault)
      // Before: `background: 1` (or "true") ran in the foreground, as if left out.
      for (const background of [1, 'true', null]) {
        await assert.rejects(vault.tables.execute('bg', { background } as never), (e) => e instanceof InvalidArgumentError && /background must be a boolean/.test(e.message))
      }
      assert.deepEqual(await dumpTables(vault), before)
      await vault.close()
    })
  })
}
