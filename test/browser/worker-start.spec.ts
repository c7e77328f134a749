import { expect, test, type Page } from '@playwright/test'
import { engineChunkName, harness } from './harness.js'

// Issue 13's two hangs. 1: Firefox's `navigator.storage.persist()` waits for a permission prompt
// (headless: forever), and opening a vault awaited it. 2: a worker that cannot start (a bundled
// page's default worker URL is a 404) must reject at once with a typed error, and a page says once
// where its worker is (`configure`). Build first: npm run build.

test('a vault opens, writes and reads while navigator.storage.persist() never settles', async ({ page }) => {
  await page.addInitScript(() => {
    // As Firefox behaves until the user answers its prompt.
    Object.defineProperty(StorageManager.prototype, 'persist', { value: () => new Promise(() => {}), configurable: true })
    Object.defineProperty(StorageManager.prototype, 'persisted', { value: () => Promise.resolve(false), configurable: true })
  })
  await harness(page)
  const result = await page.evaluate(async () => {
    const { openVault, deleteVault } = window.labvault
    const out: unknown[] = []
    for (const storage of ['opfs', 'indexeddb'] as const) {
      const v = await openVault(`persist-pending-${storage}`, { storage })
      await v.kv().set('k', { storage })
      out.push(await v.kv().get('k'))
      out.push((await v.info()).storageEstimate?.persisted)
      await v.close()
      await deleteVault(`persist-pending-${storage}`, { storage })
    }
    return out
  })
  expect(result).toEqual([{ storage: 'opfs' }, undefined, { storage: 'indexeddb' }, undefined])
})

test('a worker URL that is a 404 rejects with UnsupportedError; configure() says once where the worker is', async ({ page }) => {
  await harness(page)
  const result = await page.evaluate(async () => {
    const { openVault, deleteVault, listVaults, configure } = window.labvault
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (err: { name?: string; code?: string; message?: string }) => `${err.name} ${err.code}: ${err.message}`,
      )
    const out: Record<string, unknown> = {}
    // An explicit worker URL that is a 404, in both ways an engine starts (tab sharing, and a memory vault's own worker).
    out.option = await outcome(openVault('w404', { storage: 'opfs', worker: '/no-such-folder/vault.worker.js' }))
    out.memory = await outcome(openVault('w404m', { storage: 'memory', worker: '/no-such-folder/vault.worker.js' }))
    // A bundled page's situation: the default location is wrong; listing and deleting start no worker.
    configure({ assetBase: '/no-such-folder/' })
    out.configuredBad = await outcome(openVault('w404c', { storage: 'indexeddb' }))
    out.list = Array.isArray(await listVaults({ storage: 'opfs' }))
    out.delete = await deleteVault('w404c', { storage: 'opfs' })
    // Said once: a factory, used by every open that gives no worker of its own.
    let made = 0
    configure({ worker: () => (made++, new Worker('/dist/browser/vault.worker.js', { type: 'module' })), wasmUrl: '/dist/browser/sql-wasm.wasm' })
    for (const storage of ['opfs', 'indexeddb'] as const) {
      const v = await openVault(`configured-${storage}`, { storage })
      await v.kv().set('k', storage)
      out[storage] = await v.kv().get('k')
      await v.close()
      await deleteVault(`configured-${storage}`, { storage })
    }
    out.made = made
    // A URL said once works too; configure({}) restores the default (next to the module).
    configure({ worker: '/dist/browser/vault.worker.js' })
    const byUrl = await openVault('configured-url', { storage: 'memory' })
    out.byUrl = await byUrl.kv().set('a', 1).then(() => byUrl.kv().get('a'))
    await byUrl.close()
    configure({})
    const plain = await openVault('configured-none', { storage: 'memory' })
    await plain.close()
    // Bad configurations are refused up front.
    out.workerObject = await outcome(Promise.resolve().then(() => configure({ worker: new Worker('/dist/browser/vault.worker.js', { type: 'module' }) as never })))
    out.unknownKey = await outcome(Promise.resolve().then(() => configure({ workr: 'x' } as never)))
    out.badFactory = await outcome(openVault('bad-factory', { storage: 'memory', worker: (() => 42) as never }))
    return out
  })
  expect(result.option).toMatch(/^UnsupportedError UNSUPPORTED: the labvault worker failed to start/)
  expect(result.memory).toMatch(/^UnsupportedError UNSUPPORTED: the labvault worker failed to start/)
  expect(result.configuredBad).toMatch(/^UnsupportedError UNSUPPORTED: the labvault worker failed to start/)
  expect(result.list).toBe(true)
  expect(result.delete).toBe(false)
  expect(result.opfs).toBe('opfs')
  expect(result.indexeddb).toBe('indexeddb')
  expect(result.made).toBe(2)
  expect(result.byUrl).toBe(1)
  expect(result.workerObject).toMatch(/^InvalidArgumentError INVALID_ARGUMENT: configure\(\): option "worker" is a Worker object/)
  expect(result.unknownKey).toMatch(/^InvalidArgumentError INVALID_ARGUMENT: unknown option "workr" of configure/)
  expect(result.badFactory).toMatch(/^InvalidArgumentError INVALID_ARGUMENT: option "worker" is a function that returned number/)
})

