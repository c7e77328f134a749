import { expect, test, type Page, type BrowserContext } from '@playwright/test'

declare global {
  interface Window {
    labvault: typeof import('../../src/index.js')
    harnessReady?: boolean
    v?: import('../../src/index.js').Vault
  }
}

async function member(context: BrowserContext, name: string, storage: 'opfs' | 'indexeddb' = 'opfs'): Promise<Page> {
  const page = await context.newPage()
  await page.goto('/dist-test/harness.html')
  await page.waitForFunction(() => window.harnessReady === true)
  await page.evaluate(async ([name, storage]) => {
    window.v = await window.labvault.openVault(name, { storage: storage as 'opfs' })
  }, [name, storage] as const)
  return page
}

/** Delete vault `name` (OPFS) from a page of its own, so that a test starts from nothing. */
async function deleteVault(context: BrowserContext, name: string): Promise<void> {
  const page = await context.newPage()
  await page.goto('/dist-test/harness.html')
  await page.waitForFunction(() => window.harnessReady === true)
  await page.evaluate((name) => window.labvault.deleteVault(name, { storage: 'opfs' }), name)
  await page.close()
}

const role = (p: Page) => p.evaluate(async () => (await window.v!.info()).tabRole)

test('three pages on one vault: one leader, the others forward; reads see acknowledged writes', async ({ context }) => {
  test.setTimeout(60_000)
  await deleteVault(context, 'tabs-1')
  const pages = [await member(context, 'tabs-1'), await member(context, 'tabs-1'), await member(context, 'tabs-1')]
  const roles = await Promise.all(pages.map(role))
  expect(roles.filter((r) => r === 'leader')).toHaveLength(1)
  expect(roles.filter((r) => r === 'follower')).toHaveLength(2)
  // Every page writes; after its write is acknowledged, every page reads it.
  for (let i = 0; i < pages.length; i++) {
    await pages[i]!.evaluate(async (i) => window.v!.kv().set(`from${i}`, { i }), i)
    for (const p of pages) expect(await p.evaluate(async (i) => window.v!.kv().get(`from${i}`), i)).toEqual({ i })
  }
  // Typed errors survive forwarding.
  const code = await pages[2]!.evaluate(async () => {
    try {
      await window.v!.kv().getOrThrow('missing')
      return 'none'
    } catch (e) {
      return `${(e as Error).name}:${(e as { code: string }).code}:${e instanceof window.labvault.NotFoundError}`
    }
  })
  expect(code).toBe('NotFoundError:NOT_FOUND:true')
  // A follower's read sent right after an unawaited write of its own sees that write.
  const overtaken = await pages[roles.indexOf('follower')]!.evaluate(async () => {
    const bad: number[] = []
    for (let i = 0; i < 30; i++) {
      const write = window.v!.kv().set(`seq${i}`, i)
      if ((await window.v!.kv().get(`seq${i}`)) !== i) bad.push(i)
      await write
    }
    return bad
  })
  expect(overtaken).toEqual([])
  // Transactions from two followers and the leader never lose an update.
  await Promise.all(
    pages.map((p) =>
      p.evaluate(async () => {
        for (let i = 0; i < 20; i++) {
          await window.v!.transaction(async (tx) => {
            const n = ((await tx.kv().get('n')) as number | undefined) ?? 0
            await tx.kv().set('n', n + 1)
          })
        }
      }),
    ),
  )
  expect(await pages[1]!.evaluate(() => window.v!.kv().get('n'))).toBe(60)
  // Forwarding cost: a read in a follower against the same read in the leader.
  const leader = pages[roles.indexOf('leader')]!
  const follower = pages[roles.indexOf('follower')]!
  const lat = (p: Page) =>
    p.evaluate(async () => {
      const t: number[] = []
      for (let i = 0; i < 200; i++) {
        const s = performance.now()
        await window.v!.kv().get('from0')
        t.push(performance.now() - s)
      }
      t.sort((a, b) => a - b)
      return t[100]!
    })
  const inLeader = await lat(leader)
  const inFollower = await lat(follower)
  console.log(`forwarded read: leader ${inLeader.toFixed(3)} ms, follower ${inFollower.toFixed(3)} ms (+${(inFollower - inLeader).toFixed(3)} ms)`)
  // The ≤ 2 ms goal is measured by `npm run bench` (bench/pages/tab-sharing-bench.mjs), not gated here.
  for (const p of pages) await p.evaluate(() => window.v!.close())
})

