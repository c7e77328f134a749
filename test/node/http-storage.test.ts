// A read-only vault over HTTP (storage 'http', docs/http-storage.md): a vault made on fs with every
// domain, its folder served by a static server that honours Range and by one that does not, opened
// by URL and read back; every write refused and the files untouched; blobs and column chunks
// fetched only when read (counted at the server); 404, a server that is down, one that hangs and
// one that fails: typed errors, fast. The browser half is test/browser/http-storage.spec.ts.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import fc from 'fast-check'
import { CorruptionError, HttpAdapter, InvalidArgumentError, type DocumentList, type EmbeddingList, type FileItemList, type ItemHit, type RecordList, MemoryAdapter, NetworkError, NotFoundError, UnsupportedError, deleteVault, listVaults, openVault, type Vault } from '../../src/node.js'
import { fillEveryDomain, fixture } from '../support/http-fixture.js'
import { startStaticServer, type StaticServer } from '../support/static-server.js'
import { tempDir } from './helpers.js'

const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const dir = tempDir('labvault-http-')
let ids: Awaited<ReturnType<typeof fillEveryDomain>>
let fsSizeBytes: number
let ranged: StaticServer
let plain: StaticServer

/** A fingerprint of every file under the served folder (names and bytes). */
async function folderHash(): Promise<string> {
  const h = createHash('sha256')
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name)
      h.update(p)
      if (e.isDirectory()) await walk(p)
      else h.update(await readFile(p))
    }
  }
  await walk(dir)
  return h.digest('hex')
}

const blobRequests = (s: StaticServer) => s.requests.filter((r) => r.path.includes('/blobs/'))

before(async () => {
  const v = await openVault('lab', { storage: 'fs', path: dir })
  ids = await fillEveryDomain(v)
  await v.close()
  const ro = await openVault('lab', { storage: 'fs', path: dir, readOnly: true })
  fsSizeBytes = (await ro.info()).sizeBytes
  await ro.close()
  ranged = await startStaticServer(dir)
  plain = await startStaticServer(dir, { range: false })
})

after(async () => {
  await ranged?.close()
  await plain?.close()
})

/** Read back what the fixture wrote, through every domain. */
async function readEverything(v: Vault): Promise<void> {
  const kv = v.kv()
  assert.equal(await kv.get('lr'), 3e-4)
  assert.deepEqual(await kv.get('config'), { model: 'pls', layers: [1, 2, 3], when: new Date(Date.UTC(2026, 0, 2)) })
  assert.deepEqual(await kv.get('big'), fixture.bigValue())
  assert.deepEqual((await kv.keys()).sort(), ['big', 'config', 'lr'])
  assert.equal(await v.kv('settings').get('theme'), 'dark')

  const loss = await v.columns.get<'f64'>('loss')
  assert.equal(await loss.length(), fixture.lossLength)
  assert.deepEqual([...(await loss.slice(10, 13))], [5, 5.5, 6])
  assert.equal(await loss.get(-1), (fixture.lossLength - 1) / 2)
  assert.deepEqual(await (await v.columns.get<'str:utf8'>('names')).slice(0), ['alpha', 'beta', 'gamma'])
  assert.deepEqual((await v.columns.list()).map((c) => c.name).sort(), ['loss', 'names'])

  const docs = await v.lists.get<DocumentList>('docs')
  assert.equal(await docs.get(1), 'jumps over the lazy dog')
  assert.deepEqual((await v.search.text('fox')).map((h) => [(h as ItemHit).list, (h as ItemHit).index]), [['docs', 0]])
  const similar = await v.search.similar(new Float32Array([0, 1, 0, 0]), { lists: ['emb'], k: 1 })
  assert.deepEqual([(similar[0] as ItemHit).list, (similar[0] as ItemHit).index], ['emb', 1])
  assert.deepEqual((await v.lineage.parents('emb', { start: 0, end: 1 })).map((r) => [r.parent, r.parentStart, r.parentEnd]), [['docs', 0, 2]])
  assert.ok((await v.search.code('fit the model')).length > 0, 'the session code is searchable')
  const file = await (await v.lists.get<FileItemList>('files')).get(0)
  assert.equal(new TextDecoder().decode((file as { bytes: Uint8Array }).bytes), 'field notes')
  assert.deepEqual(await (await v.lists.get<RecordList>('runs')).get(0), { model: 'pls', accuracy: 0.91 })
  const wide = await v.lists.get<EmbeddingList>('wide')
  assert.deepEqual([...((await wide.get(4321)) as Float32Array)], new Array(16).fill(4321))

  const people = await v.tables.get('people', { instanceId: ids.instanceId })
  assert.deepEqual(people.table.getChild('name')!.toArray(), ['ana', 'bo'])
  assert.equal((await v.store.getRun(ids.runId)).status, 'completed')
  assert.deepEqual(await v.store.loadArtifact(ids.artifactId), fixture.artifact)
  assert.equal((await v.store.listRuns()).numRows, 1)
  assert.equal(await v.processes.completed(ids.processId), true)
  assert.match((await v.tree()).text, /people/)
  const info = await v.info()
  assert.equal(info.storage, 'http')
  assert.equal(info.readOnly, true)
  assert.equal(info.sizeBytes, fsSizeBytes, 'the size counts the blobs the rows refer to, as on fs')
}

