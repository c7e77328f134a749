/**
 * Several handles of one vault in one process share its engine, and each keeps its own options
 * (issue 8, item 7): read-only and durability are per handle; engine-level options must agree.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConflictError, MemoryAdapter, UnsupportedError, openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

/** A memory adapter that counts `sync` calls: a strict write syncs before it resolves. */
class CountingAdapter extends MemoryAdapter {
  syncs = 0
  override async sync(path: string): Promise<void> {
    this.syncs++
    return super.sync(path)
  }
}

describe('per-handle options in one process', () => {
  test('a strict handle gets strict writes even when the first handle is relaxed, and the other way round', async () => {
    const storage = new CountingAdapter()
    const relaxed = await openVault('dur', { storage, durability: 'relaxed' })
    const strict = await openVault('dur', { storage })
    assert.equal((await relaxed.info()).durability, 'relaxed')
    assert.equal((await strict.info()).durability, 'strict')

    let before = storage.syncs
    await strict.kv().set('s', 1)
    assert.ok(storage.syncs > before, 'the strict handle synced before its write resolved')

    before = storage.syncs
    await relaxed.kv().set('r', 1)
    assert.equal(storage.syncs, before, 'the relaxed handle resolved before any sync')

    // Transactions and the other domains carry the handle's durability too.
    before = storage.syncs
    await strict.transaction(async (tx) => tx.kv().set('t', 1))
    assert.ok(storage.syncs > before, 'a strict handle’s transaction commit is synced')
    before = storage.syncs
    await (await strict.columns.create('c', 'f64')).append(1)
    assert.ok(storage.syncs > before, 'a strict handle’s column write is synced')

    // Strict opened first, relaxed second: the relaxed one does not wait for syncs.
    await relaxed.close()
    const relaxed2 = await openVault('dur', { storage, durability: 'relaxed' })
    before = storage.syncs
    await relaxed2.kv().set('r2', 1)
    assert.equal(storage.syncs, before)
    await relaxed2.close()
    await strict.close()
  })

  test('a read-only handle cannot write (UnsupportedError, nothing written) while a writable handle of the same vault can', async () => {
    const dir = tempDir()
    const writer = await openVault('ro', { storage: 'fs', path: dir })
    const reader = await openVault('ro', { storage: 'fs', path: dir, readOnly: true })
    await writer.kv().set('a', 1)
    const refused: [string, () => Promise<unknown>][] = [
      ['kv.set', () => reader.kv().set('b', 2)],
      ['kv.setMany', () => reader.kv().setMany([['b', 2]])],
      ['kv.delete', () => reader.kv().delete('a')],
      ['kv.clear', () => reader.kv().clear()],
      ['columns.create', () => reader.columns.create('c', 'f64')],
      ['lists.create', () => reader.lists.create('l', { type: 'document' })],
      ['session', () => reader.session('s')],
      ['processes.start', () => reader.processes.start('p')],
      ['transaction', () => reader.transaction(async () => 1)],
      ['checkpoint', () => reader.checkpoint()],
    ]
    for (const [what, call] of refused) await assert.rejects(call(), UnsupportedError, what)
    assert.equal(await reader.kv().get('a'), 1)
    assert.equal(await reader.kv().has('b'), false)
    assert.equal((await reader.info()).readOnly, true)
    assert.equal((await writer.info()).readOnly, false)
    await writer.kv().set('c', 3)
    assert.equal(await reader.kv().get('c'), 3)
    await reader.close()
    await writer.close()
  })

  test('a writable handle writes when the first handle (which opened the engine) is read-only', async () => {
    const dir = tempDir()
    const seed = await openVault('ro-first', { storage: 'fs', path: dir })
    await seed.kv().set('x', 0)
    await seed.close()
    const reader = await openVault('ro-first', { storage: 'fs', path: dir, readOnly: true })
    const writer = await openVault('ro-first', { storage: 'fs', path: dir })
    await writer.kv().set('x', 1)
    await writer.transaction(async (tx) => tx.kv().set('y', 2))
    await writer.checkpoint()
    assert.equal(await reader.kv().get('x'), 1)
    await assert.rejects(reader.kv().set('x', 9), UnsupportedError)
    await writer.close()
    await reader.close()
    const again = await openVault('ro-first', { storage: 'fs', path: dir, readOnly: true })
    assert.deepEqual([await again.kv().get('x'), await again.kv().get('y')], [1, 2])
    await again.close()
  })

  test('engine-level options that differ from the open engine’s are refused with ConflictError', async () => {
    const dir = tempDir()
    const first = await openVault('lvl', { storage: 'fs', path: dir, checkpointBytes: 1 << 20 })
    await assert.rejects(openVault('lvl', { storage: 'fs', path: dir, checkpointBytes: 2 << 20 }), (err) => err instanceof ConflictError && /checkpointBytes/.test(err.message))
    await assert.rejects(openVault('lvl', { storage: 'fs', path: dir, sharing: 'exclusive' }), (err) => err instanceof ConflictError && /sharing/.test(err.message))
    await assert.rejects(openVault('lvl', { storage: 'fs', path: dir, lockTimeoutMs: 5 }), ConflictError)
    // The same values, or leaving them out, is fine.
    const same = await openVault('lvl', { storage: 'fs', path: dir, checkpointBytes: 1 << 20, sharing: 'shared', lockTimeoutMs: 10_000 })
    const plain = await openVault('lvl', { storage: 'fs', path: dir })
    await same.close()
    await plain.close()
    await first.close()
  })
})
