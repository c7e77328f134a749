import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { expect, test, type Page } from '@playwright/test'

// Issue 13, part 3: what the main thread of a page that only uses the key-value store loads. The
// page is test/browser/kv-only-app, built by Vite in production mode against the built package,
// resolved as an installed package (scripts/build.mjs → dist-test/kv-only, with its module graph in
// graph.json). Build first: npm run build.

const root = resolve(import.meta.dirname, '../..')
const built = resolve(root, 'dist-test/kv-only')

interface Chunk {
  fileName: string
  isEntry: boolean
  imports: string[]
  dynamicImports: string[]
  modules: string[]
}

/** The chunks the page's entry loads before anything runs: the entry and its static imports, transitively. */
function mainThreadChunks(): Chunk[] {
  const { chunks } = JSON.parse(readFileSync(resolve(built, 'graph.json'), 'utf8')) as { chunks: Chunk[] }
  const byName = new Map(chunks.map((c) => [c.fileName, c]))
  const entry = chunks.find((c) => c.isEntry && !c.fileName.includes('worker'))
  if (!entry) throw new Error('no page entry in graph.json')
  const seen = new Map<string, Chunk>()
  const stack = [entry.fileName]
  while (stack.length) {
    const name = stack.pop()!
    if (seen.has(name)) continue
    const c = byName.get(name)
    if (!c) throw new Error(`graph.json names a chunk it does not list: ${name}`)
    seen.set(name, c)
    stack.push(...c.imports)
  }
  return [...seen.values()]
}

/**
 * Every source module in those chunks: the app's own, and for each file of the built package
 * (dist/browser/*.js) the sources its source map names. An upper bound: the app's bundler may have
 * dropped parts of a file, never added any.
 */
function mainThreadSources(): string[] {
  const out = new Set<string>()
  for (const chunk of mainThreadChunks()) {
    for (const id of chunk.modules) {
      const path = id.replace(/\\/g, '/')
      // `vault.worker.js?worker` and `sql-wasm.wasm?url` are Vite's small wrappers (a URL and
      // `new Worker(url)`): the worker's code runs off the main thread, in its own file.
      if (!/\/dist\/browser\/[^/?]+\.js$/.test(path)) {
        out.add(path)
        continue
      }
      // The bundler's own runtime helpers (rolldown-runtime-*.js) have no map: none of our sources.
      if (!existsSync(`${path}.map`)) {
        out.add(path)
        continue
      }
      const map = JSON.parse(readFileSync(`${path}.map`, 'utf8')) as { sources: string[] }
      for (const s of map.sources) out.add(resolve(dirname(path), s).replace(/\\/g, '/'))
    }
  }
  return [...out]
}

