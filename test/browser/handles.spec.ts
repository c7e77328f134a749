/**
 * Several tabs on one vault, each with its own options, and their lifecycles (issue 8, items 16,
 * 18 and 21): durability and read-only are per tab, honoured by the leader for each forwarded call;
 * closing a follower lets its writes in flight finish; a Worker passed in is not left running.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test'

declare global {
  interface Window {
    labvault: typeof import('../../src/index.js')
    harnessReady?: boolean
    v?: import('../../src/index.js').Vault
  }
}

async function page(context: BrowserContext): Promise<Page> {
  const p = await context.newPage()
  await p.goto('/dist-test/harness.html')
  await p.waitForFunction(() => window.harnessReady === true)
  return p
}

/** Open vault `name` in page `p` with these options (a `countingWorker` counts OPFS flushes). */
async function openIn(p: Page, name: string, options: Record<string, unknown> = {}, countingWorker = false): Promise<void> {
  await p.evaluate(
    async ([name, options, countingWorker]) => {
      let worker: Worker | undefined
      if (countingWorker) {
        // The engine's worker, with FileSystemSyncAccessHandle.flush counted; the count is asked for
        // on BroadcastChannel "flushes".
        const real = new URL('/dist/browser/vault.worker.js', location.href).href
        // A static import: the engine's message listener must be there before the first message.
        const src =
          `import ${JSON.stringify(real)};\n` +
          `const P = FileSystemSyncAccessHandle.prototype; const flush = P.flush; let n = 0;\n` +
          `P.flush = function () { n++; return flush.call(this) };\n` +
          `const bc = new BroadcastChannel('flushes'); bc.onmessage = (e) => { if (e.data === 'count?') bc.postMessage({ n }) };\n`
        worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' })
      }
      window.v = await window.labvault.openVault(name, { storage: 'opfs', ...options, ...(worker ? { worker } : {}) })
    },
    [name, options, countingWorker] as const,
  )
}

/** The leader engine's flush count so far (answered after everything it did before). */
const flushes = (p: Page) =>
  p.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const bc = new BroadcastChannel('flushes')
        bc.onmessage = (e) => {
          bc.close()
          resolve((e.data as { n: number }).n)
        }
        bc.postMessage('count?')
      }),
  )

async function reset(context: BrowserContext, name: string): Promise<void> {
  const p = await page(context)
  await p.evaluate((name) => window.labvault.deleteVault(name, { storage: 'opfs' }), name)
  await p.close()
}

const role = (p: Page) => p.evaluate(async () => (await window.v!.info()).tabRole)

const tryWrite = (p: Page, key: string) =>
  p.evaluate(async (key) => {
    try {
      await window.v!.kv().set(key, 1)
      return 'written'
    } catch (e) {
      return `${(e as Error).name}:${e instanceof window.labvault.UnsupportedError}`
    }
  }, key)

test('per-tab durability: a strict follower of a relaxed leader gets strict writes', async ({ context }) => {
  test.setTimeout(60_000)
  await reset(context, 'opts-dur')
  const leader = await page(context)
  await openIn(leader, 'opts-dur', { durability: 'relaxed' }, true)
  const strict = await page(context)
  await openIn(strict, 'opts-dur')
  expect(await role(leader)).toBe('leader')
  expect(await role(strict)).toBe('follower')
  // Let any flush scheduled by the opening (relaxed: within ~100 ms) happen first.
  await strict.waitForTimeout(400)
  for (let i = 0; i < 5; i++) {
    const before = await flushes(strict)
    await strict.evaluate((i) => window.v!.kv().set(`strict${i}`, i), i)
    expect(await flushes(strict)).toBeGreaterThan(before)
  }
  expect(await strict.evaluate(async () => (await window.v!.info()).durability)).toBe('strict')
  expect(await leader.evaluate(async () => (await window.v!.info()).durability)).toBe('relaxed')
  await strict.evaluate(() => window.v!.close())
  await leader.evaluate(() => window.v!.close())
})