test('closing the leader mid-write: another page takes over within a second and no acknowledged write is lost', async ({ context }) => {
  test.setTimeout(60_000)
  await deleteVault(context, 'tabs-2')
  const a = await member(context, 'tabs-2')
  const b = await member(context, 'tabs-2')
  const c = await member(context, 'tabs-2')
  expect(await role(a)).toBe('leader')
  await a.evaluate(() => window.v!.lists.create('log', { type: 'document' }))
  // The followers write (a set, then an append) continuously and record what was acknowledged, and when.
  for (const [p, tag] of [[b, 'b'], [c, 'c']] as const) {
    await p.evaluate((tag) => {
      const w = window as unknown as { acked: number[]; ackTimes: number[]; errors: string[]; stop: boolean; appended: [string, number][] }
      w.acked = []
      w.ackTimes = []
      w.errors = []
      w.appended = []
      w.stop = false
      void (async () => {
        const log = await window.v!.lists.get<import('../../src/index.js').DocumentList>('log')
        for (let i = 0; !w.stop; i++) {
          try {
            await window.v!.kv().set(`${tag}${i}`, i)
            w.appended.push([`${tag}${i} `, await log.append(`${tag}${i} `)])
            w.acked.push(i)
            w.ackTimes.push(Date.now())
          } catch (e) {
            w.errors.push(String(e))
          }
        }
      })()
    }, tag)
  }
  // The leader also writes; close it in the middle of its writes.
  await a.evaluate(() => {
    void (async () => {
      for (let i = 0; ; i++) await window.v!.kv().set(`a${i}`, i)
    })()
  })
  await b.waitForFunction(() => (window as unknown as { acked: number[] }).acked.length > 20)
  const closedAt = Date.now()
  await a.close()
  await b.waitForFunction((t) => (window as unknown as { ackTimes: number[] }).ackTimes.some((x) => x > t + 50), closedAt, { timeout: 10_000 })
  const failover = await b.evaluate((t) => (window as unknown as { ackTimes: number[] }).ackTimes.find((x) => x > t)! - t, closedAt)
  console.log(`leader failover: next acknowledged write ${failover} ms after the leader closed`)
  // Taking over at all is checked here (the wait above); the < 1 s goal is measured by `npm run bench`.
  const acked: Record<string, number[]> = {}
  for (const [p, tag] of [[b, 'b'], [c, 'c']] as const) {
    acked[tag] = await p.evaluate(() => {
      const w = window as unknown as { acked: number[]; stop: boolean }
      w.stop = true
      return w.acked
    })
  }
  await new Promise((r) => setTimeout(r, 200))
  const roles = [await role(b), await role(c)]
  expect(roles.sort()).toEqual(['follower', 'leader'])
  // Every acknowledged write is there, read from either page.
  for (const [tag, list] of Object.entries(acked)) {
    const missing = await c.evaluate(
      async ([tag, list]) => {
        const out: number[] = []
        for (const i of list as number[]) if ((await window.v!.kv().get(`${tag}${i}`)) !== i) out.push(i as number)
        return out
      },
      [tag, list] as const,
    )
    expect(missing).toEqual([])
  }
  // Appends in flight when the leader closed were re-sent to the new one: each landed exactly once,
  // at the index its caller was given.
  const appended = [
    ...(await b.evaluate(() => (window as unknown as { appended: [string, number][] }).appended)),
    ...(await c.evaluate(() => (window as unknown as { appended: [string, number][] }).appended)),
  ]
  const log = await c.evaluate(() => window.v!.lists.get<import('../../src/index.js').DocumentList>('log').then((l) => l.slice()))
  expect(new Set(log).size).toBe(log.length)
  for (const [text, index] of appended) expect(log[index]).toBe(text)
  expect(appended.length).toBeGreaterThan(20)
  for (const p of [b, c]) await p.evaluate(() => window.v!.close())
})