for (const kind of ['honours Range', 'ignores Range'] as const) {
  test(`a vault folder served by a static host that ${kind} opens by URL and reads back every domain`, async () => {
    const server = kind === 'honours Range' ? ranged : plain
    const v = await openVault(`${server.url}lab/`, { storage: 'http' })
    try {
      assert.equal(v.name, 'lab')
      await readEverything(v)
    } finally {
      await v.close()
    }
    assert.ok(server.requests.every((r) => r.method === 'GET' || r.method === 'HEAD'), 'only reads reach the host')
  })
}

test('every write is refused with UnsupportedError and the served files stay as they were', async () => {
  const before = await folderHash()
  const v = await openVault(`${ranged.url}lab`, { storage: 'http' })
  const refused = async (what: string, call: () => Promise<unknown>) => {
    await assert.rejects(call(), (err: unknown) => err instanceof UnsupportedError && /read-only/.test((err as Error).message), what)
  }
  try {
    const loss = await v.columns.get<'f64'>('loss')
    const docs = await v.lists.get<DocumentList>('docs')
    await refused('kv.set', () => v.kv().set('lr', 1))
    await refused('kv.delete', () => v.kv().delete('lr'))
    await refused('kv.setMany', () => v.kv().setMany([['a', 1]]))
    await refused('columns.create', () => v.columns.create('new', 'f64'))
    await refused('column.append', () => loss.append(1))
    await refused('column.set', () => loss.set(0, 1))
    await refused('lists.create', () => v.lists.create('new', { type: 'document' }))
    await refused('list.append', () => docs.append('more'))
    await refused('session', () => v.session('again.ts'))
    await refused('tables.create', () => v.tables.create('new'))
    await refused('tables.write', () => v.tables.write('people', [{ name: 'cy', age: 1 }], { dtypes: { name: 'str:utf8', age: 'i32' } }))
    await refused('store.beginRun', () => v.store.beginRun('r', {}, []))
    await refused('store.saveArtifact', () => v.store.saveArtifact(new Uint8Array([1]), { operatorClass: 'x', artifactType: 'model', format: 'bin' }))
    await refused('processes.start', () => v.processes.start('w'))
    await refused('transaction', () => v.transaction(async (tx) => tx.kv().set('n', 1)))
    await refused('checkpoint', () => v.checkpoint())
    await refused('optimize', () => v.optimize())
    assert.equal(await v.kv().get('lr'), 3e-4, 'nothing changed')
    assert.equal(await loss.length(), fixture.lossLength)
  } finally {
    await v.close()
  }
  assert.equal(await folderHash(), before)
})

test('an HttpAdapter passed as storage is opened read-only by the engine itself', async () => {
  // No handle-level refusal here (readOnly is not set): the engine refuses the write.
  const v = await openVault('lab', { storage: new HttpAdapter(ranged.url) })
  try {
    assert.equal(await v.kv().get('lr'), 3e-4)
    await assert.rejects(v.kv().set('lr', 1), UnsupportedError)
    assert.equal((await v.info()).readOnly, true)
  } finally {
    await v.close()
  }
})

