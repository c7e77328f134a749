import { expect, test, type Page } from '@playwright/test'

declare global {
  interface Window {
    labvault: typeof import('../../src/index.js')
    harnessReady?: boolean
    cdnBase?: string
  }
}

// SQL in Chromium: DuckDB is downloaded only when SQL is used (the network log of a KV-only page), and
// the database client answers as Observable's SQL cells and Inputs.table call it, in a page that
// imports labvault from another origin. The SQL conformance cases run through
// vault-conformance.spec.ts (worker on OPFS and IndexedDB, and a follower tab).

/** Requests for DuckDB's files (its JS chunk and wasm) made by the page or its workers. */
function duckDbRequests(page: Page): string[] {
  const seen: string[] = []
  page.context().on('request', (r) => {
    if (/duckdb/i.test(new URL(r.url()).pathname)) seen.push(new URL(r.url()).pathname)
  })
  return seen
}

test('a page that only uses key-value never downloads DuckDB; the first sql call does', async ({ page }) => {
  const seen = duckDbRequests(page)
  await page.goto('/dist-test/sql-lazy.html')
  await page.waitForFunction(() => window.harnessReady === true)
  const kv = await page.evaluate(async () => {
    const v = await window.labvault.openVault('sql-lazy', { storage: 'opfs' })
    await v.kv().set('a', { x: 1 })
    const got = await v.kv().get('a')
    await v.close()
    return got
  })
  expect(kv).toEqual({ x: 1 })
  expect(seen).toEqual([])
  // The same page, now using SQL: DuckDB's chunk and one of its wasm builds are fetched, from next to the worker.
  const rows = await page.evaluate(async () => {
    const v = await window.labvault.openVault('sql-lazy', { storage: 'opfs' })
    const t = await v.sql('SELECT key, value FROM kv')
    const out = t.toArray().map((r) => ({ ...r.toJSON() }))
    await v.close()
    await window.labvault.deleteVault('sql-lazy', { storage: 'opfs' })
    return out
  })
  expect(rows).toEqual([{ key: 'a', value: '{"x":1}' }])
  expect(seen.some((p) => /^\/dist\/browser\/duckdb-.*\.js$/.test(p))).toBe(true)
  expect(seen.some((p) => /^\/dist\/browser\/duckdb-(eh|mvp)\.wasm$/.test(p))).toBe(true)
})

