// Careless and hostile uses of one vault by several Node processes (real child processes):
// calls that fail because another process holds the write lock must not poison later calls.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LockTimeoutError, openVault } from '../../src/node.js'
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
