/**
 * A page's life as a notebook lives it (round twenty-four): cells that open a vault again and
 * again, handles closed late or never, workers the page itself stops. Every promise must settle,
 * nothing acknowledged may be lost, and the vault must stay usable (and deletable once closed).
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test'

declare global {
  interface Window {
    labvault: typeof import('../../src/index.js')
    harnessReady?: boolean
    v?: import('../../src/index.js').Vault
    workers?: Worker[]
  }
}

async function page(context: BrowserContext): Promise<Page> {
  const p = await context.newPage()
  await p.goto('/dist-test/harness.html')
  await p.waitForFunction(() => window.harnessReady === true)
  return p
}

/**
 * Open `name` in `p` with a worker factory that keeps every Worker it makes on `window.workers`,
 * as a page that holds on to its workers (and may terminate them) does.
 */
const openKeepingWorkers = (p: Page, name: string) =>
  p.evaluate(async (name) => {
    window.workers = []
    const url = new URL('/dist/browser/vault.worker.js', location.href)
    window.v = await window.labvault.openVault(name, {
      storage: 'opfs',
      worker: () => {
        const w = new Worker(url, { type: 'module' })
        window.workers!.push(w)
        return w
      },
    })
  }, name)

/** What a call came to, within `ms` (a call still pending then is reported as 'hang'). */
const settle = (p: Page, call: string, ms = 20_000) =>
  p.evaluate(
    ([call, ms]) =>
      Promise.race([
        (new Function('v', `return ${call}`)(window.v) as Promise<unknown>).then(
          (value) => `ok ${JSON.stringify(value ?? null)}`,
          (e: Error) => `${e.name}`,
        ),
        new Promise<string>((r) => setTimeout(() => r('hang'), ms)),
      ]),
    [call, ms] as const,
  )

test('a worker the page terminates while its tab leads alone: no call hangs, the next calls run on a fresh engine, and the vault closes and can be deleted', async ({ context }) => {
  test.setTimeout(90_000)
  const a = await page(context)
  await a.evaluate(() => window.labvault.deleteVault('life-term-1', { storage: 'opfs' }))
  await openKeepingWorkers(a, 'life-term-1')
  expect(await settle(a, `v.kv().set('a', 1)`)).toBe('ok null')
  // A write issued just before the page stops the worker: applied or not, it must settle, and
  // "maybe" is a ConflictError (never ClosedError, which says "not applied").
  const inFlight = a.evaluate(() =>
    Promise.race([
      window.v!.kv().set('in-flight', 1).then(
        () => 'ok',
        (e: Error) => e.name,
      ),
      new Promise<string>((r) => setTimeout(() => r('hang'), 20_000)),
    ]),
  )
  await a.evaluate(() => window.workers![0]!.terminate())
  expect(['ok', 'ConflictError']).toContain(await inFlight)
  // Before, every later call waited forever (the tab led with a dead engine), close() too, and a
  // new openVault of the vault timed out: the tab held its leader lock.
  expect(await settle(a, `v.kv().set('b', 2)`)).toBe('ok null')
  expect(await settle(a, `v.kv().get('a')`)).toBe('ok 1')
  expect(await settle(a, `v.kv().get('b')`)).toBe('ok 2')
  expect(await a.evaluate(() => window.workers!.length)).toBe(2)
  expect(await settle(a, `v.close()`)).toBe('ok null')
  expect(await a.evaluate(() => window.labvault.deleteVault('life-term-1', { storage: 'opfs' }))).toBe(true)
})

test('a worker the page terminates while its tab leads others: a follower tab takes over, nobody hangs, nothing acknowledged is lost', async ({ context }) => {
  test.setTimeout(90_000)
  const a = await page(context)
  await a.evaluate(() => window.labvault.deleteVault('life-term-2', { storage: 'opfs' }))
  await openKeepingWorkers(a, 'life-term-2')
  const b = await page(context)
  await b.evaluate(async () => {
    window.v = await window.labvault.openVault('life-term-2', { storage: 'opfs' })
  })
  expect(await settle(a, `v.info().then((i) => i.tabRole)`)).toBe('ok "leader"')
  expect(await settle(b, `v.kv().set('from-b', 1)`)).toBe('ok null')
  await a.evaluate(() => window.workers![0]!.terminate())
  // The follower's writes went to the dead worker and waited forever; now the next leader answers.
  expect(await settle(b, `v.kv().set('from-b-after', 2)`)).toBe('ok null')
  expect(await settle(b, `v.kv().get('from-b')`)).toBe('ok 1')
  expect(await settle(a, `v.kv().get('from-b-after')`)).toBe('ok 2')
  expect(await settle(a, `v.kv().set('from-a-after', 3)`)).toBe('ok null')
  expect(await settle(b, `v.kv().get('from-a-after')`)).toBe('ok 3')
  expect(await settle(a, `v.close()`)).toBe('ok null')
  expect(await settle(b, `v.close()`)).toBe('ok null')
  expect(await a.evaluate(() => window.labvault.deleteVault('life-term-2', { storage: 'opfs' }))).toBe(true)
})