test('databaseClient from a package imported from another origin, called as Observable SQL cells and Inputs.table do', async ({ page }) => {
  await page.goto('/dist-test/cdn.html')
  await page.waitForFunction(() => window.harnessReady === true)
  const result = await page.evaluate(async () => {
    const { openVault, deleteVault } = window.labvault
    await deleteVault('sql-cdn', { storage: 'opfs' })
    const vault = await openVault('sql-cdn', { storage: 'opfs' })
    try {
      const runs = await vault.lists.create('runs', { type: 'record', fields: ['model', 'dataset', 'score', 'at'] })
      await runs.appendMany([
        { model: 'rf', dataset: 'a', score: 0.8, at: new Date(Date.UTC(2024, 0, 1)) },
        { model: 'svm', dataset: 'a', score: 0.9, at: new Date(Date.UTC(2024, 0, 2)) },
        { model: 'rf', dataset: 'b', score: 0.7, at: new Date(Date.UTC(2024, 0, 3)) },
      ])
      const db = vault.databaseClient()
      // What a notebook checks before treating a value as a database client.
      const isClient = typeof db.sql === 'function' && typeof db.queryTag === 'function' && typeof db.queryStream === 'function' && typeof db.describeColumns === 'function'
      // A SQL cell: the cell's text as a template (its ${} are values), queryTag, then queryStream with
      // the cell's abort signal, accumulating readRows() batches into an array carrying the schema.
      const cell = async (strings: TemplateStringsArray, ...values: unknown[]) => {
        const controller = new AbortController()
        const stream = await db.queryStream(...db.queryTag(strings, ...(values as never[])), { signal: controller.signal })
        const acc: Record<string, unknown>[] & { schema?: unknown } = []
        acc.schema = stream.schema
        for await (const batch of stream.readRows()) acc.push(...batch)
        return acc
      }
      const min = 0.75
      const cellRows = await cell`SELECT model, dataset, score, "at" FROM items.runs WHERE score > ${min} ORDER BY score DESC`
      // Inputs.table: rows as objects, columns from the array (or its first row), formatting by value type.
      const table = await db.query('SELECT dataset, count(*) AS n, max(score) AS best FROM items.runs GROUP BY dataset ORDER BY dataset')
      const shown = table.map((row) => table.columns.map((c) => (row[c] instanceof Date ? (row[c] as Date).toISOString() : row[c])))
      // The schema pane: tables, then one table's columns.
      const tables = await db.describeTables()
      const columns = await db.describeColumns({ schema: 'items', table: 'runs' })
      // A cell re-run while the previous one still runs aborts it (invalidation).
      const controller = new AbortController()
      const slow = db.query('SELECT count(*) FROM range(1000000000) a, range(1000) b', [], { signal: controller.signal }).then(
        () => 'finished',
        (e: Error) => `${e.name}`,
      )
      setTimeout(() => controller.abort('invalidated'), 100)
      return {
        isClient,
        dialect: db.dialect,
        cellRows: cellRows.map((r) => ({ ...r, at: (r.at as Date).toISOString() })),
        cellSchema: cellRows.schema,
        shown,
        tableColumns: table.columns,
        tables: tables.filter((t) => t.schema === 'items' || t.name === 'kv'),
        columns: columns.map((c) => [c.name, c.type]),
        aborted: await slow,
        row: await db.queryRow('SELECT model FROM items.runs WHERE dataset = ?', ['b']),
        tagged: [...(await db.sql`SELECT ${'it\'s'} AS s`)],
      }
    } finally {
      await vault.close()
      await deleteVault('sql-cdn', { storage: 'opfs' })
    }
  })
  expect(result.isClient).toBe(true)
  expect(result.dialect).toBe('duckdb')
  expect(result.cellRows).toEqual([
    { model: 'svm', dataset: 'a', score: 0.9, at: '2024-01-02T00:00:00.000Z' },
    { model: 'rf', dataset: 'a', score: 0.8, at: '2024-01-01T00:00:00.000Z' },
  ])
  expect((result.cellSchema as { name: string; type: string }[]).map((c) => [c.name, c.type])).toEqual([['model', 'string'], ['dataset', 'string'], ['score', 'number'], ['at', 'date']])
  expect(result.shown).toEqual([['a', 2, 0.9], ['b', 1, 0.7]])
  expect(result.tableColumns).toEqual(['dataset', 'n', 'best'])
  expect(result.tables).toEqual([{ name: 'kv' }, { schema: 'items', name: 'runs' }])
  expect(result.columns).toEqual([['idx', 'integer'], ['model', 'string'], ['dataset', 'string'], ['score', 'number'], ['at', 'date']])
  expect(result.aborted).toBe('StoppedError')
  expect(result.row).toEqual({ model: 'rf' })
  expect(result.tagged).toEqual([{ s: "it's" }])
})