test("a KV-only page's main thread loads no Arrow, no engine and no other domain's client", () => {
  const sources = mainThreadSources()
  // The premise: the graph is the real one (the key-value client and the package's entry are in it).
  expect(sources.some((s) => s.endsWith('/src/domains/kv/client/key-value.ts'))).toBe(true)
  expect(sources.some((s) => s.endsWith('/src/index.ts'))).toBe(true)
  const forbidden = [
    /\/node_modules\/(apache-arrow|flatbuffers)\//,
    /\/src\/domains\/(columns|items|tables|store|processes|changes)\/client\//,
    // The value codec (msgpackr) loads with the first value that needs it, not with the page.
    /\/node_modules\/msgpackr\//,
    /\/src\/codec\/value-codec\.ts$/,
    // A read-only vault on a static host, and kv streams: their code loads when first used.
    /\/src\/(storage\/http-adapter|client\/http-location|client\/http-open|domains\/kv\/client\/kv-streams)\.ts$/,
    /\/src\/domains\/sql\/client\/(?!database-client\.ts$)/, // vault.sql and Parquet (DatabaseClient is a small wrapper)
    // The logger's code (and its option's check) loads with the first handle that has one.
    /\/src\/client\/logging-port\.ts$/,
    /\/src\/domains\/[^/]+\/engine\//,
    /\/src\/(engine|sqlite)\//,
    // listVaults/deleteVault read manifests ("is it a vault"); the engine's file code stays off the page.
    /\/src\/persistence\/(vault-files|blob-store|record-codec)\.ts$/,
    /\/src\/storage\/indexeddb-adapter\.ts$/, // only the page-thread engine and listVaults/deleteVault need it
    /\/node_modules\/(sql\.js|@duckdb|hyparquet|fflate|cbor-x)\//,
    // The page's caller speaks to the worker without an RPC library (src/protocol/worker-caller.ts).
    /\/node_modules\/comlink\//,
    // Only the storage adapters and the engine turn platform errors into labvault's.
    /\/src\/errors\/platform-error\.ts$/,
    // vault.transaction's code loads with the first transaction; the marks of the engine's steps
    // stay with the engine; the store's column names and byte concatenation with the chunks that use them.
    /\/src\/client\/transaction-run\.ts$/,
    /\/src\/protocol\/browser-marks\.ts$/,
    /\/src\/domains\/store\/shared\/store-types\.ts$/,
    /\/src\/codec\/bytes\.ts$/,
  ]
  expect(sources.filter((s) => forbidden.some((f) => f.test(s)))).toEqual([])
  expect(sources.some((s) => s.endsWith('/src/protocol/worker-caller.ts')), "the page's caller is what talks to the worker").toBe(true)
  // A ceiling against regressions (deterministic bytes, not a timing): Arrow alone is ~95 KB gzip.
  // 40.8 KB before the value codec and the rarely used code moved off the page, 22.5 KB after,
  // 21.68 KB once the logger's code, one loader per lazy chunk and the package's unhashed chunk names
  // (round five) did, then 21.93 KB with the kv write cache's fix for a failed write-out (a later
  // write always wins: +0.25 KB on the page), 20.85 KB once the page spoke comlink's protocol without comlink
  // (round six), 20.54 KB with the Parquet facade and the unused `instanceof` stand-ins off the page
  // (round six), 20.19 KB with the error classes' names and codes set from one table and
  // fromPlatformError off the page, 20.15 KB with openVault's asset URLs from the worker port's helper
  // and one import() of the tables client, 19.97 KB (round seven) with the database client in the SQL
  // client's chunk, vault.sql, exportParquet, watch and session reduced to their calls and the store's
  // stand-ins named from its method table, then 19.91 KB with a new vault's first reads answered on
  // the page (+0.4 KB), openVault's other options' checks, the full vault-name rule (for names other
  // than ASCII letters, digits, `_` and `-`) and info()'s storage estimate loading when needed
  // (docs/cold-start.md, "Main-thread bytes"), then 19.88 KB (round eight) with tab sharing's member
  // ids from the package's randomId (−26 B), then 19.67 KB (round ten; 20387 → 20140 B) with
  // vault.transaction's code loading with the first transaction, browserMark off the page and the
  // store's column names and concatBytes in a chunk of their own, then 20169 B (round twenty-four)
  // with a leader tab stepping down when its engine's worker is gone (+~55 B, paid for by shorter
  // messages: the worker's start failure and tab sharing's state-change guard), 20163 B with the Arrow
  // dictionary reader in arrow-strings' chunk (a chunk of its own put its name on the page: 20188 B,
  // over the ceiling, in a CI rehearsal); the goal is 20 KB.
  const gzip = mainThreadChunks().reduce((sum, c) => sum + gzipSync(readFileSync(resolve(built, c.fileName))).length, 0)
  expect(gzip).toBeLessThan(19.7 * 1024)
})