test('a follower page that dies inside a transaction: the leader rolls it back at once, writers are not held', async ({ context }) => {
  test.setTimeout(60_000)
  await deleteVault(context, 'tabs-3')
  const a = await member(context, 'tabs-3')
  const b = await member(context, 'tabs-3')
  expect(await role(a)).toBe('leader')
  expect(await role(b)).toBe('follower')
  // The follower opens a transaction, writes in it, and never finishes it.
  await b.evaluate(() => {
    const w = window as unknown as { inTransaction: boolean }
    w.inTransaction = false
    void window.v!.transaction(async (tx) => {
      await tx.kv().set('uncommitted', 1)
      w.inTransaction = true
      await new Promise(() => {})
    })
  })
  await b.waitForFunction(() => (window as unknown as { inTransaction: boolean }).inTransaction)
  // While it is open, the leader's writes wait for it (transactions are serialised).
  const waiting = await a.evaluate(async () => {
    const write = window.v!.kv().set('during', 1).then(() => 'written')
    return Promise.race([write, new Promise((r) => setTimeout(() => r('waiting'), 300))])
  })
  expect(waiting).toBe('waiting')
  // The follower's page goes away: its transaction is rolled back well before the 60 s timeout.
  await b.close()
  const after = await a.evaluate(async () => {
    const started = Date.now()
    const write = window.v!.kv().set('after', 1).then(() => Date.now() - started)
    return Promise.race([write, new Promise((r) => setTimeout(() => r('still blocked after 15 s'), 15_000))])
  })
  expect(typeof after).toBe('number')
  expect(await a.evaluate(() => window.v!.kv().get('uncommitted'))).toBeUndefined()
  expect(await a.evaluate(() => window.v!.kv().get('during'))).toBe(1)
  expect(await a.evaluate(() => window.v!.kv().get('after'))).toBe(1)
  await a.evaluate(() => window.v!.close())
})

