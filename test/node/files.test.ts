/**
 * Files, descriptors and other processes (issue 8, items 2 and 6, and the Node limits):
 * - close() releases every descriptor (500 vaults opened and closed: /proc/self/fd does not grow),
 *   and a failed open releases what it opened, so a retry after the folder was fixed works;
 * - an open always reads the files on disk now, after another process deleted or replaced the vault;
 * - an engine still open while the folder is removed or replaced underneath fails its writes with
 *   ConflictError instead of acknowledging writes that go nowhere; deleteVault of a vault open in
 *   another process is refused (ConflictError) and the vault left intact;
 * - deleteVault deletes only a vault (a folder of user files is refused, nothing deleted);
 * - a user's `image-0.sqlite` in a non-vault folder is not taken for an abandoned creation;
 * - names over 255 UTF-8 bytes, lone surrogates, a path with NUL: InvalidArgumentError.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'
import { chmodSync } from 'node:fs'
import { ConflictError, CorruptionError, InvalidArgumentError, MemoryAdapter, NotFoundError, QuotaExceededError, VaultError, deleteVault, listVaults, openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const CHILD = fileURLToPath(new URL('./fixtures/files-child.ts', import.meta.url))
const fdCount = () => readdirSync('/proc/self/fd').length
const hasProc = existsSync('/proc/self/fd')

/** Run the child fixture (another process) and return its JSON answer. `asOther`: as an unprivileged user when we are root. */
function child(dir: string, name: string, action: string, asOther = false): Record<string, unknown> {
  const ids = asOther && process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}
  const out = execFileSync(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify({ dir, name, action })], { encoding: 'utf8', ...ids })
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>
}

describe('file descriptors', { skip: !hasProc && 'needs /proc/self/fd' }, () => {
  test('open and close 500 vaults in one process: the descriptor count does not grow', async () => {
    const dir = tempDir()
    const warm = await openVault('warm', { path: dir })
    await warm.kv().set('x', 1)
    await warm.close()
    const before = fdCount()
    for (let i = 0; i < 500; i++) {
      const v = await openVault(`v${i % 50}`, { path: dir })
      await v.kv().set(`k${i}`, i)
      if (i % 25 === 0) {
        await v.kv().set(`big${i}`, new Uint8Array(300 * 1024).fill(i % 251)) // a blob file
        await v.checkpoint()
        assert.equal(((await v.kv().get(`big${i}`)) as Uint8Array)[0], i % 251)
      }
      await v.close()
    }
    assert.equal(fdCount(), before, 'descriptors left open after 500 open/close cycles')
  })

  test('a failed open releases what it opened, and a retry after the folder was fixed works', async () => {
    const dir = tempDir()
    const v = await openVault('fix', { path: dir })
    await v.kv().set('a', 1)
    await v.checkpoint()
    await v.close()
    const image = readdirSync(join(dir, 'fix')).find((f) => f.startsWith('image-'))!
    const good = readFileSync(join(dir, 'fix', image))
    const before = fdCount()
    // Replace the image by a damaged copy (a new file, as most tools write one).
    rmSync(join(dir, 'fix', image))
    writeFileSync(join(dir, 'fix', image), good.subarray(0, good.length >> 1))
    for (let i = 0; i < 20; i++) await assert.rejects(openVault('fix', { path: dir }), CorruptionError)
    assert.equal(fdCount(), before, 'a failed open kept descriptors')
    rmSync(join(dir, 'fix', image))
    writeFileSync(join(dir, 'fix', image), good)
    const again = await openVault('fix', { path: dir })
    assert.equal(await again.kv().get('a'), 1)
    await again.close()
    assert.equal(fdCount(), before)
  })
})