test('opening downloads the manifest, image and log only; blobs and column chunks come when read, once', async () => {
  const server = await startStaticServer(dir)
  try {
    const v = await openVault(`${server.url}lab/`, { storage: 'http' })
    const opened = server.requests.map((r) => r.path.replace('/lab/', '')).sort()
    assert.deepEqual(opened.filter((p) => p.startsWith('manifest-')), ['manifest-0', 'manifest-1'])
    assert.equal(blobRequests(server).length, 0, 'no blob is fetched by opening')
    assert.equal(opened.length, 4, `manifests, image and log: ${opened.join(', ')}`)
    await v.kv().get('lr')
    assert.equal(blobRequests(server).length, 0, 'a small value is in the image')
    const loss = await v.columns.get<'f64'>('loss')
    await loss.slice(0, 3)
    assert.equal(blobRequests(server).length, 0, 'the first chunks are small: in the image')
    assert.deepEqual([...(await loss.slice(500_000, 500_003))], [250_000, 250_000.5, 250_001])
    assert.equal(blobRequests(server).length, 1, 'one chunk of the column, not all of them')
    const chunkBytes = blobRequests(server)[0]!.bytes
    assert.ok(chunkBytes < fixture.lossLength * 8, 'a chunk is a part of the column')
    await loss.slice(500_001, 500_002)
    assert.equal(blobRequests(server).length, 1, 'the chunk is cached')
    assert.equal((await v.kv().get('big') as Uint8Array).length, fixture.bigValueBytes)
    assert.equal(blobRequests(server).length, 2, 'the large value: one more blob')
    await v.kv().get('big')
    assert.equal(blobRequests(server).length, 2, 'cached')
    await v.close()
  } finally {
    await server.close()
  }
})

test('parts of a large blob are read with Range requests once it was verified; without Range, whole', async () => {
  for (const range of [true, false]) {
    const server = await startStaticServer(dir, { range })
    try {
      // No cache: every read goes to the server, so the requests show how each is made.
      const v = await openVault(`${server.url}lab`, { storage: 'http', http: { cacheBytes: 0 } })
      const wide = await v.lists.get<EmbeddingList>('wide')
      assert.deepEqual([...((await wide.get(7)) as Float32Array)], new Array(16).fill(7))
      const first = blobRequests(server)
      assert.equal(first.length, 1)
      assert.equal(first[0]!.range, undefined, 'the first read of a blob takes it whole: its hash is checked')
      assert.deepEqual([...((await wide.get(4999)) as Float32Array)], new Array(16).fill(4999))
      const second = blobRequests(server).slice(1)
      assert.equal(second.length, 1)
      assert.equal(second[0]!.range, `bytes=${4999 * 64}-${4999 * 64 + 63}`)
      assert.equal(second[0]!.status, range ? 206 : 200)
      assert.equal(second[0]!.bytes, range ? 64 : first[0]!.bytes, range ? 'only the vector' : 'the whole blob, sliced here')
      await v.close()
    } finally {
      await server.close()
    }
  }
})

test('HttpAdapter.readRange: a server without Range sends the whole file once; it is cached', async () => {
  const server = await startStaticServer(dir, { range: false })
  try {
    const adapter = new HttpAdapter(server.url)
    const image = (await readdir(join(dir, 'lab'))).find((f) => f.startsWith('image-'))!
    const bytes = await readFile(join(dir, 'lab', image))
    assert.deepEqual(await adapter.readRange(`lab/${image}`, 100, 10), new Uint8Array(bytes.subarray(100, 110)))
    assert.deepEqual(await adapter.readRange(`lab/${image}`, 4096, 5), new Uint8Array(bytes.subarray(4096, 4101)))
    assert.equal(server.requests.length, 1, 'the second range came from the cached file')
    assert.equal(await adapter.size(`lab/${image}`), bytes.length)
    assert.equal(server.requests.length, 1)
    await adapter.close()
  } finally {
    await server.close()
  }
})