test('a leader page being frozen steps down: the next page takes over, nothing acknowledged is lost, and it rejoins on resume', async ({ context }) => {
  test.setTimeout(90_000)
  await deleteVault(context, 'tabs-4')
  const a = await member(context, 'tabs-4')
  const b = await member(context, 'tabs-4')
  expect(await role(a)).toBe('leader')
  await a.evaluate(() => window.v!.lists.create('log', { type: 'document' }))
  // The follower writes continuously (a set, then an append) and records what was acknowledged.
  await b.evaluate(() => {
    const w = window as unknown as { acked: number[]; appended: [string, number][]; stop: boolean; errors: string[] }
    w.acked = []
    w.appended = []
    w.errors = []
    w.stop = false
    void (async () => {
      const log = await window.v!.lists.get<import('../../src/index.js').DocumentList>('log')
      for (let i = 0; !w.stop; i++) {
        try {
          await window.v!.kv().set(`b${i}`, i)
          w.appended.push([`b${i} `, await log.append(`b${i} `)])
          w.acked.push(i)
        } catch (e) {
          w.errors.push(String(e))
        }
      }
    })()
  })
  await b.waitForFunction(() => (window as unknown as { acked: number[] }).acked.length > 20)
  // The leader starts a large write of its own, and is frozen while it runs. Headless Chromium does
  // not freeze a visible page (CDP Page.setWebLifecycleState has no effect here), so the page gets
  // the Page Lifecycle events the browser would send it.
  await a.evaluate(() => {
    const w = window as unknown as { bigOutcome?: string }
    void window
      .v!.kv()
      .setMany(Array.from({ length: 100_000 }, (_, i) => [`big${i}`, i] as [string, number]))
      .then(
        () => (w.bigOutcome = 'ok'),
        (e: Error) => (w.bigOutcome = e.name),
      )
    return new Promise<void>((r) =>
      setTimeout(() => {
        document.dispatchEvent(new Event('freeze'))
        r()
      }, 300),
    )
  })
  await expect.poll(() => role(b), { timeout: 15_000 }).toBe('leader')
  const bigOutcome = await a.evaluate(async () => {
    const w = window as unknown as { bigOutcome?: string }
    while (w.bigOutcome === undefined) await new Promise((r) => setTimeout(r, 20))
    return w.bigOutcome
  })
  // Its own write in flight either failed as "maybe applied" or went through the new leader; the
  // vault holds all of it or none of it, never a part.
  const bigCount = await b.evaluate(async () => (await window.v!.kv().keys({ prefix: 'big' })).length)
  console.log(`leader frozen mid-setMany: ${bigOutcome}, ${bigCount} of 100000 keys present`)
  expect(['ok', 'ConflictError']).toContain(bigOutcome)
  expect(bigOutcome === 'ok' ? [100_000] : [0, 100_000]).toContain(bigCount)
  // The frozen page, resumed, is a follower; its calls work through the new leader.
  await a.evaluate(() => document.dispatchEvent(new Event('resume')))
  expect(await role(a)).toBe('follower')
  await a.evaluate(() => window.v!.kv().set('from-a-after-resume', 1))
  expect(await b.evaluate(() => window.v!.kv().get('from-a-after-resume'))).toBe(1)
  // It queued for leadership again: when the new leader goes, it takes over.
  const acked = await b.evaluate(() => {
    const w = window as unknown as { acked: number[]; stop: boolean }
    w.stop = true
    return w.acked
  })
  const appended = await b.evaluate(() => (window as unknown as { appended: [string, number][] }).appended)
  await b.close()
  await expect.poll(() => role(a), { timeout: 15_000 }).toBe('leader')
  const missing = await a.evaluate(async (list) => {
    const out: number[] = []
    for (const i of list) if ((await window.v!.kv().get(`b${i}`)) !== i) out.push(i)
    return out
  }, acked)
  expect(missing).toEqual([])
  const log = await a.evaluate(() => window.v!.lists.get<import('../../src/index.js').DocumentList>('log').then((l) => l.slice()))
  expect(new Set(log).size).toBe(log.length)
  for (const [text, index] of appended) expect(log[index]).toBe(text)
  expect(await a.evaluate(() => window.v!.integrityCheck())).toEqual(['ok'])
  await a.evaluate(() => window.v!.close())
})

test('a leader page busy with long synchronous work does not hold up the other tabs', async ({ context }) => {
  test.setTimeout(60_000)
  await deleteVault(context, 'tabs-5')
  const a = await member(context, 'tabs-5')
  const b = await member(context, 'tabs-5')
  expect(await role(a)).toBe('leader')
  await b.evaluate(() => window.v!.kv().set('warm', 1))
  // The leader's main thread computes for 3 s (as a notebook cell might); the follower writes and
  // reads meanwhile: the leader's worker answers it.
  await a.evaluate(() => {
    const w = window as unknown as { busy: [number, number] }
    setTimeout(() => {
      const start = Date.now()
      while (Date.now() - start < 3000) {
        // busy
      }
      w.busy = [start, Date.now()]
    }, 100)
  })
  const done = await b.evaluate(async () => {
    await new Promise((r) => setTimeout(r, 600))
    const times: number[] = []
    for (let i = 0; i < 20; i++) {
      await window.v!.kv().set(`during${i}`, i)
      if ((await window.v!.kv().get(`during${i}`)) !== i) throw new Error('read back failed')
      times.push(Date.now())
    }
    return times
  })
  const busy = await a.evaluate(() => (window as unknown as { busy: [number, number] }).busy)
  // All 20 writes and reads were answered while the leader's page was still busy.
  expect(done[done.length - 1]!).toBeLessThan(busy[1])
  expect(done[0]!).toBeGreaterThan(busy[0])
  for (const p of [a, b]) await p.evaluate(() => window.v!.close())
})

