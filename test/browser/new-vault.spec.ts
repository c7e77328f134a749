import { expect, test, type Page, type Route } from '@playwright/test'
import { engineChunkName, harness } from './harness.js'

// A new vault answers its first reads before its engine has opened (src/sharing/tabs/tab-sharing.ts,
// "A new vault"; docs/cold-start.md). Each test holds back the worker's engine chunk, so the only way
// a read can be answered meanwhile is that path, and checks that nothing is answered that the engine
// would have answered otherwise. Build first: npm run build.

declare global {
  interface Window {
    v?: import('../../src/index.js').Vault
    pending?: Promise<unknown>
    settled?: string
  }
}

/** Hold back the engine's chunk for this page until `release()`: the worker cannot open a vault meanwhile. */
async function holdEngine(page: Page): Promise<{ release: () => void; requested: Promise<void> }> {
  let release!: () => void
  const released = new Promise<void>((r) => (release = r))
  let requested!: () => void
  const seen = new Promise<void>((r) => (requested = r))
  await page.route(`**/dist/browser/${engineChunkName()}`, async (route: Route) => {
    requested()
    await released
    await route.continue()
  })
  return { release, requested: seen }
}

test('a new vault answers get and has before its engine has loaded; writes wait for the engine, then everything is there and reopens', async ({ page }) => {
  await harness(page)
  await page.evaluate(() => window.labvault.deleteVault('nv-reads', { storage: 'opfs' }))
  const engine = await holdEngine(page)
  const early = await page.evaluate(async () => {
    performance.clearMarks()
    const v = (window.v = await window.labvault.openVault('nv-reads', { storage: 'opfs' }))
    const out = {
      get: await v.kv().get('a'),
      fallback: await v.kv().get('a', 'none'),
      has: await v.kv().has('a'),
      bytesKey: await v.kv('other').get(new Uint8Array([0, 255])),
      // Refused on the page, as always (the engine's check is the same: test/node/kv-new-vault.test.ts).
      bad: await Promise.resolve().then(() => v.kv().get(42 as never)).then(() => 'answered', (e: { name?: string }) => String(e.name)),
      marks: performance.getEntriesByName('labvault:new-vault').length,
    }
    // A write goes to the engine, which cannot open yet: it stays pending.
    window.settled = 'no'
    window.pending = v.kv().set('a', { n: 1 }).then(() => (window.settled = 'yes'))
    return out
  })
  expect(early).toEqual({ get: undefined, fallback: 'none', has: false, bytesKey: undefined, bad: 'InvalidArgumentError', marks: 1 })
  await engine.requested
  // Still held: the write cannot have been answered.
  expect(await page.evaluate(() => window.settled)).toBe('no')
  engine.release()
  const after = await page.evaluate(async () => {
    await window.pending
    const v = window.v!
    const out = { get: await v.kv().get('a'), has: await v.kv().has('a'), role: (await v.info()).tabRole }
    await v.close()
    performance.clearMarks()
    const again = await window.labvault.openVault('nv-reads', { storage: 'opfs' })
    const reopened = { get: await again.kv().get('a'), marks: performance.getEntriesByName('labvault:new-vault').length }
    await again.close()
    return { ...out, reopened, deleted: await window.labvault.deleteVault('nv-reads', { storage: 'opfs' }) }
  })
  // The existing vault is not answered for: its reads went to the engine (no mark).
  expect(after).toEqual({ get: { n: 1 }, has: true, role: 'leader', reopened: { get: { n: 1 }, marks: 0 }, deleted: true })
})

test("a new vault: once this page has made any other call, reads wait for the engine behind it; bad arguments get the engine's typed error", async ({ page }) => {
  await harness(page)
  await page.evaluate(() => window.labvault.deleteVault('nv-order', { storage: 'opfs' }))
  const engine = await holdEngine(page)
  await page.evaluate(async () => {
    const v = (window.v = await window.labvault.openVault('nv-order', { storage: 'opfs' }))
    // Not awaited: the read after it must not overtake it.
    void v.kv().set('k', 'written').catch(() => {})
    window.settled = 'no'
    window.pending = v.kv().get('unrelated').then((x) => (window.settled = `read ${String(x)}`))
  })
  await engine.requested
  // The read made after the write is not answered while the engine is held (it would be at once).
  await page.waitForTimeout(300)
  expect(await page.evaluate(() => window.settled)).toBe('no')
  engine.release()
  const out = await page.evaluate(async () => {
    await window.pending
    const v = window.v!
    const kinds: string[] = []
    for (const bad of [() => v.kv('').get('a'), () => v.kv().get(42 as never), () => v.kv().has('\uD800')]) {
      kinds.push(await Promise.resolve().then(bad).then(() => 'answered', (e: { name?: string }) => String(e.name)))
    }
    const value = await v.kv().get('k')
    await v.close()
    await window.labvault.deleteVault('nv-order', { storage: 'opfs' })
    return { settled: window.settled, kinds, value }
  })
  expect(out).toEqual({ settled: 'read undefined', kinds: ['InvalidArgumentError', 'InvalidArgumentError', 'InvalidArgumentError'], value: 'written' })
})

