import { expect, test, type Page } from '@playwright/test'

declare global {
  interface Window {
    labvault: typeof import('../../src/index.js')
    harnessReady?: boolean
    cdnBase?: string
  }
}

async function harness(page: Page, path = '/dist-test/harness.html'): Promise<void> {
  await page.goto(path)
  await page.waitForFunction(() => window.harnessReady === true)
}

for (const storage of ['opfs', 'indexeddb'] as const) {
  test(`key-value round trip through the worker with ${storage}`, async ({ page }) => {
    await harness(page)
    const result = await page.evaluate(async (storage) => {
      const { openVault, deleteVault, listVaults, NotFoundError, InvalidArgumentError } = window.labvault
      await deleteVault('rt', { storage })
      const v = await openVault('rt', { storage, author: 'pw' })
      const kv = v.kv()
      const values: [string, unknown][] = [
        ['null', null], ['num', 1.5], ['big', 2n ** 80n], ['str', 'ü✓'], ['bytes', new Uint8Array([1, 2, 3])],
        ['f32', new Float32Array([1.5, 2.5])], ['date', new Date(5)], ['map', new Map<unknown, unknown>([[1, { a: 1 }]])],
        ['set', new Set(['x'])], ['nested', { a: [1, { b: new Int16Array([-1]) }] }],
      ]
      for (const [k, val] of values) await kv.set(k, val)
      await kv.setMany(Array.from({ length: 1000 }, (_, i) => [`m${i}`, { i }] as const))
      const info = await v.info()
      let notFound = false
      try {
        await kv.getOrThrow('missing')
      } catch (e) {
        notFound = e instanceof NotFoundError && (e as { code: string }).code === 'NOT_FOUND'
      }
      let invalid = false
      try {
        await kv.set('f', (() => 1) as never)
      } catch (e) {
        invalid = e instanceof InvalidArgumentError
      }
      await v.close()
      const again = await openVault('rt', { storage, create: false })
      const back: Record<string, unknown> = {}
      for (const [k] of values) back[k] = await again.kv().get(k)
      const size = await again.kv().size()
      const got = await again.kv().getMany(['m0', 'm999', 'nope'])
      await again.close()
      let closed = false
      try {
        await again.kv().get('x')
      } catch (e) {
        closed = (e as { code: string }).code === 'CLOSED'
      }
      const names = await listVaults({ storage })
      const same = values.every(([k, val]) => {
        const b = back[k]
        if (val instanceof Map) return b instanceof Map && b.get(1)?.a === 1
        if (val instanceof Set) return b instanceof Set && b.has('x')
        if (val instanceof Date) return b instanceof Date && b.getTime() === val.getTime()
        if (ArrayBuffer.isView(val)) return Object.getPrototypeOf(b) === Object.getPrototypeOf(val) && JSON.stringify(Array.from(b as Uint8Array)) === JSON.stringify(Array.from(val as Uint8Array))
        return JSON.stringify(b, (_, x) => (typeof x === 'bigint' ? `${x}n` : x)) === JSON.stringify(val, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))
      })
      return { storage: info.storage, author: info.author, notFound, invalid, closed, same, size, got: [...got.keys()], listed: names.includes('rt'), estimate: info.storageEstimate !== undefined }
    }, storage)
    expect(result).toEqual({ storage, author: 'pw', notFound: true, invalid: true, closed: true, same: true, size: 1010, got: ['m0', 'm999'], listed: true, estimate: true })
  })
}

test('auto picks OPFS in Chromium; deleteVault removes the vault; a second open of an open vault follows the first', async ({ page }) => {
  await harness(page)
  const result = await page.evaluate(async () => {
    const { openVault, deleteVault, listVaults } = window.labvault
    const v = await openVault('auto-check')
    const storage = (await v.info()).storage
    // A second open of an open vault (here, or in another tab) joins it as a follower (docs/sharing.md).
    await v.kv().set('first', 1)
    const second = await openVault('auto-check', { storage: 'opfs' })
    const conflict = `${(await second.info()).tabRole}:${await second.kv().get('first')}`
    await second.close()
    await v.close()
    const deleted = await deleteVault('auto-check')
    const after = (await listVaults()).includes('auto-check')
    return { storage, deleted, after, conflict }
  })
  expect(result.storage).toBe('opfs')
  expect(result.deleted).toBe(true)
  expect(result.after).toBe(false)
  expect(result.conflict).toBe('follower:1')
})