test('a Vite-built page: the default worker URL is a 404 and rejects at once; configure() once with the bundled worker, then everything works', async ({ page }) => {
  // test/browser/minified-app, built by Vite (scripts/build.mjs): labvault is bundled into the page,
  // so "next to the module" is the page's assets folder, where no vault.worker.js is.
  await page.goto('/dist-test/minified/index.html')
  await page.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true)
  const result = await page.evaluate(async () => {
    const { labvault, VaultWorker, wasmUrl } = (window as unknown as { app: { labvault: typeof import('../../src/index.js'); VaultWorker: new () => Worker; wasmUrl: string } }).app
    const out: Record<string, unknown> = {}
    out.unconfigured = await labvault.openVault('bundled', { storage: 'opfs' }).then(
      () => 'resolved',
      (err: { code?: string; message?: string }) => `${err.code}: ${err.message}`,
    )
    out.listed = Array.isArray(await labvault.listVaults())
    out.deletedMissing = await labvault.deleteVault('bundled')
    labvault.configure({ worker: () => new VaultWorker(), wasmUrl })
    const v = await labvault.openVault('bundled')
    await v.kv().set('k', 'bundled')
    out.value = await v.kv().get('k')
    await v.close()
    out.listedAfter = (await labvault.listVaults()).includes('bundled')
    out.deleted = await labvault.deleteVault('bundled')
    return out
  })
  expect(result.unconfigured).toMatch(/^UNSUPPORTED: the labvault worker failed to start/)
  expect(result).toMatchObject({ listed: true, deletedMissing: false, value: 'bundled', listedAfter: true, deleted: true })
})

/** Opens the harness page and makes vault `existing` anew (holding k = 'before'); `fresh`, if named, is deleted. */
async function seedVault(page: Page, existing: string, fresh?: string): Promise<void> {
  await harness(page)
  await page.evaluate(
    async ([existing, fresh]) => {
      const { openVault, deleteVault } = window.labvault
      await deleteVault(existing!, { storage: 'opfs' })
      if (fresh) await deleteVault(fresh, { storage: 'opfs' })
      const v = await openVault(existing!, { storage: 'opfs' })
      await v.kv().set('k', 'before')
      await v.close()
    },
    [existing, fresh],
  )
}