test('HttpAdapter reads what a memory adapter holding the same file reads, for any range (property, seeded)', async () => {
  const served = tempDir('labvault-http-prop-')
  const { writeFile, mkdir } = await import('node:fs/promises')
  const sizes = [0, 1, 255, 4096, 70_001]
  const memory = new MemoryAdapter()
  await mkdir(join(served, 'f'), { recursive: true })
  for (const n of sizes) {
    const data = new Uint8Array(n)
    for (let i = 0; i < n; i++) data[i] = (i * 131 + n) & 0xff
    await writeFile(join(served, 'f', `file-${n}`), data)
    await memory.write(`f/file-${n}`, data)
  }
  const servers = [await startStaticServer(served), await startStaticServer(served, { range: false })]
  try {
    const offset = (n: number) => fc.oneof(fc.constantFrom(0, 1, n - 1, n, n + 1, 2 ** 40).filter((o) => o >= 0), fc.nat(n + 10))
    const arb = fc.tuple(fc.constantFrom(...sizes), fc.nat(1), fc.nat(1), fc.constantFrom(0, 1, 2, 63, 64, 4096, 2 ** 31)).chain(([n, s, cache, length]) =>
      offset(n).map((o) => ({ n, server: s, cache: cache === 1, o, length })),
    )
    await fc.assert(
      fc.asyncProperty(arb, async ({ n, server, cache, o, length }) => {
        const adapter = new HttpAdapter(servers[server]!.url, { cacheBytes: cache ? 1 << 20 : 0 })
        const path = `f/file-${n}`
        assert.deepEqual(await adapter.readRange(path, o, length), await memory.readRange(path, o, length))
        assert.deepEqual(await adapter.readRange(path, o, length), await memory.readRange(path, o, length), 'again (cached or not)')
        assert.deepEqual(await adapter.read(path), await memory.read(path))
        assert.equal(await adapter.size(path), await memory.size(path))
        await adapter.close()
      }),
      { numRuns: 60, seed: SEED },
    )
    const adapter = new HttpAdapter(servers[0]!.url)
    assert.equal(await adapter.read('f/missing'), undefined)
    assert.equal(await adapter.size('f/missing'), undefined)
    await assert.rejects(adapter.readRange('f/missing', 0, 1), NotFoundError)
    await assert.rejects(adapter.readRange('f/missing', 0, 0), NotFoundError)
    await assert.rejects(adapter.write('f/x'), UnsupportedError)
    await assert.rejects(adapter.append('f/x'), UnsupportedError)
    await assert.rejects(adapter.remove('f'), UnsupportedError)
    await assert.rejects(adapter.list('f'), UnsupportedError)
  } finally {
    for (const s of servers) await s.close()
  }
})

