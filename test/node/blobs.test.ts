/**
 * Blobs are verified on read (issue 8, item 3): a blob is named by the SHA-256 of its bytes, so a
 * file whose bytes do not match is CorruptionError, never different data. Checked for every kind of
 * blob (a kv value over 256 KiB, a column chunk, a file item, an embedding segment) and three kinds
 * of damage (one flipped byte, truncated to half, zero-filled). And `put` does not trust an existing
 * file of the same size: storing that content again repairs it.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CorruptionError, MemoryAdapter, openVault, type Vault } from '../../src/node.js'

const NAME = 'blobs'
const big = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 255)

async function blobFiles(storage: MemoryAdapter): Promise<string[]> {
  const out: string[] = []
  for (const prefix of await storage.list(`${NAME}/blobs`)) for (const h of await storage.list(`${NAME}/blobs/${prefix}`)) out.push(`${NAME}/blobs/${prefix}/${h}`)
  return out
}

const damages: Record<string, (b: Uint8Array) => Uint8Array> = {
  'one flipped byte': (b) => {
    const c = b.slice()
    c[c.length >> 1]! ^= 0x10
    return c
  },
  'truncated to half': (b) => b.slice(0, b.length >> 1),
  'zero-filled': (b) => new Uint8Array(b.length),
}

interface Kind {
  write(v: Vault): Promise<void>
  read(v: Vault): Promise<unknown>
}

const kinds: Record<string, Kind> = {
  'a kv value over 256 KiB': {
    write: async (v) => v.kv().set('big', big(300 * 1024, 1)),
    read: (v) => v.kv().get('big'),
  },
  'a column chunk in a blob': {
    write: async (v) => {
      const c = await v.columns.create('c', 'f64', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
      await c.extend(Float64Array.from({ length: 65536 }, (_, i) => i))
    },
    read: async (v) => (await v.columns.get('c')).slice(),
  },
  'a file item': {
    write: async (v) => {
      const files = await v.lists.create('files', { type: 'file' })
      await files.append({ bytes: big(100_000, 2), name: 'f.bin', type: 'application/octet-stream' })
    },
    read: async (v) => (await v.lists.get('files')).get(0),
  },
  'an embedding segment': {
    write: async (v) => {
      const emb = await v.lists.create('emb', { type: 'embedding', dim: 64 })
      await emb.appendMany(Array.from({ length: 400 }, (_, i) => Float32Array.from({ length: 64 }, (_, j) => i + j / 100)))
    },
    read: async (v) => (await v.lists.get('emb')).get(7),
  },
}

describe('blobs are verified on read', () => {
  for (const [kindName, kind] of Object.entries(kinds)) {
    for (const [damageName, damage] of Object.entries(damages)) {
      test(`${kindName}, ${damageName}: CorruptionError, never wrong data`, async () => {
        const storage = new MemoryAdapter()
        const v = await openVault(NAME, { storage })
        await kind.write(v)
        const good = await kind.read(v)
        await v.close()
        const files = await blobFiles(storage)
        assert.ok(files.length > 0, 'the value is stored in a blob')
        const originals = new Map<string, Uint8Array>()
        for (const f of files) originals.set(f, (await storage.read(f))!)
        for (const f of files) await storage.write(f, damage(originals.get(f)!))
        const r = await openVault(NAME, { storage })
        await assert.rejects(kind.read(r), (err: Error) => {
          assert.ok(err instanceof CorruptionError, `${err.name}: ${err.message}`)
          return true
        })
        await r.close()
        // Restored: the same read gives the original data again.
        for (const [f, bytes] of originals) await storage.write(f, bytes)
        const again = await openVault(NAME, { storage })
        assert.deepEqual(await kind.read(again), good)
        await again.close()
      })
    }
  }

  test('put does not trust an existing file of the same size: storing the content again repairs it', async () => {
    const storage = new MemoryAdapter()
    const v = await openVault(NAME, { storage })
    const bytes = big(300 * 1024, 5)
    await v.kv().set('a', bytes)
    const [file] = await blobFiles(storage)
    await storage.write(file!, damages['one flipped byte']!((await storage.read(file!))!))
    await v.kv().set('b', bytes) // same content: same blob name, same size on disk
    assert.deepEqual(await v.kv().get('b'), bytes)
    assert.deepEqual(await v.kv().get('a'), bytes)
    await v.close()
    const r = await openVault(NAME, { storage })
    assert.deepEqual(await r.kv().get('a'), bytes)
    await r.close()
  })
})

describe('a blob write that fails', () => {
  // A store whose blob syncs fail with the quota (the file's bytes written, then refused): the
  // failed put must leave no file behind, since an adapter that buffers writes (IndexedDB) would
  // try those bytes again at every write-back and at close (close rejected after a quota error).
  class FullForBlobs extends MemoryAdapter {
    full = true
    override async sync(path: string): Promise<void> {
      if (this.full && path.includes('/blobs/')) throw new DOMException('quota', 'QuotaExceededError')
      return super.sync(path)
    }
  }

  test('leaves no blob file, rejects with QuotaExceededError, and later writes and close work', async () => {
    const storage = new FullForBlobs()
    const v = await openVault(NAME, { storage })
    await assert.rejects(v.kv().set('big', big(300 * 1024, 7)), { name: 'QuotaExceededError' })
    assert.deepEqual(await blobFiles(storage), [])
    await v.kv().set('small', 1)
    storage.full = false
    await v.kv().set('big2', big(300 * 1024, 8))
    assert.equal((await blobFiles(storage)).length, 1)
    await v.close()
    const again = await openVault(NAME, { storage })
    assert.equal(await again.kv().get('big'), undefined)
    assert.deepEqual(await again.kv().get('big2'), big(300 * 1024, 8))
    assert.equal(await again.kv().get('small'), 1)
    await again.close()
  })
})