/** The sources (from their source maps) of a chunk of the package's worker and the chunks it imports statically. */
function staticSources(first: string): { sources: string[]; bytes: number } {
  const dir = resolve(root, 'dist/browser')
  const seen = new Set<string>()
  const sources = new Set<string>()
  let bytes = 0
  const stack = [first]
  while (stack.length) {
    const file = stack.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    const code = readFileSync(resolve(dir, file), 'utf8')
    bytes += code.length
    // Static imports only: `import(...)` loads later, when first needed.
    for (const m of code.matchAll(/^import\s+(?:[^'"]*?from\s+)?["']\.\/([^"']+)["']/gm)) stack.push(m[1]!)
    const map = resolve(dir, `${file}.map`)
    if (existsSync(map)) for (const s of (JSON.parse(readFileSync(map, 'utf8')) as { sources: string[] }).sources) sources.add(resolve(dir, s).replace(/\\/g, '/'))
  }
  return { sources: [...sources], bytes }
}

/** The chunk of the package's worker that its first script imports at once: the one holding src/worker/worker-service.ts. */
function engineChunk(): string {
  const dir = resolve(root, 'dist/browser')
  const read = (f: string) => readFileSync(resolve(dir, f), 'utf8')
  // The first script and its static imports, then every chunk they import dynamically.
  const files = new Set<string>(['vault.worker.js'])
  for (const f of files) for (const m of read(f).matchAll(/^import\s+(?:[^'"]*?from\s+)?["']\.\/([^"']+)["']/gm)) files.add(m[1]!)
  const dynamic = new Set<string>()
  for (const f of files) for (const m of read(f).matchAll(/import\(\s*["']\.\/([^"']+)["']\s*\)/g)) dynamic.add(m[1]!)
  const holds = (f: string) => existsSync(resolve(dir, `${f}.map`)) && (JSON.parse(read(`${f}.map`)) as { sources: string[] }).sources.some((s) => s.endsWith('/src/worker/worker-service.ts'))
  const found = [...dynamic].filter(holds)
  expect(found, 'one chunk the first script imports holds the worker service').toHaveLength(1)
  return found[0]!
}

test("the worker's first script is a small boot that holds no engine code", () => {
  const { sources, bytes } = staticSources('vault.worker.js')
  expect(sources.some((x) => x.endsWith('/src/worker/worker-boot.ts'))).toBe(true)
  // What it must not wait for: the engine, sql.js's glue, the value codec, any domain.
  const engine = [/\/src\/(engine|sqlite|persistence|domains)\//, /\/src\/worker\/worker-service\.ts$/, /\/node_modules\/(sql\.js|msgpackr)\//]
  expect(sources.filter((s) => engine.some((e) => e.test(s)))).toEqual([])
  // A ceiling against regressions (bytes of the unminified build, not a timing): ~20 KB today.
  expect(bytes).toBeLessThan(40 * 1024)
})

test("the engine's first chunk holds the engine, the key-value engine and every schema, not Arrow, yaml, the other domains' engine halves or the IndexedDB and HTTP adapters", () => {
  const { sources, bytes } = staticSources(engineChunk())
  // The premise: the engine, the key-value engine and every domain's schema are in it.
  for (const s of ['/src/engine/vault-engine.ts', '/src/domains/kv/engine/kv-engine.ts', '/src/domains/tables/engine/tables-schema.ts', '/src/domains/store/engine/store-schema.ts', '/src/domains/columns/engine/columns-schema.ts', '/src/domains/items/engine/items-schema.ts', '/src/domains/processes/engine/processes-schema.ts']) {
    expect(sources.some((x) => x.endsWith(s)), s).toBe(true)
  }
  const heavy = [
    /\/node_modules\/(apache-arrow|flatbuffers|yaml|fflate|hyparquet|@duckdb)\//,
    /\/src\/domains\/(tables|store|columns|sql|archive|items|processes)\/engine\/(?![\w-]*-(domain|schema)\.ts$)/,
    // The storage adapters other than OPFS's load when a vault uses them.
    /\/src\/storage\/(indexeddb|http)-adapter\.ts$/,
    /\/node_modules\/idb\//,
  ]
  expect(sources.filter((s) => heavy.some((h) => h.test(s)))).toEqual([])
  // A ceiling against regressions (bytes of the unminified build, not a timing): 1.5 MB in round
  // one, 0.5 MB with the item lists' and processes' engine halves (round four: ~0.39 MB).
  expect(bytes + staticSources('vault.worker.js').bytes).toBeLessThan(450 * 1024)
})

/** The files a built script imports statically (`import … from "./x.js"`, minified or not). */
function staticImports(dir: string, file: string): string[] {
  const code = readFileSync(resolve(dir, file), 'utf8')
  return [...code.matchAll(/(?:^|[;}\n])\s*import\s*(?:[^'"`();]*?from\s*)?["']\.\/([^"']+)["']/g)].map((m) => m[1]!)
}

test("the engine's chunk arrives in one download once the boot runs: it imports nothing the boot has not loaded", () => {
  // The package's worker: the engine's chunk imports only the boot's chunk (and the bundler's
  // runtime helpers, which rolldown keeps in a file of their own), not the small modules it shares
  // with the lazy chunks (a second round trip on the open's path before round four).
  const dir = resolve(root, 'dist/browser')
  const boot = new Set(staticImports(dir, 'vault.worker.js'))
  const engine = engineChunk()
  const runtime = (f: string) => !existsSync(resolve(dir, `${f}.map`)) || (JSON.parse(readFileSync(resolve(dir, `${f}.map`), 'utf8')) as { sources: string[] }).sources.every((x) => x.includes('rolldown'))
  expect(staticImports(dir, engine).filter((f) => !boot.has(f) && !runtime(f))).toEqual([])
  // The same worker rebundled by an app (the Vite page): its engine's chunk imports only the worker's first script.
  const assets = resolve(built, 'assets')
  const files = readdirSync(assets)
  const first = files.filter((f) => /^vault\.worker-[\w-]+\.js$/.test(f))
  expect(first).toHaveLength(1)
  const engines = files.filter((f) => f.endsWith('.js') && readFileSync(resolve(assets, f), 'utf8').includes('worker-open'))
  expect(engines, "one chunk of the page's worker holds the engine's start").toHaveLength(1)
  expect(staticImports(assets, engines[0]!)).toEqual(first)
})

async function kvOnlyPage(page: Page): Promise<void> {
  await page.goto('/dist-test/kv-only/index.html')
  await page.waitForFunction(() => (window as unknown as { appReady?: boolean }).appReady === true)
}

/** The labvault chunks this page's thread has fetched so far. */
const loadedChunks = (page: Page) =>
  page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname.split('/').pop()!).filter((f) => f.endsWith('.js')))

test('the other domains load when first used, and work', async ({ page }) => {
  await kvOnlyPage(page)
  const first = await page.evaluate(async () => {
    const { openVault } = (window as unknown as { app: { openVault: typeof import('../../src/index.js').openVault } }).app
    const v = await openVault(`kv-only-${Math.random().toString(36).slice(2)}`)
    ;(window as unknown as { v: typeof v }).v = v
    // Bytes and a missing key need no value codec.
    await v.kv().set('bytes', new Uint8Array([1, 2]))
    return { missing: await v.kv().get('k'), bytes: await v.kv().get('bytes') }
  })
  expect(first).toEqual({ missing: undefined, bytes: new Uint8Array([1, 2]) })
  expect((await loadedChunks(page)).filter((f) => f.startsWith('value-codec-'))).toEqual([])
  const second = await page.evaluate(async () => {
    const v = (window as unknown as { v: Awaited<ReturnType<typeof import('../../src/index.js').openVault>> }).v
    // The first msgpack value: checked and copied at the call, encoded once the codec loaded; the
    // get made right after (not awaited in between) still reads it.
    const value = { a: [1, 2n, new Float32Array([0.5])] }
    const written = v.kv().set('k', value)
    value.a.push(3)
    ;(value.a[2] as Float32Array)[0] = 9
    const read = v.kv().get('k')
    await written
    const got = await read
    // A transaction's code loads with the first one, and it works.
    await v.transaction(async (tx) => tx.kv().set('in-tx', 1))
    if ((await v.kv().get('in-tx')) !== 1) throw new Error('the transaction did not commit')
    // Accessors are synchronous and touch nothing: no chunk is loaded by them alone.
    void v.columns
    void v.lists
    void v.store.arrays
    void v.tables.builders
    return got
  })
  expect(second).toEqual({ a: [1, 2n, new Float32Array([0.5])] })
  const before = await loadedChunks(page)
  expect(before.filter((f) => f.startsWith('value-codec-'))).toHaveLength(1)
  expect(before.filter((f) => f.startsWith('transaction-run-'))).toHaveLength(1)
  expect(before.filter((f) => /^(arrow|columns-client|items-client|tables-client|store-client|sql-client)-/.test(f))).toEqual([])

  const used = await page.evaluate(async () => {
    const v = (window as unknown as { v: Awaited<ReturnType<typeof import('../../src/index.js').openVault>> }).v
    v.columns.enableCache({ flushThreshold: 1 << 20 })
    const c = await v.columns.create('c', 'f64')
    await c.extend([1, 2, 3])
    await v.columns.flush()
    const arrow = await c.toArrow()
    const docs = await v.lists.create('docs', { type: 'document' })
    await docs.append('cold start of a vault')
    const hits = await v.search.text('vault')
    await v.tables.create('t')
    await v.tables.write('t', [{ x: 1 }, { x: 2 }], { dtypes: { x: 'i32' } })
    const table = (await v.tables.get('t')).table
    const runId = await v.store.beginRun('r')
    const runs = await v.store.listRuns()
    const projects = await v.store.projects.list()
    const job = await v.processes.start('job')
    await job.done()
    const stopWatching = await v.watch(() => {})
    stopWatching()
    const out = {
      cacheEnabled: v.columns.cacheEnabled,
      column: [...(await c.slice())],
      arrowLength: arrow.length,
      hits: hits.map((h) => ('list' in h ? h.list : '')),
      tableRows: table.numRows,
      runIds: [...(runs.getChild('runId')?.toArray() ?? [])].includes(runId),
      projects: projects.length,
      processDone: (await v.processes.get(job.id)).status,
      holder: typeof v.processes.holder,
    }
    await v.close()
    return out
  })
  expect(used).toEqual({ cacheEnabled: true, column: [1, 2, 3], arrowLength: 3, hits: ['docs'], tableRows: 2, runIds: true, projects: 0, processDone: 'done', holder: 'string' })
  const after = await loadedChunks(page)
  for (const chunk of ['arrow', 'columns-client', 'items-client', 'tables-client', 'store-client']) expect(after.some((f) => f.startsWith(`${chunk}-`)), chunk).toBe(true)
})

test("a logger's code loads with the first handle that has one: a bad logger is refused before anything opens, a good one logs", async ({ page }) => {
  await kvOnlyPage(page)
  const r = await page.evaluate(async () => {
    const { openVault } = (window as unknown as { app: { openVault: typeof import('../../src/index.js').openVault } }).app
    const chunks = () => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname.split('/').pop()!).filter((f) => f.startsWith('logging-port-'))
    const name = `kv-only-logger-${Math.random().toString(36).slice(2)}`
    const plain = await openVault(name)
    await plain.kv().set('b', new Uint8Array([1]))
    const before = chunks().length
    // Refused (typed, naming the option) before anything is opened or sent.
    const bad = await openVault(name, { logger: { debug() {} } as never }).then(
      () => 'opened',
      (e: Error & { code?: string }) => `${e.name} ${e.code} ${/"logger"/.test(e.message)}`,
    )
    const entries: string[] = []
    const logged = await openVault(name, { logger: (e) => entries.push(`${e.domain}.${e.method} ${e.kind} ${e.outcome}`) })
    await logged.kv().get('b')
    await logged.close()
    await plain.close()
    return { before, bad, after: chunks().length, entries }
  })
  expect(r.before).toBe(0)
  expect(r.bad).toBe('InvalidArgumentError INVALID_ARGUMENT true')
  expect(r.after).toBe(1)
  expect(r.entries).toContain('kv.get read ok')
  expect(r.entries).toContain('vault.close write ok')
})

test("openVault's other options and unusual vault names are checked as before, their checks loading only then", async ({ page }) => {
  await kvOnlyPage(page)
  const r = await page.evaluate(async () => {
    const { openVault } = (window as unknown as { app: { openVault: typeof import('../../src/index.js').openVault } }).app
    const loaded = (prefix: string) => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname.split('/').pop()!).filter((f) => f.startsWith(prefix)).length
    const outcome = (p: Promise<{ close(): Promise<void> }>) =>
      p.then(
        async (v) => (await v.close(), 'opened'),
        (e: Error) => `${e.name}: ${e.message}`,
      )
    const name = `kv-only-checks-${Math.random().toString(36).slice(2)}`
    const plain = await outcome(openVault(name, { storage: 'opfs' }))
    const before = { options: loaded('open-options-'), names: loaded('vault-name-') }
    const badLocation = await outcome(openVault(name, { storage: 'nope' as never }))
    const beforeOther = loaded('open-options-')
    return {
      plain,
      before,
      badLocation,
      beforeOther,
      badValue: await outcome(openVault(name, { durability: 'stict' as never })),
      unknown: await outcome(openVault(name, { durabilty: 'relaxed' } as never)),
      good: await outcome(openVault(name, { durability: 'relaxed', storage: 'opfs' })),
      readOnlyRestart: await outcome(openVault(name, { readOnly: true, restart: true, storage: 'opfs' })),
      after: { options: loaded('open-options-'), names: loaded('vault-name-') },
      slash: await outcome(openVault('a/b')),
      dots: await outcome(openVault('a..b')),
      long: await outcome(openVault('x'.repeat(129))),
      surrogate: await outcome(openVault('a\uD800')),
      accented: await outcome(openVault(`é-${name}`)),
      names: loaded('vault-name-'),
    }
  })
  expect(r.plain).toBe('opened')
  expect(r.before).toEqual({ options: 0, names: 0 })
  expect(r.badLocation).toMatch(/^InvalidArgumentError: option "storage" must be one of "auto", "opfs"/)
  expect(r.beforeOther).toBe(0)
  expect(r.badValue).toBe('InvalidArgumentError: option "durability" must be "strict" or "relaxed", got "stict"')
  expect(r.unknown).toMatch(/^InvalidArgumentError: unknown option "durabilty" of openVault \(known: storage, path, worker, assetBase, wasmUrl, create, /)
  expect(r.good).toBe('opened')
  // (Before: it opened, failed with UnsupportedError naming processes.recover, and left the vault open.)
  expect(r.readOnlyRestart).toMatch(/^InvalidArgumentError: openVault: options "readOnly" and "restart" cannot be combined/)
  expect(r.after).toEqual({ options: 1, names: 0 })
  expect(r.slash).toMatch(/^InvalidArgumentError: invalid vault name "a\/b": path separators/)
  expect(r.dots).toMatch(/^InvalidArgumentError: invalid vault name "a\.\.b": "\.\." is not allowed/)
  expect(r.long).toBe('InvalidArgumentError: a vault name must have 1 to 128 characters, got 129')
  expect(r.surrogate).toMatch(/^InvalidArgumentError: invalid vault name .*lone UTF-16 surrogate/)
  expect(r.accented).toBe('opened')
  expect(r.names).toBe(1)
})

test('after close a stand-in refuses a call like a loaded client (ClosedError), and a call made before close completes', async ({ page }) => {
  await kvOnlyPage(page)
  const r = await page.evaluate(async () => {
    const { openVault } = (window as unknown as { app: { openVault: typeof import('../../src/index.js').openVault } }).app
    const v = await openVault(`kv-only-close-${Math.random().toString(36).slice(2)}`)
    // Issued before close, while the columns client is still loading: close() waits for it.
    const created = v.columns.create('early', 'i32').then((c) => c.name, (e: Error) => `rejected: ${e.name}`)
    const closing = v.close()
    const late = await v.lists.list().then(() => 'resolved', (e: Error) => e.name)
    await closing
    return { created: await created, late }
  })
  expect(r).toEqual({ created: 'early', late: 'ClosedError' })
})

test("the worker started beside the election runs the leader's engine, and a follower tab stops its own", async ({ context }) => {
  const name = `kv-only-tabs-${Math.random().toString(36).slice(2)}`
  const open = (p: Page) =>
    p.evaluate(async (name) => {
      const { openVault } = (window as unknown as { app: { openVault: typeof import('../../src/index.js').openVault } }).app
      const v = await openVault(name)
      ;(window as unknown as { v: typeof v }).v = v
      await v.kv().set(`from-${Math.random()}`, 1)
      return (await v.info()).tabRole
    }, name)
  const a = await context.newPage()
  await kvOnlyPage(a)
  expect(await open(a)).toBe('leader')
  expect(a.workers()).toHaveLength(1)
  const b = await context.newPage()
  await kvOnlyPage(b)
  expect(await open(b)).toBe('follower')
  // Its early worker was stopped once it knew the leader (workers() lists the live ones).
  await expect.poll(() => b.workers().length).toBe(0)
  const keys = await b.evaluate(async () => {
    const v = (window as unknown as { v: Awaited<ReturnType<typeof import('../../src/index.js').openVault>> }).v
    const n = (await v.kv().keys()).length
    await v.close()
    return n
  })
  expect(keys).toBe(2)
  await a.evaluate(() => (window as unknown as { v: { close(): Promise<void> } }).v.close())
})