test("DuckDB's OPFS database caches the relations: a reopened vault reloads nothing unchanged, a damaged cache is rebuilt", async ({ page }) => {
  await page.goto('/dist-test/sql-lazy.html')
  await page.waitForFunction(() => window.harnessReady === true)
  const result = await page.evaluate(async () => {
    const { openVault, deleteVault } = window.labvault
    type Stats = { providers: number; rows: number; cache: { outcome: string; why?: string } }
    const stats = (v: unknown) => (v as { caller: { call(d: string, m: string, a: unknown[]): Promise<Stats> } }).caller.call('sql', 'refreshStats', [])
    const count = async (v: Awaited<ReturnType<typeof openVault>>) => (await v.sql('SELECT count(*) AS n, sum(x) AS s FROM items.nums')).toArray()[0]!.toJSON()
    await deleteVault('sql-cache', { storage: 'opfs' })
    let v = await openVault('sql-cache', { storage: 'opfs' })
    const nums = await v.lists.create('nums', { type: 'record', fields: ['x'] })
    await nums.appendMany(Array.from({ length: 5000 }, (_, i) => ({ x: i })))
    const first = await count(v)
    const firstStats = await stats(v)
    await v.close()
    // Reopened: a new worker and a new DuckDB, on the same OPFS file.
    v = await openVault('sql-cache', { storage: 'opfs' })
    const reopened = await count(v)
    const reopenedStats = await stats(v)
    await (await v.lists.get('nums')).appendMany([{ x: 100000 }] as never)
    const appended = await count(v)
    const appendedStats = await stats(v)
    await v.close()
    // Changed while closed (no SQL ran): the next open refreshes from where the file stood.
    v = await openVault('sql-cache', { storage: 'opfs' })
    await (await v.lists.get('nums')).appendMany([{ x: 7 }] as never)
    await v.close()
    v = await openVault('sql-cache', { storage: 'opfs' })
    const changedClosed = await count(v)
    const changedClosedStats = await stats(v)
    await v.close()
    // Damaged: garbage in place of DuckDB's file.
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('labvault-sql')
    const writable = await (await dir.getFileHandle('sql-cache.duckdb')).createWritable()
    await writable.write(new Uint8Array(100_000).fill(7))
    await writable.close()
    v = await openVault('sql-cache', { storage: 'opfs' })
    const damaged = await count(v)
    const damagedStats = await stats(v)
    await v.close()
    const cacheFiles = async () => {
      const names: string[] = []
      for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) if (key.startsWith('sql-cache.')) names.push(key)
      return names.sort()
    }
    const beforeDelete = await cacheFiles()
    await deleteVault('sql-cache', { storage: 'opfs' })
    const afterDelete = await cacheFiles()
    return { beforeDelete, afterDelete, first, firstStats, reopened, reopenedStats, appended, appendedStats, changedClosed, changedClosedStats, damaged, damagedStats }
  })
  const sum = 4999 * 2500
  expect(result.first).toEqual({ n: 5000, s: sum })
  expect(result.firstStats.rows).toBeGreaterThanOrEqual(5000)
  expect(result.reopened).toEqual({ n: 5000, s: sum })
  // Nothing refreshed: the relations came from DuckDB's file (the stats are still those of no refresh).
  // (The cache's outcome first: a failure then says why the reopen reloaded.)
  expect(result.reopenedStats.cache).toEqual({ outcome: 'restored' })
  expect(result.reopenedStats).toMatchObject({ providers: 0, rows: 0, ms: 0 })
  expect(result.appended).toEqual({ n: 5001, s: sum + 100000 })
  expect(result.appendedStats.rows).toBeLessThanOrEqual(2)
  expect(result.changedClosed).toEqual({ n: 5002, s: sum + 100007 })
  expect(result.changedClosedStats.rows).toBeLessThan(100)
  expect(result.damaged).toEqual({ n: 5002, s: sum + 100007 })
  expect(result.damagedStats.rows).toBeGreaterThanOrEqual(5002)
  expect(result.firstStats.cache).toEqual({ outcome: 'empty' })
  expect(result.changedClosedStats.cache).toEqual({ outcome: 'behind' })
  expect(result.damagedStats.cache.outcome).toBe('rebuilt')
  // deleteVault takes DuckDB's file (and its WAL) with the vault.
  expect(result.beforeDelete).toEqual(['sql-cache.duckdb', 'sql-cache.duckdb.wal'])
  expect(result.afterDelete).toEqual([])
})

