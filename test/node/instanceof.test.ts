import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as L from '../../src/node.js'

// Node's entry exports the real client classes, and the vault's accessors hand out lazy clients
// (src/client/lazy-domains.ts): `instanceof` must hold for both, as it does in the browser entry
// (test/browser/instanceof.spec.ts), and stay false across classes.

test('vault accessors are instances of the exported classes on Node, before and after their clients load', async () => {
  const v = await L.openVault(`instanceof-${Math.random().toString(36).slice(2)}`, { storage: 'memory' })
  try {
    const pairs = () => ({
      columns: v.columns instanceof L.Columns,
      lists: v.lists instanceof L.ItemLists,
      lineage: v.lineage instanceof L.Lineage,
      search: v.search instanceof L.Search,
      sessions: v.sessions instanceof L.Sessions,
      tables: v.tables instanceof L.Tables,
      builders: v.tables.builders instanceof L.Builders,
      artifacts: v.tables.artifacts('t') instanceof L.TableArtifacts,
      code: v.code instanceof L.CodeModules,
      store: v.store instanceof L.Store,
      arrays: v.store.arrays instanceof L.StoreArrays,
      projects: v.store.projects instanceof L.StoreProjects,
      processes: v.processes instanceof L.Processes,
      database: v.databaseClient() instanceof L.DatabaseClient,
    })
    const all = { columns: true, lists: true, lineage: true, search: true, sessions: true, tables: true, builders: true, artifacts: true, code: true, store: true, arrays: true, projects: true, processes: true, database: true }
    assert.deepEqual(pairs(), all)
    // Across classes, plain objects and primitives: false.
    assert.deepEqual(
      [v.columns instanceof L.Tables, v.tables instanceof L.Columns, v.store.arrays instanceof L.Store, ({}) instanceof L.Columns, v.kv() instanceof L.Columns, (null as unknown) instanceof L.Columns, (1 as unknown) instanceof L.Columns],
      [false, false, false, false, false, false, false],
    )
    const c = await v.columns.create('c', 'i32')
    const docs = await v.lists.create('docs', { type: 'document' })
    await v.tables.create('t')
    await v.store.listRuns()
    const proc = await v.processes.start('p')
    await proc.done()
    assert.deepEqual(pairs(), all)
    // Real instances keep the ordinary check, subclasses included; a lazy client of a subclass's
    // base does not make a real instance of another class.
    assert.deepEqual([c instanceof L.Column, docs instanceof L.DocumentList, docs instanceof L.ItemList, docs instanceof L.RecordList, c instanceof L.Columns, proc instanceof L.ProcessHandle], [true, true, true, false, false, true])
  } finally {
    await v.close()
  }
})
