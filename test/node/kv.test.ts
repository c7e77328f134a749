import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  InvalidArgumentError,
  MemoryAdapter,
  NotFoundError,
  VaultError,
  deleteVault,
  listVaults,
  openVault,
  type Vault,
} from '../../src/node.js'
import { BlobStore } from '../../src/persistence/blob-store.js'
import { tempDir } from './helpers.js'

// Key-value behaviour through the public API is checked by test/conformance/kv-conformance.ts (run on
// memory and fs by vault-conformance.test.ts, and in Chromium). What stays here needs Node: the blob
// store itself, vault names and lifecycle on disk, engine options (durability, checkpointBytes,
// readOnly) and a larger concurrent run than a follower tab can afford.

const dir = tempDir()
let counter = 0
async function fresh(options: Parameters<typeof openVault>[1] = {}): Promise<Vault> {
  return openVault(`kv${++counter}`, { storage: 'fs', path: dir, ...options })
}

describe('the blob store', () => {
  test('the blob byte count kept by puts and collection equals a fresh count of the folder', async () => {
    const storage = new MemoryAdapter()
    const blobs = new BlobStore(storage, 'v')
    assert.equal(await blobs.totalBytes(), 0)
    const a = await blobs.put(new Uint8Array(1000).fill(1))
    const b = await blobs.put(new Uint8Array(3000).fill(2))
    await blobs.put(new Uint8Array(1000).fill(1))
    assert.equal(await blobs.totalBytes(), 4000)
    blobs.unpin(a)
    blobs.unpin(a)
    blobs.unpin(b)
    assert.equal(await blobs.collect(() => new Set([b])), 1)
    assert.equal(await blobs.totalBytes(), 3000)
    assert.equal(await new BlobStore(storage, 'v').totalBytes(), 3000)
    // Another writer added one behind this store's back: counted again after forgetTotal.
    await new BlobStore(storage, 'v').put(new Uint8Array(500))
    assert.equal(await blobs.totalBytes(), 3000)
    blobs.forgetTotal()
    assert.equal(await blobs.totalBytes(), 3500)
  })
})

describe('opening vaults', () => {
  test('vault names are validated', async () => {
    for (const name of ['', '../x', 'a/b', 'a\\b', 'x\u0001', '.', '..', 'a'.repeat(129)]) {
      await assert.rejects(openVault(name, { storage: 'fs', path: dir }), InvalidArgumentError, JSON.stringify(name))
    }
  })

  test('create: false on a missing vault is NotFoundError and creates nothing', async () => {
    await assert.rejects(openVault('nope', { storage: 'fs', path: dir, create: false }), NotFoundError)
    assert.ok(!(await listVaults({ storage: 'fs', path: dir })).includes('nope'))
  })
})

describe('vault lifecycle', () => {
  test('info, listVaults, deleteVault, memory storage', async () => {
    const v = await openVault('life', { storage: 'fs', path: dir, author: 'ana', description: 'runs' })
    const info = await v.info()
    assert.equal(info.name, 'life')
    assert.equal(info.author, 'ana')
    assert.equal(info.description, 'runs')
    assert.equal(info.storage, 'fs')
    assert.equal(info.formatVersion, 3)
    assert.ok(!Number.isNaN(Date.parse(info.createdAt)))
    await v.close()
    assert.ok((await listVaults({ storage: 'fs', path: dir })).includes('life'))
    assert.equal(await deleteVault('life', { storage: 'fs', path: dir }), true)
    assert.equal(await deleteVault('life', { storage: 'fs', path: dir }), false)
    assert.ok(!(await listVaults({ storage: 'fs', path: dir })).includes('life'))
    const m = await openVault('mem', { storage: 'memory' })
    await m.kv().set('a', 1)
    await m.close()
    const m2 = await openVault('mem', { storage: 'memory' })
    assert.equal(await m2.kv().get('a'), 1, 'memory vaults live as long as the process')
    assert.equal((await m2.info()).storage, 'memory')
    await m2.close()
  })

  test('500 concurrent writers on fs are group-committed and all land', async () => {
    const v = await fresh()
    const kv = v.kv()
    await Promise.all(Array.from({ length: 500 }, (_, i) => kv.set(`k${i}`, i)))
    assert.equal(await kv.size(), 500)
    const name = (await v.info()).name
    await v.close()
    const again = await openVault(name, { storage: 'fs', path: dir })
    assert.equal(await again.kv().size(), 500)
    await again.close()
  })

  test('relaxed durability writes land after close and reopen', async () => {
    const v = await fresh({ durability: 'relaxed' })
    const name = (await v.info()).name
    for (let i = 0; i < 100; i++) await v.kv().set(`r${i}`, i)
    await v.close()
    const again = await openVault(name, { storage: 'fs', path: dir })
    assert.equal(await again.kv().size(), 100)
    await again.close()
  })

  test('checkpoints keep data and the log small', async () => {
    const v = await fresh({ checkpointBytes: 64 * 1024 })
    const name = (await v.info()).name
    for (let round = 0; round < 20; round++) {
      await v.kv().setMany(Array.from({ length: 200 }, (_, i) => [`k${round}-${i}`, { round, i, pad: 'x'.repeat(40) }] as const))
    }
    await v.close()
    const again = await openVault(name, { storage: 'fs', path: dir })
    assert.equal(await again.kv().size(), 4000)
    assert.deepEqual(await again.kv().get('k19-199'), { round: 19, i: 199, pad: 'x'.repeat(40) })
    assert.ok((await again.info()).recovery.replayedRecords < 20, 'most records were folded into images')
    await again.close()
  })

  test('readOnly refuses writes', async () => {
    const v = await fresh()
    const name = (await v.info()).name
    await v.kv().set('a', 1)
    await v.close()
    const ro = await openVault(name, { storage: 'fs', path: dir, readOnly: true })
    assert.equal(await ro.kv().get('a'), 1)
    await assert.rejects(ro.kv().set('a', 2), (e: unknown) => VaultError.isVaultError(e) && e.code === 'UNSUPPORTED')
    await assert.rejects(ro.optimize(), (e: unknown) => VaultError.isVaultError(e) && e.code === 'UNSUPPORTED')
    assert.equal(await ro.kv().get('a'), 1)
    await ro.close()
  })
})
