import { expect, test, type BrowserContext, type Page } from '@playwright/test'

declare global {
  interface Window {
    labvault: typeof import('../../src/index.js')
    harnessReady?: boolean
    v?: import('../../src/index.js').Vault
    running?: Promise<unknown>
  }
}

// Executing a table locks it across tabs: in another tab, execute and createInstance on it fail with
// LockTimeoutError after lockTimeoutMs, while reads of it and operations on other tables go on.

async function tab(context: BrowserContext, name: string, lockTimeoutMs?: number): Promise<Page> {
  const page = await context.newPage()
  await page.goto('/dist-test/harness.html')
  await page.waitForFunction(() => window.harnessReady === true)
  await page.evaluate(async ([name, lockTimeoutMs]) => {
    window.v = await window.labvault.openVault(name as string, { storage: 'opfs', ...(lockTimeoutMs ? { lockTimeoutMs: lockTimeoutMs as number } : {}) })
  }, [name, lockTimeoutMs ?? 0] as const)
  return page
}

test('two tabs: a table executing in one is locked for execute and createInstance in the other; reads and other tables go on', async ({ context }) => {
  test.setTimeout(60_000)
  const name = `tables-locks-${Date.now()}`
  const a = await tab(context, name)
  await a.evaluate(async () => {
    const v = window.v!
    await v.code.create('m', 'export const rows = () => Array.from({ length: 30 }, (_, k) => ({ k }))\nexport async function slow(a) { await new Promise((r) => setTimeout(r, 60)); return a.k + 1 }\n')
    await v.tables.create('stories')
    await v.tables.create('other')
    await v.tables.write('stories', { k: [0] }, { version: 'old' })
    await v.tables.createInstance('stories')
    await v.tables.builders.create('stories', 'stories_index', { kind: 'index', changedColumns: ['k'], function: { module: 'm', export: 'rows' }, returnType: 'rows', dtypes: { k: 'i32' } })
    await v.tables.builders.create('stories', 's', { kind: 'column', changedColumns: ['s'], function: { module: 'm', export: 'slow' }, arguments: { k: '<<self.k[index]>>' } })
    window.running = v.tables.execute('stories')
    while ((await v.tables.locks()).length === 0) await new Promise((r) => setTimeout(r, 10))
  })
  const b = await tab(context, name, 200)
  const seen = await b.evaluate(async () => {
    const v = window.v!
    const outcome = async (p: Promise<unknown>) => p.then(() => 'ok', (e: Error) => `${e.name}:${e instanceof window.labvault.LockTimeoutError}`)
    return {
      execute: await outcome(v.tables.execute('stories')),
      createInstance: await outcome(v.tables.createInstance('stories', { version: 'v2' })),
      read: (await v.tables.get('stories', { version: 'old' })).table.numRows,
      otherTable: await outcome(v.tables.write('other', { x: [1] })),
      newTable: await outcome(v.tables.create('llm_storage')),
      locked: (await v.tables.locks()).map((l) => l.table),
    }
  })
  expect(seen).toEqual({ execute: 'LockTimeoutError:true', createInstance: 'LockTimeoutError:true', read: 1, otherTable: 'ok', newTable: 'ok', locked: ['stories'] })
  const rows = await a.evaluate(async () => {
    await window.running
    return (await window.v!.tables.get('stories')).table.numRows
  })
  expect(rows).toBe(30)
  // Unlocked once it is done.
  expect(await b.evaluate(async () => (await window.v!.tables.createInstance('stories', { copy: true })).instanceId)).toBe('TEMP_base')
  await a.evaluate(() => window.v!.close())
  await b.evaluate(() => window.v!.close())
})