test('a follower page frozen inside a transaction: the leader rolls it back at once; resumed, the transaction fails and the page works on', async ({ context }) => {
  test.setTimeout(60_000)
  await deleteVault(context, 'tabs-6')
  const a = await member(context, 'tabs-6')
  const b = await member(context, 'tabs-6')
  expect(await role(b)).toBe('follower')
  await b.evaluate(() => {
    const w = window as unknown as { step: string; txOutcome?: string; proceed?: () => void }
    w.step = 'start'
    void window
      .v!.transaction(async (tx) => {
        await tx.kv().set('in-frozen-tx', 1)
        w.step = 'written'
        await new Promise<void>((r) => (w.proceed = r))
        await tx.kv().set('after-resume-in-tx', 1)
      })
      .then(
        () => (w.txOutcome = 'committed'),
        (e: Error) => (w.txOutcome = e.name),
      )
  })
  await b.waitForFunction(() => (window as unknown as { step: string }).step === 'written')
  // Headless Chromium does not freeze a visible page; the page gets the lifecycle event instead.
  await b.evaluate(() => document.dispatchEvent(new Event('freeze')))
  const after = await a.evaluate(async () => {
    const write = window.v!.kv().set('leader-after', 1).then(() => 'written')
    return Promise.race([write, new Promise((r) => setTimeout(() => r('still blocked after 15 s'), 15_000))])
  })
  expect(after).toBe('written')
  expect(await a.evaluate(() => window.v!.kv().get('in-frozen-tx'))).toBeUndefined()
  // Resumed, the page's transaction finds itself gone, and nothing of it is committed.
  const outcome = await b.evaluate(async () => {
    const w = window as unknown as { txOutcome?: string; proceed: () => void }
    document.dispatchEvent(new Event('resume'))
    w.proceed()
    while (w.txOutcome === undefined) await new Promise((r) => setTimeout(r, 10))
    return w.txOutcome
  })
  expect(outcome).toBe('NotFoundError')
  expect(await a.evaluate(() => window.v!.kv().get('after-resume-in-tx'))).toBeUndefined()
  await b.evaluate(() => window.v!.kv().set('b-after-resume', 2))
  expect(await a.evaluate(() => window.v!.kv().get('b-after-resume'))).toBe(2)
  for (const p of [a, b]) await p.evaluate(() => window.v!.close())
})

test("a follower's watch across a failover: commits it could not hear of are reported as a '*' change, never silence", async ({ context }) => {
  test.setTimeout(90_000)
  await deleteVault(context, 'tabs-7')
  const a = await member(context, 'tabs-7')
  const c = await member(context, 'tabs-7')
  const b = await member(context, 'tabs-7')
  expect(await role(a)).toBe('leader')
  await b.evaluate(async () => {
    const w = window as unknown as { events: import('../../src/index.js').ChangeEvent[]; stopWatch: () => void }
    w.events = []
    w.stopWatch = await window.v!.watch((ch) => w.events.push(ch))
  })
  await c.evaluate(async () => {
    for (let i = 0; i < 3; i++) await window.v!.kv().set(`before${i}`, i)
  })
  await b.waitForFunction(() => (window as unknown as { events: unknown[] }).events.length >= 3)
  // The watcher's page is busy while the leader goes and the next leader (c) writes: its poll
  // reaches the new leader's engine only after those commits, which that engine's feed never had
  // (before: the watcher's cursor counted the old engine's feed, and those commits went unheard).
  await b.evaluate(() => {
    setTimeout(() => {
      const t = Date.now()
      while (Date.now() - t < 4000) {
        // busy
      }
    }, 0)
  })
  await a.close()
  await expect.poll(() => role(c), { timeout: 15_000 }).toBe('leader')
  await c.evaluate(async () => {
    for (let i = 0; i < 5; i++) await window.v!.kv().set(`after${i}`, i)
  })
  await b.waitForFunction(() => (window as unknown as { events: unknown[] }).events.length >= 4, undefined, { timeout: 15_000 })
  const events = await b.evaluate(() => (window as unknown as { events: import('../../src/index.js').ChangeEvent[] }).events)
  expect(events.slice(0, 3).map((e) => e.domains)).toEqual([['kv'], ['kv'], ['kv']])
  expect(events[3]!.domains).toEqual(['*'])
  // Later commits are heard one by one again.
  await c.evaluate(() => window.v!.kv().set('later', 1))
  await b.waitForFunction(() => (window as unknown as { events: unknown[] }).events.length >= 5, undefined, { timeout: 15_000 })
  const last = await b.evaluate(() => (window as unknown as { events: import('../../src/index.js').ChangeEvent[] }).events.at(-1)!)
  expect(last.domains).toEqual(['kv'])
  expect(last.seq).toBeGreaterThan(events[3]!.seq)
  await b.evaluate(() => (window as unknown as { stopWatch: () => void }).stopWatch())
  for (const p of [b, c]) await p.evaluate(() => window.v!.close())
})