test('a new vault: a write another page made through this leader is seen by this page once acknowledged', async ({ context }) => {
  const a = await context.newPage()
  await harness(a)
  await a.evaluate(() => window.labvault.deleteVault('nv-tabs', { storage: 'opfs' }))
  const engine = await holdEngine(a)
  expect(await a.evaluate(async () => {
    window.v = await window.labvault.openVault('nv-tabs', { storage: 'opfs' })
    return window.v.kv().get('x')
  })).toBeUndefined()
  const b = await context.newPage()
  await harness(b)
  // b follows a (a holds the leader lock): its open and write wait for a's engine.
  await b.evaluate(() => {
    window.settled = 'no'
    window.pending = window.labvault.openVault('nv-tabs', { storage: 'opfs' }).then(async (v) => {
      window.v = v
      await v.kv().set('x', 'from b')
      window.settled = 'yes'
    })
  })
  // Not acknowledged yet, so a's answer (nothing) is still right.
  expect(await a.evaluate(() => window.v!.kv().get('x'))).toBeUndefined()
  engine.release()
  await b.evaluate(() => window.pending)
  expect(await b.evaluate(async () => [window.settled, (await window.v!.info()).tabRole])).toEqual(['yes', 'follower'])
  expect(await a.evaluate(async () => [await window.v!.kv().get('x'), await window.v!.kv().has('x')])).toEqual(['from b', true])
  await b.evaluate(() => window.v!.close())
  const deleted = await a.evaluate(async () => {
    await window.v!.close()
    return window.labvault.deleteVault('nv-tabs', { storage: 'opfs' })
  })
  expect(deleted).toBe(true)
})

test('a new vault closed while its engine opens: close() resolves once the engine has let the files go', async ({ page }) => {
  await harness(page)
  await page.evaluate(() => window.labvault.deleteVault('nv-close', { storage: 'opfs' }))
  const engine = await holdEngine(page)
  await page.evaluate(async () => {
    const v = await window.labvault.openVault('nv-close', { storage: 'opfs' })
    await v.kv().get('a')
    window.settled = 'no'
    window.pending = v.close().then(() => (window.settled = 'closed'))
  })
  await engine.requested
  await page.waitForTimeout(200)
  expect(await page.evaluate(() => window.settled)).toBe('no')
  engine.release()
  const out = await page.evaluate(async () => {
    await window.pending
    // Right after close(): the vault exists (the engine created it) and nothing holds it.
    const deleted = await window.labvault.deleteVault('nv-close', { storage: 'opfs' })
    const again = await window.labvault.openVault('nv-close', { storage: 'opfs' })
    await again.kv().set('b', 2)
    const b = await again.kv().get('b')
    await again.close()
    return { deleted, b, deletedAgain: await window.labvault.deleteVault('nv-close', { storage: 'opfs' }) }
  })
  expect(out).toEqual({ deleted: true, b: 2, deletedAgain: true })
})

test('a vault that must exist is never answered for: readOnly and create: false reject the open of a missing vault', async ({ page }) => {
  await harness(page)
  const out = await page.evaluate(async () => {
    performance.clearMarks()
    const outcome = (p: Promise<unknown>) => p.then(() => 'opened', (e: { name?: string }) => String(e.name))
    return {
      readOnly: await outcome(window.labvault.openVault('nv-missing', { storage: 'opfs', readOnly: true })),
      noCreate: await outcome(window.labvault.openVault('nv-missing', { storage: 'opfs', create: false })),
      marks: performance.getEntriesByName('labvault:new-vault').length,
      listed: (await window.labvault.listVaults({ storage: 'opfs' })).includes('nv-missing'),
    }
  })
  expect(out).toEqual({ readOnly: 'NotFoundError', noCreate: 'NotFoundError', marks: 0, listed: false })
})
