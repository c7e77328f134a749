// Careless and hostile uses of one vault by several Node processes (real child processes):
// calls that fail because another process holds the write lock must not poison later calls.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { existsSync, mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { deleteVault, InvalidArgumentError, LockTimeoutError, openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'
import { startChild } from './sharing-helpers.js'

const dir = tempDir('labvault-sharing-hostile-')

test('a checkpoint that timed out waiting for another process\'s lock does not fail every later checkpoint', { timeout: 60_000 }, async () => {
  const v = await openVault('ckpt-timeout', { storage: 'fs', path: dir, lockTimeoutMs: 300 })
  await v.kv().set('a', 1)
  const holder = startChild({ dir, name: 'ckpt-timeout', action: 'hold-lock' })
  await holder.next('holding')
  await assert.rejects(v.checkpoint(), (err) => err instanceof LockTimeoutError)
  holder.send('go')
  await holder.next('released')
  await holder.exited
  // Before: the failed checkpoint stayed "in progress" and every later checkpoint (also the
  // automatic ones) rejected at once with that old LockTimeoutError.
  await v.checkpoint()
  assert.equal(await v.kv().get('held'), holder.proc.pid)
  assert.equal(await v.kv().get('a'), 1)
  await v.kv().set('b', 2)
  await v.checkpoint()
  await v.close()
})

/** A child holding vault `name`'s write lock (in a transaction) until told to finish. */
async function holdLock(name: string) {
  const holder = startChild({ dir, name, action: 'hold-lock' })
  await holder.next('holding')
  return {
    async release() {
      holder.send('go')
      await holder.next('released')
      await holder.exited
    },
  }
}

test('a refused call issued while a write waits for another process\'s lock rejects: no unhandled rejection (it ended the process)', { timeout: 60_000 }, async () => {
  const v = await openVault('refused-while-waiting', { storage: 'fs', path: dir, lockTimeoutMs: 300 })
  await v.kv().set('a', 1)
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  process.on('unhandledRejection', onUnhandled)
  const holder = await holdLock('refused-while-waiting')
  try {
    const write = v.kv().set('b', 2)
    const refused = v.lists.create('l', { type: 'no such type' } as never)
    await assert.rejects(refused, (err) => err instanceof InvalidArgumentError)
    await assert.rejects(write, (err) => err instanceof LockTimeoutError)
    // The refused call's rejection had no handler while the write waited for the lock.
    assert.deepEqual(unhandled, [])
  } finally {
    process.off('unhandledRejection', onUnhandled)
    await holder.release()
  }
  await v.kv().set('b', 3)
  assert.equal(await v.kv().get('b'), 3)
  await v.close()
})

test('writes and a transaction issued together while another process holds the lock all fail after one lock timeout, not one each in turn', { timeout: 60_000 }, async () => {
  const timeout = 1000
  const v = await openVault('one-timeout', { storage: 'fs', path: dir, lockTimeoutMs: timeout })
  await v.kv().set('a', 1)
  const holder = await holdLock('one-timeout')
  try {
    const started = Date.now()
    // A read between writes makes the writes after it wait in a turn of their own; before, each
    // of them then waited a whole lockTimeoutMs after the previous one failed (here ~5 s in all).
    const calls = [v.kv().set('b', 1), v.kv().get('a'), v.kv().set('c', 1), v.kv().set('d', 1), v.transaction(async (tx) => tx.kv().set('e', 1)), v.kv().set('f', 1)]
    const settled = await Promise.allSettled(calls)
    const elapsed = Date.now() - started
    assert.deepEqual(settled[1], { status: 'fulfilled', value: 1 })
    const errors = settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason)
    assert.equal(errors.length, 5)
    for (const err of errors) assert.ok(err instanceof LockTimeoutError, String(err))
    assert.equal(new Set(errors).size, 1, 'one failed wait for the lock, shared by every call issued before it failed')
    assert.ok(elapsed < timeout * 2.5, `all settled after ${elapsed} ms (lockTimeoutMs ${timeout})`)
  } finally {
    await holder.release()
  }
  // Nothing of them was written; the next calls wait afresh and succeed.
  await v.kv().set('g', 1)
  assert.deepEqual([...(await v.kv().getMany(['b', 'c', 'd', 'e', 'f', 'g']))], [['g', 1]])
  await v.close()
})

test('deleteVault of a name that is a symbolic link to a vault open in another process removes the link and leaves that process writing', { timeout: 60_000 }, async () => {
  const real = join(dir, 'real-root'), alias = join(dir, 'alias-root')
  mkdirSync(real, { recursive: true })
  mkdirSync(alias, { recursive: true })
  const writer = startChild({ dir: real, name: 'target', action: 'set', options: { lockTimeoutMs: 2000 } })
  await writer.next('open')
  writer.send(JSON.stringify(['a', 1]))
  await writer.next('set')
  symlinkSync(join(real, 'target'), join(alias, 'link'))
  assert.equal(await deleteVault('link', { storage: 'fs', path: alias }), true)
  assert.equal(existsSync(join(alias, 'link')), false)
  // Before: the deletion's lock file, taken through the link, stayed in the real folder (its
  // release looked for it under the moved link), so this write got LockTimeoutError.
  writer.send(JSON.stringify(['b', 2]))
  await writer.next('set')
  writer.send('quit')
  await writer.next('closed')
  const v = await openVault('target', { storage: 'fs', path: real })
  assert.deepEqual([...(await v.kv().getMany(['a', 'b']))], [['a', 1], ['b', 2]])
  await v.close()
})