test("watch({ externalOnly: true }) in each tab hears the other tab's writes, not its own", async ({ context }) => {
  test.setTimeout(60_000)
  await deleteVault(context, 'tabs-8')
  const a = await member(context, 'tabs-8')
  const b = await member(context, 'tabs-8')
  expect(await role(a)).toBe('leader')
  for (const p of [a, b]) {
    await p.evaluate(async () => {
      const w = window as unknown as { events: import('../../src/index.js').ChangeEvent[]; stopWatch: () => void }
      w.events = []
      w.stopWatch = await window.v!.watch({ externalOnly: true }, (ch) => w.events.push(ch))
    })
  }
  // The leader's engine makes every write, its own and those forwarded from b: before, each was
  // `external: false` to every watcher, so neither tab heard the other.
  await a.evaluate(() => window.v!.kv().set('from-leader', 1))
  await b.evaluate(() => window.v!.kv().set('from-follower', 1))
  await b.evaluate(() => window.v!.transaction(async (tx) => tx.kv().set('follower-tx', 1)))
  const heard = (p: typeof a) => p.evaluate(() => (window as unknown as { events: import('../../src/index.js').ChangeEvent[] }).events.map((e) => [e.kvNamespaces, e.external]))
  await a.waitForFunction(() => (window as unknown as { events: unknown[] }).events.length >= 2, undefined, { timeout: 15_000 })
  await b.waitForFunction(() => (window as unknown as { events: unknown[] }).events.length >= 1, undefined, { timeout: 15_000 })
  // Both watches polled past every write (one more write each, heard by the other).
  await a.evaluate(() => window.v!.kv().set('marker-a', 1))
  await b.evaluate(() => window.v!.kv().set('marker-b', 1))
  await a.waitForFunction(() => (window as unknown as { events: unknown[] }).events.length >= 3, undefined, { timeout: 15_000 })
  await b.waitForFunction(() => (window as unknown as { events: unknown[] }).events.length >= 2, undefined, { timeout: 15_000 })
  expect(await heard(a)).toEqual([[['default'], true], [['default'], true], [['default'], true]])
  expect(await heard(b)).toEqual([[['default'], true], [['default'], true]])
  for (const p of [a, b]) await p.evaluate(() => (window as unknown as { stopWatch: () => void }).stopWatch())
  for (const p of [a, b]) await p.evaluate(() => window.v!.close())
})