test("DuckDB's cache file held by another worker: the start waits a moment for it, then keeps it and queries from memory", async ({ page }) => {
  await page.goto('/dist-test/sql-lazy.html')
  await page.waitForFunction(() => window.harnessReady === true)
  const result = await page.evaluate(async () => {
    const { openVault, deleteVault } = window.labvault
    type Stats = { providers: number; rows: number; cache: { outcome: string; why?: string } }
    const stats = (v: unknown) => (v as { caller: { call(d: string, m: string, a: unknown[]): Promise<Stats> } }).caller.call('sql', 'refreshStats', [])
    const count = async (v: Awaited<ReturnType<typeof openVault>>) => Number((await v.sql('SELECT count(*) AS n FROM items.nums')).toArray()[0]!.toJSON().n)
    // Another worker takes the cache file's access handle and lets it go when told.
    const holderCode = `onmessage = async (e) => {
      if (e.data === 'take') {
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('labvault-sql')
        self.handle = await (await dir.getFileHandle('sql-busy.duckdb')).createSyncAccessHandle()
        postMessage('taken')
      } else { self.handle.close(); postMessage('released') }
    }`
    const holder = new Worker(URL.createObjectURL(new Blob([holderCode], { type: 'text/javascript' })))
    const tell = (what: string) => new Promise<string>((resolve) => { holder.onmessage = (e) => resolve(e.data as string); holder.postMessage(what) })
    await deleteVault('sql-busy', { storage: 'opfs' })
    let v = await openVault('sql-busy', { storage: 'opfs' })
    await (await v.lists.create('nums', { type: 'record', fields: ['x'] })).appendMany(Array.from({ length: 100 }, (_, i) => ({ x: i })))
    await count(v)
    await v.close()
    // Held for the whole wait: the query answers from memory; the file is not removed.
    await tell('take')
    v = await openVault('sql-busy', { storage: 'opfs' })
    const heldCount = await count(v)
    const held = await stats(v)
    await v.close()
    await tell('release')
    v = await openVault('sql-busy', { storage: 'opfs' })
    const afterCount = await count(v)
    const after = await stats(v)
    await v.close()
    // Let go while the start waits: the file is used. Released once the start says it waits on
    // the held file (a query stopped meanwhile names the step), not after a guessed time: on a
    // busy machine the start may not have reached the file yet, or be past its wait.
    await tell('take')
    v = await openVault('sql-busy', { storage: 'opfs' })
    const waiting = count(v)
    const vault = v
    const blocked = async (): Promise<boolean> =>
      vault.sql('SELECT 1', { timeoutMs: 50 }).then(
        () => { throw new Error('the start ended before it was seen waiting on the held file') },
        (err: Error) => /waiting for the cache file, which another worker holds/.test(err.message),
      )
    while (!(await blocked()));
    await tell('release')
    const releasedCount = await waiting
    const released = await stats(v)
    await v.close()
    holder.terminate()
    await deleteVault('sql-busy', { storage: 'opfs' })
    return { heldCount, held, afterCount, after, releasedCount, released }
  })
  expect(result.heldCount).toBe(100)
  expect(result.held.cache.outcome).toBe('busy')
  expect(result.held.cache.why).toContain('NoModificationAllowedError')
  // The file was kept: the next open finds the relations it holds, unchanged.
  expect(result.afterCount).toBe(100)
  expect(result.after.cache).toEqual({ outcome: 'restored' })
  expect(result.after).toMatchObject({ providers: 0, rows: 0 })
  expect(result.releasedCount).toBe(100)
  expect(result.released.cache).toEqual({ outcome: 'restored' })
})

