import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { CorruptionError, openVault, type EmbeddingList } from '../../src/node.js'
import { tempDir } from './helpers.js'

// storage 'http' against hosts that answer wrongly (the ordinary cases are in http-storage.test.ts):
// wrong bytes are a typed error, never data.

const dir = tempDir('labvault-http-hostile-')
const PORT = 6337
/** What the host does with a Range request: answer it, or send a whole other file with 200. */
let onRange: 'honour' | 'other-file' = 'honour'
let server: Server

const DIM = 4
const ROWS = 6000 // 96 000 bytes of vectors: one blob (above the inline threshold)

before(async () => {
  const v = await openVault('lab', { path: dir })
  const emb = (await v.lists.create('emb', { type: 'embedding', dim: DIM })) as EmbeddingList
  await emb.append(new Float32Array(DIM * ROWS).map((_, i) => i) as never)
  await v.close()
  server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
      let bytes: Uint8Array
      try {
        bytes = await readFile(join(dir, path))
      } catch {
        res.writeHead(404)
        return res.end()
      }
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
      if (range && onRange === 'other-file') {
        // A host that ignores Range and serves something else at that path (a fallback page, a
        // file replaced since): longer than the blob, so no slice of it comes out short.
        const other = new Uint8Array(bytes.length + 1000).fill(1)
        res.writeHead(200, { 'content-length': String(other.length) })
        return res.end(other)
      }
      if (range) {
        const start = Number(range[1])
        const end = Math.min(Number(range[2]), bytes.length - 1)
        res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': String(end - start + 1) })
        return res.end(bytes.subarray(start, end + 1))
      }
      res.writeHead(200, { 'content-length': String(bytes.length) })
      res.end(req.method === 'HEAD' ? undefined : bytes)
    })()
  })
  await new Promise<void>((done) => server.listen(PORT, '127.0.0.1', done))
})

after(async () => {
  server.closeAllConnections()
  await new Promise<void>((done) => server.close(() => done()))
})

test('a Range request answered 200 with another file: CorruptionError, not slices of the wrong bytes', async () => {
  onRange = 'honour'
  // No cache: after its first (verified) read, each read of the blob is a Range request.
  const v = await openVault(`http://127.0.0.1:${PORT}/lab/`, { storage: 'http', http: { cacheBytes: 0 } })
  try {
    const emb = await v.lists.get<EmbeddingList>('emb')
    const row = (i: number) => [...Array(DIM).keys()].map((k) => DIM * i + k)
    assert.deepEqual([...((await emb.get(5)) as Float32Array)], row(5), 'the blob is read whole and verified')
    assert.deepEqual([...((await emb.get(5000)) as Float32Array)], row(5000), 'a later read asks for a range')
    onRange = 'other-file'
    await assert.rejects(emb.get(4000), (e: unknown) => e instanceof CorruptionError && /not this blob/.test((e as Error).message))
    onRange = 'honour'
    assert.deepEqual([...((await emb.get(4000)) as Float32Array)], row(4000), 'the next read tries again')
  } finally {
    onRange = 'honour'
    await v.close()
  }
})
