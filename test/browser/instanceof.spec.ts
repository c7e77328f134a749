/**
 * The browser entry exports stand-ins for the domain classes (src/browser-domain-exports.ts), and
 * the vault's accessors hand out lazy clients (src/client/lazy-domains.ts): `vault.columns
 * instanceof Columns` (and every other accessor against its class) holds at once, before the
 * client's module loaded (loading nothing), and after; an accessor is not an instance of another class.
 */
import { expect, test } from '@playwright/test'

declare global {
  interface Window {
    labvault: typeof import('../../src/index.js')
    harnessReady?: boolean
  }
}

test('vault accessors are instances of the exported classes, before and after their clients load', async ({ page }) => {
  await page.goto('/dist-test/harness.html')
  await page.waitForFunction(() => window.harnessReady === true)
  const r = await page.evaluate(async () => {
    const L = window.labvault
    const v = await L.openVault(`instanceof-${Math.random().toString(36).slice(2)}`, { storage: 'memory' })
    // The package's own chunks are named without a hash (columns-client.js), an app's with one.
    const chunks = () => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname.split('/').pop()!).filter((f) => /^(columns|items|tables|store)-client[-.]/.test(f))
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
    const before = pairs()
    const loadedBefore = chunks()
    const wrong = [v.columns instanceof L.Tables, v.tables instanceof L.Columns, v.store.arrays instanceof L.Store, ({}) instanceof L.Columns, v.kv() instanceof L.Columns]
    const c = await v.columns.create('c', 'i32')
    const docs = await v.lists.create('docs', { type: 'document' })
    await v.tables.create('t')
    await v.store.listRuns()
    const proc = await v.processes.start('p')
    await v.processes.list()
    const after = pairs()
    const handle = proc instanceof L.ProcessHandle
    await proc.done()
    const real = [c instanceof L.Column, docs instanceof L.DocumentList, docs instanceof L.ItemList, c instanceof L.Columns]
    await v.close()
    return { before, loadedBefore, wrong, after, real, handle, loadedAfter: chunks().length > 0 }
  })
  const all = { columns: true, lists: true, lineage: true, search: true, sessions: true, tables: true, builders: true, artifacts: true, code: true, store: true, arrays: true, projects: true, processes: true, database: true }
  expect(r.before).toEqual(all)
  expect(r.loadedBefore).toEqual([])
  expect(r.wrong).toEqual([false, false, false, false, false])
  expect(r.after).toEqual(all)
  expect(r.real).toEqual([true, true, true, false])
  expect(r.handle).toBe(true)
  expect(r.loadedAfter).toBe(true)
})