test("a DuckDB download that stalls: the query's timeoutMs stops its wait and names the step; the vault still answers and closes", async ({ page, context }) => {
  // DuckDB's wasm is requested and never answered (a stalled connection).
  const held: string[] = []
  await context.route(/duckdb-(eh|mvp)\.wasm$/, (route) => void held.push(new URL(route.request().url()).pathname))
  await page.goto('/dist-test/sql-lazy.html')
  await page.waitForFunction(() => window.harnessReady === true)
  const result = await page.evaluate(async () => {
    const { openVault, deleteVault } = window.labvault
    const v = await openVault('sql-stall', { storage: 'opfs' })
    await v.kv().set('a', 1)
    const err = await v.sql('SELECT 1', { timeoutMs: 1500 }).then(
      () => null,
      (e: Error) => ({ name: e.name, message: e.message }),
    )
    const kv = await v.kv().get('a')
    await v.close()
    await deleteVault('sql-stall', { storage: 'opfs' })
    return { err, kv }
  })
  await context.unrouteAll({ behavior: 'ignoreErrors' })
  expect(held.length).toBeGreaterThan(0)
  expect(result.err?.name).toBe('StoppedError')
  expect(result.err?.message).toMatch(/timeoutMs \(1500 ms\), while DuckDB was starting \(.*downloading and compiling duckdb-(eh|mvp)\.wasm/)
  expect(result.kv).toBe(1)
})

test('a vault whose engine runs on the page thread (worker: false) refuses SQL, and downloads nothing for it', async ({ page }) => {
  const seen = duckDbRequests(page)
  await page.goto('/dist-test/sql-lazy.html')
  await page.waitForFunction(() => window.harnessReady === true)
  const result = await page.evaluate(async () => {
    const { openVault, UnsupportedError } = window.labvault
    const v = await openVault('sql-page-thread', { storage: 'memory', worker: false })
    try {
      await v.sql('SELECT 1')
      return 'resolved'
    } catch (e) {
      return e instanceof UnsupportedError ? (e as Error).message : `${(e as Error).name}: ${(e as Error).message}`
    } finally {
      await v.close()
    }
  })
  expect(result).toMatch(/worker/)
  expect(seen).toEqual([])
})

test("tabs share one DuckDB and its cache file through the leader: a follower's query runs in the leader's engine, and the next leader opens the file", async ({ context }) => {
  test.setTimeout(120_000)
  type Stats = { providers: number; rows: number }
  const open = async () => {
    const page = await context.newPage()
    await page.goto('/dist-test/harness.html')
    await page.waitForFunction(() => window.harnessReady === true)
    await page.evaluate(async () => {
      ;(window as unknown as { v: unknown }).v = await window.labvault.openVault('sql-tabs', { storage: 'opfs' })
    })
    return page
  }
  const setup = await context.newPage()
  await setup.goto('/dist-test/harness.html')
  await setup.waitForFunction(() => window.harnessReady === true)
  await setup.evaluate(() => window.labvault.deleteVault('sql-tabs', { storage: 'opfs' }))
  await setup.close()
  const a = await open()
  const b = await open()
  const role = (p: Page) => p.evaluate(async () => (await (window as unknown as { v: import('../../src/index.js').Vault }).v.info()).tabRole)
  expect(await role(a)).toBe('leader')
  expect(await role(b)).toBe('follower')
  // Runs `SELECT count(*), sum(x)` in a page and reports the engine's refresh stats with it.
  const query = (p: Page) =>
    p.evaluate(async () => {
      const v = (window as unknown as { v: import('../../src/index.js').Vault }).v
      const row = (await v.sql('SELECT count(*) AS n, sum(x) AS s FROM items.nums')).toArray()[0]!.toJSON()
      const stats = (await (v as unknown as { caller: { call(d: string, m: string, args: unknown[]): Promise<unknown> } }).caller.call('sql', 'refreshStats', [])) as Stats
      return { row, stats }
    })
  await a.evaluate(async () => {
    const v = (window as unknown as { v: import('../../src/index.js').Vault }).v
    const nums = await v.lists.create('nums', { type: 'record', fields: ['x'] })
    await nums.appendMany(Array.from({ length: 3000 }, (_, i) => ({ x: i })))
  })
  const sum = 2999 * 1500
  const fromLeader = await query(a)
  expect(fromLeader.row).toEqual({ n: 3000, s: sum })
  expect(fromLeader.stats.rows).toBeGreaterThanOrEqual(3000)
  // The follower's query is forwarded: the leader's DuckDB answers, with nothing left to refresh.
  const fromFollower = await query(b)
  expect(fromFollower.row).toEqual({ n: 3000, s: sum })
  expect(fromFollower.stats).toMatchObject({ providers: fromLeader.stats.providers, rows: fromLeader.stats.rows })
  // A follower's write is seen by its next query, refreshed incrementally in the leader's engine.
  await b.evaluate(async () => {
    const v = (window as unknown as { v: import('../../src/index.js').Vault }).v
    await (await v.lists.get('nums')).appendMany([{ x: 100_000 }] as never)
  })
  const appended = await query(b)
  expect(appended.row).toEqual({ n: 3001, s: sum + 100_000 })
  expect(appended.stats.rows).toBeLessThanOrEqual(2)
  // The leader's page closes: the follower becomes the leader, its worker opens DuckDB on the same
  // OPFS file (the old leader's handles are gone) and finds the relations there.
  await a.close()
  await expect.poll(() => role(b), { timeout: 15_000 }).toBe('leader')
  const takenOver = await query(b)
  expect(takenOver.row).toEqual({ n: 3001, s: sum + 100_000 })
  expect(takenOver.stats.rows).toBeLessThan(100)
  await b.evaluate(async () => {
    const v = (window as unknown as { v: import('../../src/index.js').Vault }).v
    await v.close()
    await window.labvault.deleteVault('sql-tabs', { storage: 'opfs' })
  })
})