test("the worker answers before its engine's code loads: a chunk that does not download rejects the open of an existing vault, and the first write of a new one, with UnsupportedError; a later open works", async ({ page }) => {
  // The worker's first script is a small boot (src/worker/worker-boot.ts) that imports the engine's
  // chunk; the page's handshake succeeds without it, so its failure must reach the caller, not hang.
  // A vault that does not exist yet answers its first reads before its engine has opened
  // (test/browser/new-vault.spec.ts): there the failure comes with the first call that needs the engine.
  const chunk = engineChunkName()
  await seedVault(page, 'engine-chunk-missing', 'engine-chunk-missing-new')
  await page.route(`**/dist/browser/${chunk}`, (route) => route.abort())
  const failed = await page.evaluate(async () => {
    const { openVault } = window.labvault
    const outcome = (p: Promise<unknown>) =>
      p.then(
        (v) => `resolved ${JSON.stringify(v)}`,
        (err: { name?: string; code?: string; message?: string }) => `${err.name} ${err.code}: ${err.message}`,
      )
    const existing = await outcome(openVault('engine-chunk-missing', { storage: 'opfs', lockTimeoutMs: 30_000 }))
    const fresh = await openVault('engine-chunk-missing-new', { storage: 'opfs', lockTimeoutMs: 30_000 })
    const out = { existing, freshGet: await outcome(fresh.kv().get('k')), freshSet: await outcome(fresh.kv().set('k', 1)), freshClose: await outcome(fresh.close()) }
    return out
  })
  const unsupported = /^UnsupportedError UNSUPPORTED: the labvault worker could not load the engine's code .*vault-worker-\*\.js/
  expect(failed.existing).toMatch(unsupported)
  expect(failed.freshGet).toBe('resolved undefined')
  expect(failed.freshSet).toMatch(unsupported)
  expect(failed.freshClose).toBe('resolved undefined')
  await page.unroute(`**/dist/browser/${chunk}`)
  const value = await page.evaluate(async () => {
    const { openVault, deleteVault, listVaults } = window.labvault
    const v = await openVault('engine-chunk-missing', { storage: 'opfs' })
    const before = await v.kv().get('k')
    await v.kv().set('k', 'loaded')
    const got = await v.kv().get('k')
    await v.close()
    await deleteVault('engine-chunk-missing', { storage: 'opfs' })
    // The new vault's failed open created nothing.
    const listed = (await listVaults({ storage: 'opfs' })).includes('engine-chunk-missing-new')
    return { before, got, listed }
  })
  expect(value).toEqual({ before: 'before', got: 'loaded', listed: false })
})

test("a slow download of the engine's code: an open that takes longer than lockTimeoutMs waits for it (the timeout bounds a wait for a leader, not this tab's own open)", async ({ page }) => {
  // On a slow network the first open of a page downloads the engine's chunk and sql.js's wasm (~1 MB)
  // while its tab holds the leader lock. Before, that open failed with LockTimeoutError after
  // lockTimeoutMs (default 10 s), and a new vault's first write did too.
  const chunk = engineChunkName()
  await seedVault(page, 'slow-engine', 'slow-engine-new')
  await page.route(`**/dist/browser/${chunk}`, async (route) => {
    await new Promise((r) => setTimeout(r, 1500))
    await route.continue()
  })
  const out = await page.evaluate(async () => {
    const { openVault, deleteVault } = window.labvault
    const t0 = performance.now()
    const v = await openVault('slow-engine', { storage: 'opfs', lockTimeoutMs: 300 })
    const existing = { got: await v.kv().get('k'), ms: performance.now() - t0 }
    await v.close()
    const fresh = await openVault('slow-engine-new', { storage: 'opfs', lockTimeoutMs: 300 })
    await fresh.kv().set('k', 'new')
    const freshGot = await fresh.kv().get('k')
    await fresh.close()
    await deleteVault('slow-engine', { storage: 'opfs' })
    await deleteVault('slow-engine-new', { storage: 'opfs' })
    return { existing, freshGot }
  })
  expect(out.existing.got).toBe('before')
  // The delay was in effect: the open waited for the download.
  expect(out.existing.ms).toBeGreaterThan(1000)
  expect(out.freshGot).toBe('new')
})

