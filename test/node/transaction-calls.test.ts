/**
 * What `vault.transaction(fn)` commits when `fn` does not await its calls, and close() while `fn`
 * waits on a write through `vault`:
 * - every call made through `tx` before `fn` settled (not awaited, chained on another's result, on
 *   a client still loading) commits with the transaction, or none does when `fn` throws. Before,
 *   such calls reached the engine after the commit and failed ("transaction … is not open"): the
 *   transaction resolved with only some of its writes;
 * - close() while `fn` awaits a write through `vault` (which waits for the transaction) rolls the
 *   transaction back at once. Before, close() first waited for that write, which waited for the
 *   transaction: both ended only at the engine's 60 s transaction timeout.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ClosedError, openVault, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

async function contents(v: Vault): Promise<Record<string, unknown>> {
  const kv = Object.fromEntries(await v.kv().entries())
  const columns = await v.columns.list()
  const lists = await v.lists.list()
  const c = columns.some((x) => x.name === 'c') ? Array.from((await (await v.columns.get('c')).slice()) as Float64Array) : null
  const docs = lists.some((x) => x.name === 'docs') ? await (await v.lists.get('docs')).slice() : null
  return { keys: Object.keys(kv).sort(), big: (kv.big as Uint8Array | undefined)?.length ?? null, c, docs }
}

test('calls made through tx and not awaited commit with the transaction, also across domains and chained', async () => {
  const where = { path: tempDir() }
  const v = await openVault('lab', where)
  const issued: Promise<unknown>[] = []
  await v.transaction((tx) => {
    issued.push(
      tx.kv().set('a', 2),
      tx.kv().set('big', new Uint8Array(400_000).fill(3)),
      tx.columns.create('c', 'f64').then((c) => c.extend([1, 2])),
      tx.lists.create('docs', { type: 'document' }).then((l) => l.append('x')),
    )
  })
  // Each call resolved; none was refused after the commit.
  await Promise.all(issued)
  const expected = { keys: ['a', 'big'], big: 400_000, c: [1, 2], docs: ['x'] }
  assert.deepEqual(await contents(v), expected)
  await v.close()
  const again = await openVault('lab', where)
  assert.deepEqual(await contents(again), expected, 'after reopening')
  await again.close()
})

test('a callback that throws after calls it did not await: none of them is applied', async () => {
  const v = await openVault('tx-throw', { storage: 'memory' })
  try {
    const issued: Promise<unknown>[] = []
    await assert.rejects(
      v.transaction(async (tx) => {
        issued.push(tx.kv().set('a', 1), tx.columns.create('c', 'f64').then((c) => c.extend([1])))
        throw new Error('changed my mind')
      }),
      /changed my mind/,
    )
    await Promise.allSettled(issued)
    assert.deepEqual(await contents(v), { keys: [], big: null, c: null, docs: null })
  } finally {
    await v.close()
  }
})

test('close() while the callback awaits a write through vault: rolled back at once, not at the 60 s timeout', { timeout: 30_000 }, async () => {
  const v = await openVault('tx-close', { storage: 'memory' })
  let reached!: () => void
  const waiting = new Promise<void>((resolve) => (reached = resolve))
  const tx = v.transaction(async (t) => {
    await t.kv().set('a', 1)
    reached()
    // A write through `vault` inside the callback waits for the transaction (docs/kv.md says: use tx).
    await v.kv().set('b', 2)
    return 'done'
  })
  await waiting
  await v.close()
  await assert.rejects(tx, ClosedError)
  const again = await openVault('tx-close', { storage: 'memory' })
  try {
    // The transaction's write was rolled back; the write through vault, issued before close(), was applied.
    assert.deepEqual(await again.kv().entries(), [['b', 2]])
  } finally {
    await again.close()
  }
})