test('per-tab read-only: a read-only tab cannot write; a writable tab writes while a read-only tab leads', async ({ context }) => {
  test.setTimeout(60_000)
  await reset(context, 'opts-ro')
  const creator = await page(context)
  await openIn(creator, 'opts-ro')
  await creator.evaluate(() => window.v!.kv().set('seed', 1))
  await creator.evaluate(() => window.v!.close())
  await creator.close()

  const reader = await page(context)
  await openIn(reader, 'opts-ro', { readOnly: true })
  expect(await role(reader)).toBe('leader')
  const writer = await page(context)
  await openIn(writer, 'opts-ro')
  expect(await role(writer)).toBe('follower')
  expect(await tryWrite(writer, 'w1')).toBe('written')
  expect(await writer.evaluate(() => window.v!.transaction(async (tx) => tx.kv().set('w2', 2)))).toBeUndefined()
  expect(await reader.evaluate(() => window.v!.kv().get('w1'))).toBe(1)
  expect(await tryWrite(reader, 'r1')).toBe('UnsupportedError:true')

  // A read-only follower of a writable leader cannot write either.
  const reader2 = await page(context)
  await openIn(reader2, 'opts-ro', { readOnly: true })
  expect(await role(reader2)).toBe('follower')
  expect(await tryWrite(reader2, 'r2')).toBe('UnsupportedError:true')
  expect(await reader2.evaluate(() => window.v!.transaction(async () => 1).then(() => 'ran', (e: Error) => e.name))).toBe('UnsupportedError')
  expect(await reader2.evaluate(() => window.v!.kv().get('w2'))).toBe(2)
  expect(await writer.evaluate(async () => [await window.v!.kv().has('r1'), await window.v!.kv().has('r2')])).toEqual([false, false])
  for (const p of [reader2, writer, reader]) await p.evaluate(() => window.v!.close())
})

test('closing a follower with 500 writes in flight: every write resolves, and the leader has all 500', async ({ context }) => {
  test.setTimeout(60_000)
  await reset(context, 'close-follower')
  const leader = await page(context)
  await openIn(leader, 'close-follower')
  const follower = await page(context)
  await openIn(follower, 'close-follower')
  expect(await role(follower)).toBe('follower')
  const outcome = await follower.evaluate(async () => {
    const writes = Array.from({ length: 500 }, (_, i) => window.v!.kv().set(`k${i}`, i))
    const settled = Promise.allSettled(writes)
    await window.v!.close()
    const results = await settled
    return {
      fulfilled: results.filter((r) => r.status === 'fulfilled').length,
      rejected: results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)).slice(0, 3),
      after: await window.v!.kv().set('late', 1).then(() => 'applied', (e: Error) => e.name),
    }
  })
  expect(outcome).toEqual({ fulfilled: 500, rejected: [], after: 'ClosedError' })
  expect(await leader.evaluate(() => window.v!.kv().size())).toBe(500)
  await leader.evaluate(() => window.v!.close())
})

test('a Worker passed to a follower tab is terminated when its vault closes (100 open/close leave no worker)', async ({ context }) => {
  test.setTimeout(120_000)
  await reset(context, 'passed-worker')
  const leader = await page(context)
  await openIn(leader, 'passed-worker')
  const follower = await page(context)
  const roles = await follower.evaluate(async () => {
    const seen: string[] = []
    for (let i = 0; i < 100; i++) {
      const worker = new Worker('/dist/browser/vault.worker.js', { type: 'module' })
      const v = await window.labvault.openVault('passed-worker', { storage: 'opfs', worker })
      seen.push((await v.info()).tabRole!)
      await v.close()
    }
    return [...new Set(seen)]
  })
  expect(roles).toEqual(['follower'])
  await expect.poll(() => follower.workers().length, { timeout: 10_000 }).toBe(0)
  // A failed open does not leave the worker running either.
  await follower.evaluate(async () => {
    const worker = new Worker('/dist/browser/vault.worker.js', { type: 'module' })
    await window.labvault.openVault('passed-worker', { storage: 'opfs', worker, durability: 'bogus' as 'strict' }).catch(() => {})
  })
  await expect.poll(() => follower.workers().length, { timeout: 10_000 }).toBe(0)
  await leader.evaluate(() => window.v!.close())
})