describe('another process deletes or replaces the vault', () => {
  for (const action of ['deleteVault', 'rm', 'replace'] as const) {
    test(`${action} by a child process, then a reopen here reads what is on disk now`, async () => {
      const dir = tempDir()
      const v = await openVault('lab', { path: dir })
      await v.kv().set('old', 1)
      await v.close()
      assert.ok(!('error' in child(dir, 'lab', action)))
      if (action === 'replace') {
        const r = await openVault('lab', { path: dir })
        assert.deepEqual(await r.kv().entries(), [['restored', true]])
        await r.close()
      } else {
        await assert.rejects(openVault('lab', { path: dir, create: false }), NotFoundError)
        const r = await openVault('lab', { path: dir })
        assert.deepEqual(await r.kv().entries(), [])
        await r.close()
      }
    })

    for (const durability of ['strict', 'relaxed'] as const) {
      if (action === 'deleteVault') {
        test(`deleteVault by a child process while the vault is open here (${durability}): refused with ConflictError, the vault intact and writable`, async () => {
          const dir = tempDir()
          const v = await openVault('lab', { path: dir, durability })
          await v.kv().set('old', 1)
          await v.kv().set('big', new Uint8Array(300 * 1024).fill(3))
          const answer = child(dir, 'lab', action) as { error?: { name: string; message: string } }
          assert.equal(answer.error?.name, 'ConflictError', JSON.stringify(answer))
          assert.match(answer.error!.message, /open in another process \(pid \d+/)
          await v.kv().set('new', 2)
          await v.close()
          const r = await openVault('lab', { path: dir, create: false })
          assert.deepEqual(await r.kv().keys(), ['big', 'new', 'old'])
          assert.equal(((await r.kv().get('big')) as Uint8Array)[0], 3)
          await r.close()
          // Closed everywhere: now it goes.
          assert.deepEqual(child(dir, 'lab', action), { deleted: true })
          assert.deepEqual(await listVaults({ path: dir }), [])
        })
        continue
      }
      test(`${action} by a child process while the vault is open here (${durability}): writes fail with ConflictError, none acknowledged`, async () => {
        const dir = tempDir()
        const v = await openVault('lab', { path: dir, durability })
        await v.kv().set('old', 1)
        await v.kv().set('big', new Uint8Array(300 * 1024).fill(3))
        assert.ok(!('error' in child(dir, 'lab', action)))
        for (let i = 0; i < 3; i++) {
          await assert.rejects(v.kv().set(`new${i}`, i), (err: Error) => {
            assert.ok(err instanceof ConflictError, `${err.name}: ${err.message}`)
            return true
          })
        }
        await v.close().catch((err: unknown) => assert.ok(err instanceof VaultError, String(err)))
        // Nothing this process wrote after the deletion is on disk, and no half vault was left.
        if (action === 'replace') {
          const r = await openVault('lab', { path: dir })
          assert.deepEqual(await r.kv().entries(), [['restored', true]])
          await r.close()
        } else {
          assert.deepEqual(await listVaults({ path: dir }), [])
          await assert.rejects(openVault('lab', { path: dir, create: false }), NotFoundError)
        }
      })
    }
  }
})

describe('deleteVault deletes only a vault', () => {
  test('a folder of user files: InvalidArgumentError and nothing deleted', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'photos'))
    writeFileSync(join(dir, 'photos', 'cat.jpg'), 'meow')
    writeFileSync(join(dir, 'photos', 'image-0.sqlite'), 'not ours')
    await assert.rejects(deleteVault('photos', { path: dir }), InvalidArgumentError)
    assert.deepEqual(readdirSync(join(dir, 'photos')).sort(), ['cat.jpg', 'image-0.sqlite'])
    // Only vault-like names but none written by labvault: refused too.
    mkdirSync(join(dir, 'lookalike'))
    writeFileSync(join(dir, 'lookalike', 'manifest-0'), 'hello')
    writeFileSync(join(dir, 'lookalike', 'log-3.log'), 'world')
    await assert.rejects(deleteVault('lookalike', { path: dir }), InvalidArgumentError)
    assert.equal(readdirSync(join(dir, 'lookalike')).length, 2)
    // A vault with a file the user put in it: refused, named.
    const v = await openVault('mixed', { path: dir })
    await v.close()
    writeFileSync(join(dir, 'mixed', 'notes.txt'), 'mine')
    await assert.rejects(deleteVault('mixed', { path: dir }), /notes\.txt/)
    assert.ok(existsSync(join(dir, 'mixed', 'manifest-0')))
  })

  test('a vault, a damaged vault and an abandoned creation are deleted; a missing one is false', async () => {
    const dir = tempDir()
    const v = await openVault('lab', { path: dir })
    await v.kv().set('big', new Uint8Array(300 * 1024))
    await v.close()
    assert.equal(await deleteVault('lab', { path: dir }), true)
    assert.ok(!existsSync(join(dir, 'lab')) || readdirSync(join(dir, 'lab')).length === 0)
    assert.equal(await deleteVault('lab', { path: dir }), false)
    const d = await openVault('damaged', { path: dir })
    await d.close()
    for (const slot of ['manifest-0', 'manifest-1']) rmSync(join(dir, 'damaged', slot), { force: true })
    assert.equal(await deleteVault('damaged', { path: dir }), true)
  })

  test("a user's image-0.sqlite in a non-vault folder is not overwritten as an abandoned creation", async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'mine'))
    writeFileSync(join(dir, 'mine', 'image-0.sqlite'), 'my own database')
    await assert.rejects(openVault('mine', { path: dir }), CorruptionError)
    assert.equal(readFileSync(join(dir, 'mine', 'image-0.sqlite'), 'utf8'), 'my own database')
  })
})