test('the package imported from another origin (a CDN) starts its worker and finds its wasm', async ({ page }) => {
  await harness(page, '/dist-test/cdn.html')
  const result = await page.evaluate(async () => {
    const { openVault, deleteVault, NotFoundError } = window.labvault
    const out: Record<string, unknown> = { base: window.cdnBase }
    for (const [name, opts] of [['cdn-default', {}], ['cdn-assetbase', { assetBase: window.cdnBase }]] as const) {
      await deleteVault(name, opts)
      const v = await openVault(name, opts)
      await v.kv().set('k', { from: 'cdn' })
      out[name] = [(await v.kv().get('k')) as unknown, (await v.info()).storage]
      try {
        await v.kv().getOrThrow('nope')
      } catch (e) {
        out[name + ':typed'] = e instanceof NotFoundError
      }
      await v.close()
    }
    return out
  })
  expect(result['cdn-default']).toEqual([{ from: 'cdn' }, 'opfs'])
  expect(result['cdn-assetbase']).toEqual([{ from: 'cdn' }, 'opfs'])
  expect(result['cdn-default:typed']).toBe(true)
  expect(result['cdn-assetbase:typed']).toBe(true)
})

test('the Vite-built demo page writes and reads a vault in OPFS, and it persists across reloads', async ({ page }) => {
  // The demo (an experiment tracker) on a vault of its own; a note written in it is there after a reload.
  const url = `/demo/dist/index.html?vault=client-spec-${Date.now()}`
  await page.goto(url)
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
  await expect(page.locator('#storage')).toContainText('OPFS')
  await expect(page.locator('#notes-count')).toHaveText('0 notes')
  await page.fill('#notes-text', 'lr 0.001 looks stable')
  await page.click('#notes-add button')
  await expect(page.locator('#notes-latest')).toContainText('lr 0.001 looks stable')
  await page.reload()
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
  await expect(page.locator('#notes-count')).toHaveText('1 note')
  await expect(page.locator('#notes-latest')).toContainText('lr 0.001 looks stable')
  // The dataset was loaded once: the features table has its single instance still.
  await expect(page.locator('#instances tbody tr')).toHaveCount(1)
})

test('with worker: false, storage auto means IndexedDB for listVaults, deleteVault and importVault, as for openVault', async ({ page }) => {
  // Found by probing: openVault(n, { worker: false }) opened IndexedDB while listVaults and
  // deleteVault with the same options went to OPFS: the delete removed the OPFS vault of that name
  // (another vault) and left the one the page had opened.
  await harness(page)
  const r = await page.evaluate(async () => {
    const { openVault, deleteVault, listVaults, exportVault, importVault } = window.labvault
    for (const storage of ['opfs', 'indexeddb'] as const) await deleteVault('auto-nw', { storage })
    const onPage = await openVault('auto-nw', { worker: false })
    await onPage.kv().set('where', 'page')
    await onPage.close()
    const inWorker = await openVault('auto-nw', { storage: 'opfs' })
    await inWorker.kv().set('where', 'worker')
    await inWorker.close()
    const archive = await exportVault('auto-nw', { storage: 'opfs' })
    const listed = await listVaults({ worker: false })
    const idbListed = (await listVaults({ storage: 'indexeddb' })).includes('auto-nw')
    const deleted = await deleteVault('auto-nw', { worker: false })
    const idbAfter = (await listVaults({ storage: 'indexeddb' })).includes('auto-nw')
    const opfsAfter = (await listVaults({ storage: 'opfs' })).includes('auto-nw')
    // importVault with worker: false goes where such a page opens vaults (before: UnsupportedError, OPFS needs a worker).
    await importVault('auto-nw', archive, { worker: false })
    const imported = await openVault('auto-nw', { worker: false })
    const importedWhere = await imported.kv().get('where')
    await imported.close()
    for (const storage of ['opfs', 'indexeddb'] as const) await deleteVault('auto-nw', { storage })
    return { listed: listed.includes('auto-nw'), idbListed, deleted, idbAfter, opfsAfter, importedWhere }
  })
  expect(r).toEqual({ listed: true, idbListed: true, deleted: true, idbAfter: false, opfsAfter: true, importedWhere: 'worker' })
})

test('the engine can run on the page thread with IndexedDB (worker: false)', async ({ page }) => {
  await harness(page)
  const result = await page.evaluate(async () => {
    const { openVault, deleteVault } = window.labvault
    await deleteVault('inpage', { storage: 'indexeddb', worker: false })
    const v = await openVault('inpage', { storage: 'indexeddb', worker: false })
    await v.kv().set('a', [1, 2])
    await v.close()
    const w = await openVault('inpage', { storage: 'indexeddb' })
    const a = await w.kv().get('a')
    await w.close()
    return a
  })
  expect(result).toEqual([1, 2])
})
