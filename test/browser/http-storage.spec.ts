import { mkdirSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { expect, test, type Page, type Request } from '@playwright/test'
import { openVault as openNodeVault } from '../../src/node.js'
import { fillEveryDomain, fixture } from '../support/http-fixture.js'
import { startStaticServer, type StaticServer } from '../support/static-server.js'
import { harness } from './harness.js'

// A read-only vault over HTTP in Chromium (storage 'http', docs/http-storage.md): the vault the
// Node test serves (test/node/http-storage.test.ts), made here with the Node build into a folder
// the page's own server publishes (scripts/serve.mjs, which honours Range), opened by a relative URL
// in the engine's worker; and from another origin whose server ignores Range (CORS). Requests are
// watched from the browser context, so the blobs a worker fetches are counted.

const served = resolve('dist-test/http-vaults')
let ids: Awaited<ReturnType<typeof fillEveryDomain>>
let crossOrigin: StaticServer
let crossOriginRanges: StaticServer

test.beforeAll(async () => {
  rmSync(served, { recursive: true, force: true })
  mkdirSync(served, { recursive: true })
  const v = await openNodeVault('lab', { storage: 'fs', path: served })
  ids = await fillEveryDomain(v)
  await v.close()
  crossOrigin = await startStaticServer(served, { range: false, cors: true })
  crossOriginRanges = await startStaticServer(served, { cors: true, expose: false })
})

test.afterAll(async () => {
  await crossOrigin?.close()
  await crossOriginRanges?.close()
})

/** Requests (with their Range header and answer status) for blob files, made by the page or its workers. */
function watchBlobs(page: Page): { url: string; range?: string; status?: number }[] {
  const seen: { url: string; range?: string; status?: number }[] = []
  // 'request' and 'response', not 'requestfinished': Chromium's DevTools report a body read as a stream (the
  // adapter reads bodies piece by piece, for its timeout) as aborted once the stream is done.
  page.context().on('request', (r: Request) => {
    if (!/\/blobs\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(new URL(r.url()).pathname)) return
    seen.push({ url: r.url(), range: r.headers()['range'] as string | undefined })
  })
  page.context().on('response', (res) => {
    const entry = seen.find((e) => e.url === res.url() && e.range === (res.request().headers()['range'] as string | undefined) && e.status === undefined)
    if (entry) entry.status = res.status()
  })
  return seen
}

/** Read everything back in the page; returns what the page saw, for the test to compare. */
async function readInPage(page: Page, url: string, worker: boolean, instanceId: string, artifactId: string) {
  return page.evaluate(
    async ({ url, worker, instanceId, artifactId }) => {
      const { openVault } = window.labvault
      const v = await openVault(url, { storage: 'http', ...(worker ? {} : { worker: false }) })
      const kv = v.kv()
      const big = (await kv.get('big')) as Uint8Array
      let bigOk = big.length === 3 * 1024 * 1024
      for (let i = 0; bigOk && i < big.length; i += 4099) bigOk = big[i] === ((i * 31 + 7) & 0xff)
      const loss = await v.columns.get<'f64'>('loss')
      const docs = await v.lists.get('docs')
      const hits = await v.search.text('fox')
      const people = await v.tables.get('people', { instanceId })
      const artifact = await v.store.loadArtifact(artifactId)
      const file = (await (await v.lists.get('files')).get(0)) as { bytes: Uint8Array }
      const info = await v.info()
      const refusals: string[] = []
      for (const write of [() => kv.set('lr', 1), () => v.columns.create('new', 'f64'), () => docs.append('more' as never), () => v.store.beginRun('r', {}, []), () => v.transaction(async (tx) => tx.kv().set('n', 1))]) {
        refusals.push(await write().then(() => 'accepted', (e: Error) => (e instanceof window.labvault.UnsupportedError ? e.name : `other: ${e.name} ${e.message}`)))
      }
      const result = {
        name: v.name,
        lr: await kv.get('lr'),
        theme: await v.kv('settings').get('theme'),
        bigOk,
        lossLength: await loss.length(),
        lossSlice: [...(await loss.slice(500_000, 500_003))],
        doc: await docs.get(1),
        hits: hits.map((h) => [(h as { list: string }).list, (h as { index: number }).index]),
        people: people.table.getChild('name')!.toArray() as string[],
        artifact: new TextDecoder().decode(artifact),
        file: new TextDecoder().decode(file.bytes),
        storage: info.storage,
        readOnly: info.readOnly,
        refusals,
        lrAfter: await kv.get('lr'),
      }
      await v.close()
      return result
    },
    { url, worker, instanceId, artifactId },
  )
}

function expectEverything(r: Awaited<ReturnType<typeof readInPage>>): void {
  expect(r).toEqual({
    name: 'lab',
    lr: 3e-4,
    theme: 'dark',
    bigOk: true,
    lossLength: fixture.lossLength,
    lossSlice: [250_000, 250_000.5, 250_001],
    doc: 'jumps over the lazy dog',
    hits: [['docs', 0]],
    people: ['ana', 'bo'],
    artifact: new TextDecoder().decode(fixture.artifact),
    file: 'field notes',
    storage: 'http',
    readOnly: true,
    refusals: ['UnsupportedError', 'UnsupportedError', 'UnsupportedError', 'UnsupportedError', 'UnsupportedError'],
    lrAfter: 3e-4,
  })
}

test('a vault folder on the page origin opens by relative URL in the worker and reads back every domain; writes are refused', async ({ page }) => {
  await harness(page)
  expectEverything(await readInPage(page, '/dist-test/http-vaults/lab/', true, ids.instanceId, ids.artifactId))
})

test('the same on the page thread (worker: false)', async ({ page }) => {
  await harness(page)
  expectEverything(await readInPage(page, '/dist-test/http-vaults/lab', false, ids.instanceId, ids.artifactId))
})

test('from another origin whose server ignores Range (CORS): every domain, whole-file answers', async ({ page }) => {
  await harness(page)
  const blobs = watchBlobs(page)
  expectEverything(await readInPage(page, `${crossOrigin.url}lab/`, true, ids.instanceId, ids.artifactId))
  expect(crossOrigin.requests.filter((r) => r.status === 206)).toEqual([])
  expect(blobs.length).toBeGreaterThan(0)
})

test('opening fetches no blob; a column slice fetches one chunk; later parts of a verified blob come by Range', async ({ page }) => {
  await harness(page)
  const blobs = watchBlobs(page)
  const steps = await page.evaluate(async () => {
    // No cache: every read is a request, so the requests show how each read is made.
    const v = await window.labvault.openVault('/dist-test/http-vaults/lab/', { storage: 'http', http: { cacheBytes: 0 } })
    await v.kv().get('lr')
    const loss = await v.columns.get<'f64'>('loss')
    await loss.slice(500_000, 500_003)
    const wide = await v.lists.get('wide')
    const first = [...((await wide.get(7)) as Float32Array)]
    const last = [...((await wide.get(4999)) as Float32Array)]
    await v.close()
    return { first, last }
  })
  await expect.poll(() => blobs.length).toBe(3)
  await expect.poll(() => blobs.every((b) => b.status !== undefined)).toBe(true)
  expect(steps.first).toEqual(new Array(16).fill(7))
  expect(steps.last).toEqual(new Array(16).fill(4999))
  // Three in all, so opening fetched none: the column chunk and the embedding blob whole (their
  // hashes are checked on first read), then one Range request for the last vector.
  expect(blobs.map((b) => b.range)).toEqual([undefined, undefined, `bytes=${4999 * 64}-${4999 * 64 + 63}`])
  expect(blobs[2]!.status).toBe(206)
})

test('no vault at the URL: NotFoundError; a host that is down: NetworkError naming the URL; both fast', async ({ page }) => {
  await harness(page)
  const gone = await startStaticServer(served)
  const goneUrl = gone.url
  await gone.close()
  const errors = await page.evaluate(
    async ({ goneUrl }) => {
      const { openVault } = window.labvault
      const describe = (e: unknown) => ({ name: (e as Error).name, code: (e as { code?: string }).code, message: (e as Error).message })
      const missing = await openVault('/dist-test/http-vaults/nothing-here/', { storage: 'http' }).then(() => undefined, describe)
      const down = await openVault(`${goneUrl}lab/`, { storage: 'http' }).then(() => undefined, describe)
      const bad = await openVault('/dist-test/http-vaults/lab/?v=2', { storage: 'http' }).then(() => undefined, describe)
      const list = await window.labvault.listVaults({ storage: 'http' }).then(() => undefined, describe)
      return { missing, down, bad, list }
    },
    { goneUrl },
  )
  expect(errors.missing).toMatchObject({ name: 'NotFoundError', code: 'NOT_FOUND' })
  expect(errors.missing!.message).toContain('/dist-test/http-vaults/nothing-here/')
  expect(errors.down).toMatchObject({ name: 'NetworkError', code: 'NETWORK' })
  expect(errors.down!.message).toContain(`${goneUrl}lab/manifest-`)
  expect(errors.bad).toMatchObject({ name: 'InvalidArgumentError' })
  expect(errors.list).toMatchObject({ name: 'UnsupportedError' })
})

test('from another origin that answers Range but does not expose Content-Range (CORS): parts still read right', async ({ page }) => {
  await harness(page)
  const got = await page.evaluate(async (url) => {
    const v = await window.labvault.openVault(url, { storage: 'http', http: { cacheBytes: 0 } })
    const wide = await v.lists.get('wide')
    const out = [] as number[][]
    for (const i of [7, 4999, 1234, 0]) out.push([...((await wide.get(i)) as Float32Array)])
    await v.close()
    return out
  }, `${crossOriginRanges.url}lab/`)
  expect(got).toEqual([7, 4999, 1234, 0].map((i) => new Array(16).fill(i)))
  const partial = crossOriginRanges.requests.filter((r) => r.status === 206)
  expect(partial.map((r) => r.range)).toEqual([4999, 1234, 0].map((i) => `bytes=${i * 64}-${i * 64 + 63}`))
})