describe('names and paths', () => {
  test('a name over 255 UTF-8 bytes (not characters): InvalidArgumentError; 255 bytes work', async () => {
    const dir = tempDir()
    const tooLong = 'é'.repeat(128) // 128 characters, 256 bytes
    for (const call of [() => openVault(tooLong, { path: dir }), () => deleteVault(tooLong, { path: dir })]) {
      await assert.rejects(call(), (err: Error) => err instanceof InvalidArgumentError && /255 bytes/.test(err.message))
    }
    const fits = 'é'.repeat(127) + 'a' // 255 bytes
    const v = await openVault(fits, { path: dir })
    await v.kv().set('a', 1)
    await v.close()
    assert.deepEqual(await listVaults({ path: dir }), [fits])
  })

  test('names with lone surrogates: InvalidArgumentError (they would share a folder)', async () => {
    const dir = tempDir()
    for (const name of ['a\uD800', 'a\uDC00', '\uDC00\uD800', 'x😀'.slice(0, -1)]) {
      await assert.rejects(openVault(name, { path: dir }), InvalidArgumentError)
      await assert.rejects(deleteVault(name, { path: dir }), InvalidArgumentError)
    }
    const v = await openVault('ok😀', { path: dir })
    await v.close()
  })

  test('a path with NUL: InvalidArgumentError', async () => {
    await assert.rejects(openVault('lab', { path: 'vaults\0evil' }), InvalidArgumentError)
    await assert.rejects(listVaults({ path: 'a\0b' }), InvalidArgumentError)
    await assert.rejects(deleteVault('lab', { path: 'a\0b' }), InvalidArgumentError)
  })
})

describe('permissions, space and leftovers', () => {
  test('read-only vault files (chmod a-w) open with readOnly: true; writing there is a typed error', async () => {
    const dir = tempDir()
    chmodSync(dir, 0o755)
    const v = await openVault('lab', { path: dir })
    await v.kv().set('a', 1)
    await v.kv().set('big', new Uint8Array(300 * 1024).fill(9))
    await v.close()
    const walk = (p: string): void => {
      for (const e of readdirSync(p, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(p, e.name))
        chmodSync(join(p, e.name), e.isDirectory() ? 0o555 : 0o444)
      }
    }
    walk(join(dir, 'lab'))
    chmodSync(join(dir, 'lab'), 0o555)
    try {
      const read = child(dir, 'lab', 'read', true)
      assert.ok(!('error' in read), JSON.stringify(read))
      assert.deepEqual(read.keys, ['a', 'big'])
      const write = child(dir, 'lab', 'write', true)
      assert.equal((write.error as { code?: string } | undefined)?.code, 'INVALID_ARGUMENT', JSON.stringify(write))
      // A folder where the vault would be created is not writable: typed too.
      chmodSync(dir, 0o555)
      const create = child(dir, 'fresh', 'write', true)
      assert.equal((create.error as { code?: string } | undefined)?.code, 'INVALID_ARGUMENT', JSON.stringify(create))
    } finally {
      chmodSync(dir, 0o755)
      chmodSync(join(dir, 'lab'), 0o755)
    }
  })

  test('a checkpoint that fails for lack of space leaves no partial image; the vault goes on', async () => {
    class FullDisk extends MemoryAdapter {
      full = false
      override async sync(path: string): Promise<void> {
        if (this.full && /image-\d+\.sqlite$/.test(path)) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
        return super.sync(path)
      }
    }
    const storage = new FullDisk()
    const v = await openVault('lab', { storage })
    await v.kv().set('a', 1)
    const before = await storage.list('lab')
    storage.full = true
    await assert.rejects(v.checkpoint(), QuotaExceededError)
    assert.deepEqual(await storage.list('lab'), before, 'the partial image and log were removed')
    storage.full = false
    await v.kv().set('b', 2)
    await v.checkpoint()
    await v.close()
    const r = await openVault('lab', { storage })
    assert.deepEqual(await r.kv().entries(), [['a', 1], ['b', 2]])
    await r.close()
  })

  test('blobs of a write that never committed (a killed column extend) are collected at the next open', async () => {
    class DyingLog extends MemoryAdapter {
      dead = false
      override async append(path: string, data: Uint8Array): Promise<number> {
        if (this.dead) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })
        return super.append(path, data)
      }
    }
    const storage = new DyingLog()
    const blobCount = async () => {
      let n = 0
      for (const p of await storage.list('lab/blobs')) n += (await storage.list(`lab/blobs/${p}`)).length
      return n
    }
    const v = await openVault('lab', { storage })
    const c = await v.columns.create('c', 'f64', { minChunkBytes: 256 * 1024, maxChunkBytes: 256 * 1024 })
    await c.extend(Float64Array.from({ length: 65536 }, (_, i) => i)) // two blob chunks, committed
    assert.equal(await blobCount(), 2)
    storage.dead = true
    await assert.rejects(c.extend(Float64Array.from({ length: 65536 }, (_, i) => -i)))
    assert.equal(await blobCount(), 4, 'the failed extend left its chunk files')
    storage.dead = false
    await v.close()
    const r = await openVault('lab', { storage })
    assert.equal(await blobCount(), 2, 'orphans collected at open, referenced chunks kept')
    const col = await r.columns.get('c')
    assert.equal(await col.length(), 65536)
    assert.equal(await col.get(65535), 65535)
    await r.close()
  })
})