test("openVault's signal stops an open that waits for the engine's slow download: AbortError at once, and what the open went on to open is closed", async ({ page }) => {
  // Before, the signal was looked at only before and after the open (src/client/abortable-open.ts).
  const chunk = engineChunkName()
  await seedVault(page, 'abort-open')
  await page.route(`**/dist/browser/${chunk}`, async (route) => {
    await new Promise((r) => setTimeout(r, 2000))
    await route.continue()
  })
  const out = await page.evaluate(async () => {
    const { openVault, deleteVault } = window.labvault
    const controller = new AbortController()
    const opening = openVault('abort-open', { storage: 'opfs', signal: controller.signal })
    const ended = opening.then(
      () => 'resolved',
      (err: { name?: string }) => String(err?.name),
    )
    const early = await Promise.race([ended, new Promise((r) => setTimeout(() => r('waiting'), 200))])
    const t0 = performance.now()
    controller.abort()
    const name = await ended
    const abortMs = performance.now() - t0
    // The same vault opens again in this tab (the aborted open's leader steps down once its engine
    // is ready and closed) and still holds what was written before.
    const v = await openVault('abort-open', { storage: 'opfs' })
    const got = await v.kv().get('k')
    await v.kv().set('k2', 'after')
    const got2 = await v.kv().get('k2')
    await v.close()
    await deleteVault('abort-open', { storage: 'opfs' })
    return { early, name, abortMs, got, got2 }
  })
  expect(out.early).toBe('waiting')
  expect(out.name).toBe('AbortError')
  // Rejected long before the engine's code arrived (the download was held back 2 s).
  expect(out.abortMs).toBeLessThan(1000)
  expect(out.got).toBe('before')
  expect(out.got2).toBe('after')
})

test('a worker that fails after the open (an uncaught error): the calls it had not answered reject with ClosedError, as do later ones, instead of waiting forever', async ({ page }) => {
  await harness(page)
  const result = await page.evaluate(async () => {
    const { openVault, deleteVault } = window.labvault
    // The real worker, behind a listener of its own that goes first (a module the worker's script
    // imports before the real one): a call naming the key 'die-now' is never answered (the worker's
    // own listener does not see it: src/worker/serve-calls.ts), and the worker throws.
    const real = new URL('/dist/browser/vault.worker.js', location.href).href
    const blobUrl = (code: string) => URL.createObjectURL(new Blob([code], { type: 'text/javascript' }))
    const trap = blobUrl(`self.addEventListener('message', (e) => {
      if (Array.isArray(e.data) && e.data[1] === 'call' && JSON.stringify(e.data[2] ?? []).includes('die-now')) {
        e.stopImmediatePropagation()
        throw new Error('boom in the worker')
      }
    })`)
    const url = blobUrl(`import ${JSON.stringify(trap)}\nimport ${JSON.stringify(real)}\n`)
    const outcome = (p: Promise<unknown>) =>
      p.then(
        (v) => `resolved ${JSON.stringify(v)}`,
        (err: { name?: string; code?: string; message?: string }) => `${err.name} ${err.code}: ${err.message}`,
      )
    const v = await openVault('worker-dies', { storage: 'opfs', worker: () => new Worker(url, { type: 'module' }) })
    await v.kv().set('k', 'kept')
    const before = await v.kv().get('k')
    const dying = outcome(v.kv().get('die-now'))
    const out = { before, dying: await dying, after: await outcome(v.kv().get('k')), closed: await outcome(v.close()) }
    // Nothing acknowledged is lost: the vault opens again, in a fresh worker, with the write.
    const again = await openVault('worker-dies', { storage: 'opfs' })
    const kept = await again.kv().get('k')
    await again.close()
    await deleteVault('worker-dies', { storage: 'opfs' })
    return { ...out, kept }
  })
  expect(result.before).toBe('kept')
  expect(result.dying).toMatch(/^ClosedError CLOSED: the labvault worker stopped after an uncaught error \(.*boom in the worker\)/)
  expect(result.after).toMatch(/^ClosedError CLOSED: the labvault worker stopped after an uncaught error/)
  expect(result.kept).toBe('kept')
})