test('a host that refuses HEAD (405, 403, 501), with Range or without: info() works, sizes asked with a GET of one byte', async () => {
  const sizes = Object.fromEntries(
    (await readdir(join(dir, 'lab', 'blobs'), { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => [`lab/blobs/${e.parentPath.slice(join(dir, 'lab', 'blobs').length + 1)}/${e.name}`, 0]),
  )
  for (const [path] of Object.entries(sizes)) sizes[path] = (await readFile(join(dir, path))).length
  for (const [status, range] of [[405, true], [405, false], [403, true], [501, false]] as const) {
    const what = `HEAD ${status}, Range ${range ? 'honoured' : 'ignored'}`
    const server = await startStaticServer(dir, { range, refuseHead: status })
    try {
      const v = await openVault(`${server.url}lab/`, { storage: 'http', http: { cacheBytes: 0 } })
      try {
        assert.equal((await v.info()).sizeBytes, fsSizeBytes, `${what}: the size counts every file, as on fs`)
      } finally {
        await v.close()
      }
      const adapter = new HttpAdapter(server.url, { cacheBytes: 0 })
      const heads = server.requests.filter((r) => r.method === 'HEAD').length
      for (const [path, size] of Object.entries(sizes)) assert.equal(await adapter.size(path), size, `${what}: ${path}`)
      assert.equal(server.requests.filter((r) => r.method === 'HEAD').length, heads + 1, `${what}: the refusal is remembered, one HEAD for the adapter's sizes one after another`)
      assert.equal(await adapter.size('lab/blobs/00/nothing'), undefined, `${what}: a missing file`)
      await adapter.close()
      if (range) assert.ok(server.requests.filter((r) => r.method === 'GET' && r.path.includes('/blobs/')).every((r) => r.range === 'bytes=0-0' && r.bytes <= 1), `${what}: one byte per blob, not the blob`)
    } finally {
      await server.close()
    }
  }
})

describe('failures are typed and fast', () => {
  test('no vault at the URL: NotFoundError naming it', async () => {
    await assert.rejects(openVault(`${ranged.url}nothing-here/`, { storage: 'http' }), (err: unknown) => err instanceof NotFoundError && (err as Error).message.includes(`${ranged.url}nothing-here/`))
  })

  test('a server that is down: NetworkError naming the URL', async () => {
    const gone = await startStaticServer(dir)
    const url = gone.url
    await gone.close()
    await assert.rejects(openVault(`${url}lab/`, { storage: 'http' }), (err: unknown) => err instanceof NetworkError && (err as Error).message.includes(`${url}lab/manifest-`))
  })

  test('a server that never answers: NetworkError after the timeout, not a hang', { timeout: 20_000 }, async () => {
    const server = await startStaticServer(dir)
    try {
      server.hang = /image-/
      await assert.rejects(openVault(`${server.url}lab/`, { storage: 'http', http: { timeoutMs: 300 } }), (err: unknown) => err instanceof NetworkError && /nothing received for 300 ms/.test((err as Error).message))
    } finally {
      await server.close()
    }
  })

  test('a host that stops sending in the middle of a file: NetworkError; one slow but steady is waited for', { timeout: 30_000 }, async () => {
    const server = await startStaticServer(dir)
    try {
      const v = await openVault(`${server.url}lab/`, { storage: 'http', http: { timeoutMs: 1500 } })
      server.trickle = { match: /\/blobs\//, pieces: 0, everyMs: 0 }
      await assert.rejects(v.kv().get('big'), (err: unknown) => err instanceof NetworkError && /nothing received for 1500 ms/.test((err as Error).message))
      // Twenty pieces 150 ms apart: three seconds in all, twice the timeout, never silent that long.
      server.trickle = { match: /\/blobs\//, pieces: 20, everyMs: 150 }
      assert.deepEqual(await v.kv().get('big'), fixture.bigValue())
      await v.close()
    } finally {
      await server.close()
    }
  })

  test('an HTTP failure on a blob: NetworkError with URL and status; the vault stays usable', async () => {
    const server = await startStaticServer(dir)
    try {
      const v = await openVault(`${server.url}lab/`, { storage: 'http' })
      server.failWith = { match: /\/blobs\//, status: 503 }
      await assert.rejects(v.kv().get('big'), (err: unknown) => err instanceof NetworkError && /\/lab\/blobs\/[0-9a-f]{2}\/[0-9a-f]{64} answered HTTP 503/.test((err as Error).message))
      assert.equal(await v.kv().get('lr'), 3e-4)
      server.failWith = undefined
      assert.equal(((await v.kv().get('big')) as Uint8Array).length, fixture.bigValueBytes, 'read once the host is back')
      await v.close()
    } finally {
      await server.close()
    }
  })

  test('vault.sql while the host fails the blobs: the relation that needs them is NetworkError alone, and is made once the host is back', { timeout: 120_000 }, async () => {
    const server = await startStaticServer(dir)
    try {
      const v = await openVault(`${server.url}lab/`, { storage: 'http' })
      server.failWith = { match: /\/blobs\//, status: 503 }
      // Before: every query failed (SELECT 1 too), and the failure stayed until the data changed.
      await assert.rejects(v.sql('SELECT key FROM kv'), (err: unknown) => err instanceof NetworkError && /relation "kv" could not be made .*answered HTTP 503/.test((err as Error).message))
      assert.equal(Number((await v.sql('SELECT 1 AS x')).toArray()[0]!.toJSON().x), 1)
      server.failWith = undefined
      server.requests.length = 0
      const rows = (await v.sql('SELECT key, kind, size FROM kv ORDER BY key')).toArray().map((r) => r.toJSON())
      assert.deepEqual(rows.find((r) => r.key === 'big'), { key: 'big', kind: 'bytes', size: fixture.bigValueBytes }, 'the kv relation once the host is back')
      // Raw bytes have no JSON: their size is asked for (HEAD), the 3 MiB are not downloaded.
      const bigHash = createHash('sha256').update(fixture.bigValue()).digest('hex')
      const bigRequests = server.requests.filter((r) => r.path.endsWith(bigHash))
      assert.ok(bigRequests.length > 0, 'its size was asked for')
      assert.equal(bigRequests.reduce((n, r) => n + r.bytes, 0), 0, 'none of its bytes downloaded')
      await v.close()
    } finally {
      await server.close()
    }
  })

  test('a Range read of a verified blob that fails: NetworkError (a passing outage), not CorruptionError (damage)', async () => {
    // Before, every failure of a range read was reported as "blob … is missing" (CorruptionError).
    const server = await startStaticServer(dir)
    try {
      const v = await openVault(`${server.url}lab/`, { storage: 'http', http: { cacheBytes: 0 } })
      const wide = await v.lists.get<EmbeddingList>('wide')
      assert.deepEqual([...((await wide.get(7)) as Float32Array)], new Array(16).fill(7), 'read whole and verified first')
      server.failWith = { match: /\/blobs\//, status: 503 }
      await assert.rejects(wide.get(4999), (err: unknown) => err instanceof NetworkError && /answered HTTP 503/.test((err as Error).message))
      server.failWith = undefined
      assert.deepEqual([...((await wide.get(4999)) as Float32Array)], new Array(16).fill(4999), 'read once the host is back')
      await v.close()
    } finally {
      await server.close()
    }
  })

  test("a vault folder copied without its log: CorruptionError advising to copy it again (a static host cannot be repaired, so not { repair: true })", async () => {
    const server = await startStaticServer(dir)
    try {
      server.failWith = { match: /\/log-\d+\.log$/, status: 404 }
      await assert.rejects(openVault(`${server.url}lab/`, { storage: 'http' }), (err: unknown) => err instanceof CorruptionError && /is missing; a vault on a static host cannot be repaired: copy/.test((err as Error).message) && !(err as Error).message.includes('repair: true'))
    } finally {
      await server.close()
    }
  })

  test('bad URLs and options: InvalidArgumentError before any request', async () => {
    const count = ranged.requests.length
    const bad: [string, object][] = [
      ['ftp://example.org/lab/', {}],
      ['lab', {}], // relative: Node has no page to resolve it against
      [`${ranged.url}`, {}], // no folder
      [`${ranged.url}lab/?v=1`, {}],
      [`${ranged.url}lab/#x`, {}],
      [`${ranged.url}a%3Ab/`, {}], // ':' is not allowed in a vault name
      [`${ranged.url}%E0%A4%A/`, {}], // malformed percent-encoding
      [`${ranged.url}lab/`, { readOnly: false }],
      [`${ranged.url}lab/`, { create: true }],
      [`${ranged.url}lab/`, { repair: true }],
      [`${ranged.url}lab/`, { restart: true }],
      [`${ranged.url}lab/`, { http: { timeoutMs: 0 } }],
      [`${ranged.url}lab/`, { http: { cacheBytes: -1 } }],
      [`${ranged.url}lab/`, { http: { retries: 3 } }],
    ]
    for (const [url, options] of bad) await assert.rejects(openVault(url, { storage: 'http', ...options }), InvalidArgumentError, `${url} ${JSON.stringify(options)}`)
    await assert.rejects(openVault('lab', { storage: 'fs', path: dir, http: { timeoutMs: 5 } }), InvalidArgumentError, 'http options without http storage')
    assert.equal(ranged.requests.length, count)
    await assert.rejects(listVaults({ storage: 'http' }), UnsupportedError)
    await assert.rejects(deleteVault('lab', { storage: 'http' }), UnsupportedError)
    // Named by its URL (no vault name): still the storage's refusal, not the name's.
    await assert.rejects(deleteVault(`${ranged.url}lab/`, { storage: 'http' }), UnsupportedError)
  })
})

test('the same vault opened twice over HTTP: two independent readers', async () => {
  const [a, b] = await Promise.all([openVault(`${ranged.url}lab/`, { storage: 'http' }), openVault(`${plain.url}lab/`, { storage: 'http' })])
  try {
    assert.deepEqual(await Promise.all([a.kv().get('lr'), b.kv().get('lr')]), [3e-4, 3e-4])
    await a.close()
    assert.equal(await b.kv().get('lr'), 3e-4, 'closing one leaves the other open')
  } finally {
    await a.close()
    await b.close()
  }
})

test('vault.sql reads a vault served over HTTP', async () => {
  const v = await openVault(`${ranged.url}lab/`, { storage: 'http' })
  try {
    const t = await v.sql("SELECT count(*)::INTEGER AS n FROM kv WHERE namespace = 'default'")
    assert.equal(t.getChild('n')!.get(0), 3)
  } finally {
    await v.close()
  }
})
