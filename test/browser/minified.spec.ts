import { expect, test, type BrowserContext, type Page } from '@playwright/test'
import type { ErrorReport } from './minified-app/main.js'

// A page built by Vite in production mode (test/browser/minified-app, built by scripts/build.mjs):
// class names are mangled there, as in users' apps (issue 8, items 17, 19, 20, 22).

type App = {
  labvault: typeof import('../../src/index.js')
  VaultWorker: new () => Worker
  wasmUrl: string
  report(expected: string, fn: () => Promise<unknown>): Promise<ErrorReport | 'resolved'>
  classNames(): string[]
}
declare global {
  interface Window {
    app: App
    appReady: boolean
  }
}

async function appPage(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  await page.goto('/dist-test/minified/index.html')
  await page.waitForFunction(() => window.appReady === true)
  return page
}

const typed = (name: string, code: string) => ({ name, code, isExpected: true, isVaultError: true })

test('errors keep name, code and class in a minified build, thrown on the page and in the worker', async ({ context }) => {
  const page = await appPage(context)
  // The premise: this build really renamed the classes.
  expect(await page.evaluate(() => window.app.classNames())).not.toContain('NotFoundError')
  const r = await page.evaluate(async () => {
    const { labvault, VaultWorker, wasmUrl, report } = window.app
    const v = await labvault.openVault('min-errors', { worker: new VaultWorker(), wasmUrl })
    await v.columns.create('c', 'f64')
    const p = await v.processes.start('job')
    await p.done()
    const out = {
      // Thrown on the page (validation before anything is sent).
      pageInvalid: await report('InvalidArgumentError', () => v.kv().set('x', () => 1)),
      // Thrown in the worker, rebuilt on the page.
      workerNotFound: await report('NotFoundError', () => v.columns.get('missing')),
      workerExists: await report('AlreadyExistsError', () => v.columns.create('c', 'f64')),
      workerInvalid: await report('InvalidArgumentError', () => v.lists.create('l', { type: 'bogus' as 'document' })),
      workerConflict: await report('ConflictError', () => v.processes.pause(p.id)),
      workerNotFoundKey: await report('NotFoundError', () => v.kv().getOrThrow('nope')),
      pageConflict: undefined as unknown,
    }
    out.pageConflict = await report('ConflictError', () => labvault.deleteVault('min-errors'))
    await v.close()
    return out
  })
  expect(r.pageInvalid).toMatchObject(typed('InvalidArgumentError', 'INVALID_ARGUMENT'))
  expect(r.pageConflict).toMatchObject(typed('ConflictError', 'CONFLICT'))
  expect(r.workerNotFound).toMatchObject(typed('NotFoundError', 'NOT_FOUND'))
  expect(r.workerExists).toMatchObject(typed('AlreadyExistsError', 'ALREADY_EXISTS'))
  expect(r.workerInvalid).toMatchObject(typed('InvalidArgumentError', 'INVALID_ARGUMENT'))
  expect(r.workerConflict).toMatchObject(typed('ConflictError', 'CONFLICT'))
  expect(r.workerNotFoundKey).toMatchObject(typed('NotFoundError', 'NOT_FOUND'))
})

test('a wrong wasmUrl is InvalidArgumentError naming wasmUrl, through the worker and on the page thread', async ({ context }) => {
  const page = await appPage(context)
  const r = await page.evaluate(async () => {
    const { labvault, VaultWorker, report } = window.app
    return {
      worker: await report('InvalidArgumentError', () => labvault.openVault('min-wasm', { worker: new VaultWorker(), wasmUrl: '/no-such.wasm' })),
      page: await report('InvalidArgumentError', () => labvault.openVault('min-wasm-page', { worker: false, storage: 'indexeddb', wasmUrl: '/no-such.wasm' })),
    }
  })
  for (const x of [r.worker, r.page]) {
    expect(x).toMatchObject(typed('InvalidArgumentError', 'INVALID_ARGUMENT'))
    expect((x as ErrorReport).message).toMatch(/wasmUrl/)
  }
})

test('a wasm that failed to load (a 503) is loaded again by the next open on the page thread, not failed from memory', async ({ context }) => {
  const page = await appPage(context)
  const realUrl = new URL(await page.evaluate(() => window.app.wasmUrl), page.url()).href
  let requests = 0
  await page.route('**/flaky-sql-wasm.wasm', async (route) => {
    requests++
    if (requests === 1) return route.fulfill({ status: 503, contentType: 'text/html', body: '<h1>deploy in progress</h1>' })
    return route.fulfill({ response: await route.fetch({ url: realUrl }) })
  })
  const r = await page.evaluate(async () => {
    const { labvault, report } = window.app
    const options = { worker: false, storage: 'indexeddb', wasmUrl: '/flaky-sql-wasm.wasm' } as const
    const first = await report('InvalidArgumentError', () => labvault.openVault('min-flaky-wasm', options))
    const v = await labvault.openVault('min-flaky-wasm', options)
    await v.kv().set('a', 1)
    const a = await v.kv().get('a')
    await v.close()
    await labvault.deleteVault('min-flaky-wasm', { storage: 'indexeddb', worker: false })
    return { first, a }
  })
  expect(r.first).toMatchObject(typed('InvalidArgumentError', 'INVALID_ARGUMENT'))
  expect((r.first as ErrorReport).message).toMatch(/wasmUrl.*503/)
  expect(r.a).toBe(1)
  expect(requests).toBe(2)
})