test('worker: false on IndexedDB runs the only engine on the vault: beside a shared tab (either order) or a second worker: false open, the later open gets LockTimeoutError, and no acknowledged write is lost', async ({ context }) => {
  test.setTimeout(60_000)
  const name = 'tabs-idb-page'
  const opener = await context.newPage()
  await opener.goto('/dist-test/harness.html')
  await opener.waitForFunction(() => window.harnessReady === true)
  await opener.evaluate((name) => window.labvault.deleteVault(name, { storage: 'indexeddb' }), name)
  const tryOpen = (p: Page, options: Record<string, unknown>) =>
    p.evaluate(
      async ([name, options]) => {
        try {
          const v = await window.labvault.openVault(name, options as { storage: 'indexeddb' })
          if (window.v) return { opened: true, error: 'a second handle' }
          window.v = v
          return { opened: true }
        } catch (e) {
          return { opened: false, error: `${(e as Error).name}:${e instanceof window.labvault.LockTimeoutError}` }
        }
      },
      [name, options] as const,
    )
  // A tab leads through its worker; a worker: false open elsewhere would have been a second engine on its files.
  const a = await member(context, name, 'indexeddb')
  const b = await context.newPage()
  await b.goto('/dist-test/harness.html')
  await b.waitForFunction(() => window.harnessReady === true)
  expect(await tryOpen(b, { storage: 'indexeddb', worker: false, lockTimeoutMs: 500 })).toEqual({ opened: false, error: 'LockTimeoutError:true' })
  await a.evaluate(async () => {
    for (let i = 0; i < 50; i++) await window.v!.kv().set(`a${i}`, i)
    await window.v!.close()
  })
  // Now the page-thread engine holds the vault: a shared open, a second worker: false open (in this
  // page too) and a delete are refused; its writes are all there after it closes.
  expect(await tryOpen(b, { storage: 'indexeddb', worker: false })).toEqual({ opened: true })
  expect(await tryOpen(a, { storage: 'indexeddb', lockTimeoutMs: 500 })).toEqual({ opened: false, error: 'LockTimeoutError:true' })
  expect(await tryOpen(b, { storage: 'indexeddb', worker: false, lockTimeoutMs: 500 })).toEqual({ opened: false, error: 'LockTimeoutError:true' })
  expect(await opener.evaluate((name) => window.labvault.deleteVault(name, { storage: 'indexeddb' }).then(String, (e: Error) => e.name), name)).toBe('ConflictError')
  await b.evaluate(async () => {
    for (let i = 0; i < 50; i++) await window.v!.kv().set(`b${i}`, i)
    await window.v!.close()
  })
  const missing = await opener.evaluate(async (name) => {
    const v = await window.labvault.openVault(name, { storage: 'indexeddb' })
    const out: string[] = []
    for (const t of ['a', 'b']) for (let i = 0; i < 50; i++) if ((await v.kv().get(`${t}${i}`)) !== i) out.push(`${t}${i}`)
    await v.close()
    return out
  }, name)
  expect(missing).toEqual([])
})

for (const storage of ['opfs', 'indexeddb'] as const) {
  test(`a follower that takes over: its watch's poll, sent again to its own engine, does not hear its own writes as another tab's (${storage})`, async ({ context }) => {
    test.setTimeout(60_000)
    const name = `tabs-own-${storage}`
    const a = await member(context, name, storage)
    await a.evaluate(async () => {
      for (const ns of ['own', 'ext']) await window.v!.kv(ns).clear()
    })
    const b = await member(context, name, storage)
    expect(await role(b)).toBe('follower')
    await b.evaluate(async () => {
      const w = window as unknown as { heard: { domains: string[]; kvNamespaces: string[]; external: boolean }[] }
      w.heard = []
      await window.v!.watch({ externalOnly: true }, (c) => w.heard.push(c))
    })
    // The watch's long poll waits in the leader's engine when the leader's page goes: the follower
    // leads next and sends the poll again, with its request key, to its own engine, where this
    // tab's writes then run.
    await a.close()
    await b.waitForFunction(async () => (await window.v!.info()).tabRole === 'leader')
    await b.evaluate(async () => {
      for (let i = 0; i < 20; i++) await window.v!.kv('own').set(`k${i}`, i)
    })
    // Another tab's write is heard; none of the follower's own is (a '*' change, for commits the new
    // engine cannot describe, names no namespace).
    const c = await member(context, name, storage)
    await c.evaluate(() => window.v!.kv('ext').set('x', 1))
    await b.waitForFunction(() => (window as unknown as { heard: { kvNamespaces: string[] }[] }).heard.some((h) => h.kvNamespaces.includes('ext')))
    const heard = await b.evaluate(() => (window as unknown as { heard: { domains: string[]; kvNamespaces: string[] }[] }).heard)
    expect(heard.filter((h) => h.kvNamespaces.includes('own'))).toEqual([])
    expect(await c.evaluate(() => window.v!.kv('own').size())).toBe(20)
    for (const p of [b, c]) await p.evaluate(() => window.v!.close())
  })
}
