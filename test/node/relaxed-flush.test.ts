/**
 * Relaxed durability when storage fails after the write was acknowledged (issue 13, part 7): a
 * relaxed write resolves once its record is appended (buffered by the adapter: IndexedDB, and OPFS
 * for small appends), and is made durable by a background flush ~100 ms later. When that flush
 * fails, the acknowledged writes must stay (in memory and, once storage works again, on disk), and
 * the writer must learn of the failure at its next write, not only at close.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { MemoryAdapter, QuotaExceededError, openVault } from '../../src/node.js'

/** A memory adapter whose `sync` fails (as a full disk does) while `failing` is set. */
class FailingSyncAdapter extends MemoryAdapter {
  failing = false
  failedSyncs = 0
  override async sync(path: string): Promise<void> {
    if (this.failing) {
      this.failedSyncs++
      throw new DOMException('the disk is full', 'QuotaExceededError')
    }
    return super.sync(path)
  }
}

/** Wait (bounded) until `condition` holds: the background flush runs on a timer. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 10))
  assert.ok(condition(), `timed out waiting for ${what}`)
}

describe('relaxed writes when the background flush fails', () => {
  test('the next write rejects with the flush error; acknowledged writes stay, and land once storage works', async () => {
    const storage = new FailingSyncAdapter()
    const v = await openVault('relaxed-flush', { storage, durability: 'relaxed' })
    await v.kv().set('a', 1)
    storage.failing = true
    await v.kv().set('b', 2) // appended, acknowledged; its flush is still to come
    await until(() => storage.failedSyncs > 0, 'the background flush')

    await assert.rejects(v.kv().set('c', 3), (err: unknown) => err instanceof QuotaExceededError)
    assert.equal(await v.kv().get('b'), 2, 'an acknowledged relaxed write is kept after its flush failed')
    assert.equal(await v.kv().get('c'), undefined, 'the rejected write changed nothing')
    // Still failing: every write says so (nothing is acknowledged into a log that cannot be synced).
    await assert.rejects(v.kv().set('c', 3), (err: unknown) => err instanceof QuotaExceededError)

    storage.failing = false
    await v.kv().set('d', 4)
    await v.close()

    const again = await openVault('relaxed-flush', { storage })
    try {
      assert.deepEqual(
        await Promise.all(['a', 'b', 'c', 'd'].map((k) => again.kv().get(k))),
        [1, 2, undefined, 4],
      )
    } finally {
      await again.close()
    }
  })

  test('a strict write after a failed relaxed flush rejects too, and the relaxed writes before it stay', async () => {
    const storage = new FailingSyncAdapter()
    const relaxed = await openVault('relaxed-flush-2', { storage, durability: 'relaxed' })
    const strict = await openVault('relaxed-flush-2', { storage })
    storage.failing = true
    await relaxed.kv().set('r', 1)
    await until(() => storage.failedSyncs > 0, 'the background flush')
    await assert.rejects(strict.kv().set('s', 2), (err: unknown) => err instanceof QuotaExceededError)
    storage.failing = false
    await strict.kv().set('t', 3)
    await relaxed.close()
    await strict.close()
    const again = await openVault('relaxed-flush-2', { storage })
    try {
      assert.deepEqual(await Promise.all(['r', 's', 't'].map((k) => again.kv().get(k))), [1, undefined, 3])
    } finally {
      await again.close()
    }
  })
})
