/**
 * `vault.transaction` used carelessly: a callback that is not a function, one that throws a
 * non-Error, one that returns a plain value, a `tx` kept past its transaction, and what a watcher
 * hears of transactions (all of a committed one, once; nothing of one rolled back).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClosedError, InvalidArgumentError, NotFoundError, openVault } from '../../src/node.js'
import type { ChangeEvent, VaultTransaction } from '../../src/node.js'

test('a callback that is not a function is InvalidArgumentError, refused before the transaction begins', { timeout: 20_000 }, async () => {
  const v = await openVault('tx-not-a-function', { storage: 'memory' })
  try {
    // Another transaction holds the vault meanwhile: a refusal that began a transaction first would
    // wait for it (before: a TypeError once the lock was free).
    let release!: () => void
    const held = v.transaction(async (tx) => {
      await tx.kv().set('held', 1)
      await new Promise<void>((r) => (release = r))
    })
    await new Promise<void>((r) => setImmediate(r))
    for (const bad of [undefined, null, 42, 'fn', {}, [() => {}]]) {
      await assert.rejects((v.transaction as (fn: unknown) => Promise<unknown>)(bad), (err: unknown) => err instanceof InvalidArgumentError && /callback function/.test((err as Error).message), String(bad))
    }
    while (!release) await new Promise<void>((r) => setImmediate(r))
    release()
    await held
    assert.deepEqual([...(await v.kv().keys())], ['held'])
  } finally {
    await v.close()
  }
})

test('a non-Error thrown is rethrown as is and rolls back; a plain return value commits; a tx kept past its end is refused', async () => {
  const v = await openVault('tx-careless', { storage: 'memory' })
  try {
    await assert.rejects(
      v.transaction(async (tx) => {
        await tx.kv().set('thrown', 1)
        throw 'a string'
      }),
      (err: unknown) => err === 'a string',
    )
    assert.equal(await v.kv().has('thrown'), false)
    assert.equal(
      await v.transaction((tx) => {
        void tx.kv().set('sync', 1)
        return 7
      }),
      7,
    )
    assert.equal(await v.kv().get('sync'), 1)
    let kept: VaultTransaction | undefined
    await v.transaction(async (tx) => {
      kept = tx
    })
    await assert.rejects(kept!.kv().set('late', 1), NotFoundError)
    assert.equal(await v.kv().has('late'), false)
  } finally {
    await v.close()
  }
})

test('close() while the callback awaits something that never settles rejects the transaction with ClosedError and commits nothing', { timeout: 20_000 }, async () => {
  // Before: close() rolled it back and freed the lock, but the promise vault.transaction returned
  // stayed pending for ever (the test's timeout is the failure).
  const path = mkdtempSync(join(tmpdir(), 'labvault-tx-close-'))
  try {
    const v = await openVault('tx-close-hang', { storage: 'fs', path })
    await v.kv().set('before', 1)
    let wrote!: () => void
    const written = new Promise<void>((r) => (wrote = r))
    const pending = v.transaction(async (tx) => {
      await tx.kv().set('inside', 1)
      wrote()
      await new Promise<never>(() => {})
    })
    await written
    await v.close()
    await assert.rejects(pending, (err: unknown) => err instanceof ClosedError && /rolled back/.test((err as Error).message))
    const again = await openVault('tx-close-hang', { storage: 'fs', path })
    try {
      assert.deepEqual([...(await again.kv().keys())], ['before'])
      // The write lock is free: a transaction of the reopened vault commits.
      await again.transaction(async (tx) => tx.kv().set('after', 2))
      assert.equal(await again.kv().get('after'), 2)
    } finally {
      await again.close()
    }
  } finally {
    rmSync(path, { recursive: true, force: true })
  }
})

test('a watcher hears a committed transaction once, whole, and nothing of one rolled back or empty', async () => {
  const v = await openVault('tx-watched', { storage: 'memory' })
  try {
    const heard: ChangeEvent[] = []
    await v.watch((c) => void heard.push(c))
    await assert.rejects(
      v.transaction(async (tx) => {
        await tx.kv('rolled').set('k', 1)
        await tx.columns.create('rolled', 'f64')
        throw new Error('no')
      }),
    )
    await v.transaction(async () => {})
    await v.transaction(async (tx) => {
      await tx.kv('one').set('k', 1)
      await tx.kv('two').set('k', 2)
      await (await tx.columns.create('c', 'f64')).extend([1, 2])
    })
    await v.kv('last').set('k', 1)
    while (!heard.some((c) => c.kvNamespaces.includes('last'))) await new Promise((r) => setImmediate(r))
    assert.deepEqual(
      heard.map((c) => [[...c.domains].sort(), [...c.kvNamespaces].sort()]),
      [
        [['columns', 'kv'], ['one', 'two']],
        [['kv'], ['last']],
      ],
    )
    assert.ok(heard[1]!.seq > heard[0]!.seq)
  } finally {
    await v.close()
  }
})

test('a kv write cache turned on in a transaction ends with it: a kept handle’s later set is refused, never buffered and lost', async () => {
  const v = await openVault('tx-kept-cache', { storage: 'memory' })
  try {
    // Committed: the buffer goes into the commit; a set through the kept handle afterwards was
    // buffered (it resolved) and never written anywhere.
    let kept: ReturnType<VaultTransaction['kv']> | undefined
    await v.transaction(async (tx) => {
      kept = tx.kv('c')
      kept.enableCache({ flushIntervalMs: 1 })
      await kept.set('in', 1)
    })
    assert.equal(await v.kv('c').get('in'), 1)
    await assert.rejects(kept!.set('late', 2), NotFoundError)
    assert.equal(await kept!.flush(), 0)
    assert.equal(await v.kv('c').has('late'), false)
    // Rolled back: the buffer is dropped with the transaction (an interval flush of it went on
    // failing for ever), and the kept handle refuses later sets as well.
    let rolled: ReturnType<VaultTransaction['kv']> | undefined
    await assert.rejects(
      v.transaction(async (tx) => {
        rolled = tx.kv('r')
        rolled.enableCache({ flushIntervalMs: 1 })
        await rolled.set('in', 1)
        throw new Error('roll back')
      }),
      /roll back/,
    )
    assert.equal(await rolled!.flush(), 0)
    await assert.rejects(rolled!.set('late', 2), NotFoundError)
    assert.equal(await v.kv('r').size(), 0)
  } finally {
    await v.close()
  }
})

test('writes a vault kv handle buffered before a transaction are written before it: its reads see them, and they never replace what it committed', async () => {
  const v = await openVault('tx-outer-cache', { storage: 'memory' })
  try {
    const kv = v.kv('o')
    kv.enableCache()
    await kv.set('read', 'buffered')
    await kv.withCache({}, async () => kv.set('over', 'old'))
    const seen = await v.transaction(async (tx) => {
      await tx.kv('o').set('over', 'committed')
      return tx.kv('o').get('read')
    })
    // The transaction read the buffered value (it read undefined), and the buffer's later write-out
    // did not put the older 'old' over the committed value.
    assert.equal(seen, 'buffered')
    await kv.flush()
    assert.equal(await kv.get('over'), 'committed')
    await kv.disableCache()
    assert.equal(await v.kv('o').get('over'), 'committed')
  } finally {
    await v.close()
  }
})