test('listVaults and deleteVault as the README shows (no worker option, or worker: false) settle', async ({ context }) => {
  const page = await appPage(context)
  const r = await page.evaluate(async () => {
    const { labvault, VaultWorker, wasmUrl } = window.app
    for (const storage of ['opfs', 'indexeddb'] as const) {
      const v = await labvault.openVault(`min-list-${storage}`, { worker: new VaultWorker(), wasmUrl, storage })
      await v.kv().set('a', 1)
      await v.close()
    }
    return {
      auto: await labvault.listVaults(),
      idb: await labvault.listVaults({ storage: 'indexeddb' }),
      noWorker: await labvault.listVaults({ worker: false }),
      deleted: await labvault.deleteVault('min-list-opfs'),
      deletedIdb: await labvault.deleteVault('min-list-indexeddb', { storage: 'indexeddb', worker: false }),
      again: await labvault.deleteVault('min-list-opfs'),
      after: await labvault.listVaults(),
      afterIdb: await labvault.listVaults({ storage: 'indexeddb' }),
    }
  })
  expect(r.auto).toContain('min-list-opfs')
  // `auto` with worker: false is what openVault with worker: false opens: IndexedDB (its engine on
  // the page has no OPFS), not the OPFS vaults a worker would open.
  expect(r.noWorker).toContain('min-list-indexeddb')
  expect(r.noWorker).not.toContain('min-list-opfs')
  expect(r.idb).toContain('min-list-indexeddb')
  expect(r.deleted).toBe(true)
  expect(r.deletedIdb).toBe(true)
  expect(r.again).toBe(false)
  expect(r.after).not.toContain('min-list-opfs')
  expect(r.afterIdb).not.toContain('min-list-indexeddb')
})

test('openVault without a worker option in a bundled app fails with a typed error instead of hanging', async ({ context }) => {
  const page = await appPage(context)
  // The default worker URL (next to the bundled module) does not exist in a Vite build.
  const r = await page.evaluate(() => window.app.report('UnsupportedError', () => window.app.labvault.openVault('min-default')))
  expect(r).toMatchObject(typed('UnsupportedError', 'UNSUPPORTED'))
  expect((r as ErrorReport).message).toMatch(/worker/)
})

for (const storage of ['opfs', 'indexeddb'] as const) {
  test(`deleteVault of a vault open in another tab is ConflictError and changes nothing (${storage})`, async ({ context }) => {
    const a = await appPage(context)
    const b = await appPage(context)
    const name = `min-open-${storage}`
    await a.evaluate(
      async ([name, storage]) => {
        const { labvault, VaultWorker, wasmUrl } = window.app
        await labvault.deleteVault(name, { storage })
        const v = await labvault.openVault(name, { worker: new VaultWorker(), wasmUrl, storage })
        await v.kv().set('kept', 'yes')
        ;(window as unknown as { v: typeof v }).v = v
      },
      [name, storage] as const,
    )
    const refused = await b.evaluate(([name, storage]) => window.app.report('ConflictError', () => window.app.labvault.deleteVault(name, { storage })), [name, storage] as const)
    expect(refused).toMatchObject(typed('ConflictError', 'CONFLICT'))
    // A's vault is intact and still takes writes that a reopen finds.
    const stillThere = await a.evaluate(async () => {
      const v = (window as unknown as { v: Awaited<ReturnType<typeof window.app.labvault.openVault>> }).v
      await v.kv().set('after', 2)
      const out = [await v.kv().get('kept'), await v.kv().get('after')]
      await v.close()
      return out
    })
    expect(stillThere).toEqual(['yes', 2])
    const afterClose = await b.evaluate(
      async ([name, storage]) => {
        const { labvault, VaultWorker, wasmUrl } = window.app
        const v = await labvault.openVault(name, { worker: new VaultWorker(), wasmUrl, storage })
        const seen = [await v.kv().get('kept'), await v.kv().get('after')]
        await v.close()
        return { seen, deleted: await labvault.deleteVault(name, { storage }), names: await labvault.listVaults({ storage }) }
      },
      [name, storage] as const,
    )
    expect(afterClose.seen).toEqual(['yes', 2])
    expect(afterClose.deleted).toBe(true)
    expect(afterClose.names).not.toContain(name)
  })
}
