import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openVault } from '../../src/node.js'
import { codecLoaded } from '../../src/domains/kv/client/kv-values.js'
import { tempDir } from './helpers.js'

// A transaction never overtakes a write made before it, not awaited: its reads see the write, and
// the write is not held back until the transaction ends. Three ways a write waits before it reaches
// the commit queue: for the value codec (loaded on first use: docs/cold-start.md, "Main-thread
// bytes"), to make a reopened vault writable, and for a large value's trip to the blob store.

// The first test of this file (its own process): nothing has loaded the client's codec yet.
test('a transaction begun after an unawaited set that waits for the codec sees that set', async () => {
  assert.equal(codecLoaded(), false, 'premise: the codec is not loaded yet')
  const v = await openVault('tx-after-set', { storage: 'fs', path: tempDir() })
  try {
    const kv = v.kv()
    const set = kv.set('runs', { n: 1 })
    assert.equal(codecLoaded(), false, 'premise: the set waits for the codec')
    const seen = await v.transaction(async (tx) => {
      const before = await tx.kv<{ n: number }>().get('runs')
      await tx.kv().set('runs', { n: (before?.n ?? 0) + 1 })
      return before
    })
    await set
    assert.deepEqual(seen, { n: 1 }, 'the transaction read the set made before it')
    assert.deepEqual(await kv.get('runs'), { n: 2 }, 'the transaction wrote last')
  } finally {
    await v.close()
  }
})

test('a transaction begun after an unawaited write that waits to make the vault writable sees that write', async () => {
  const dir = tempDir()
  const first = await openVault('tx-after-enable', { storage: 'fs', path: dir })
  await first.kv().set('runs', 'zero', { encoding: 'json' })
  await first.close()
  // Reopened: its first write waits in its turn for the vault to become writable (the write lock,
  // catching up); the transaction takes its turn after it.
  const v = await openVault('tx-after-enable', { storage: 'fs', path: dir })
  try {
    const set = v.kv().set('runs', 'one', { encoding: 'json' })
    const seen = await v.transaction(async (tx) => {
      const before = await tx.kv<string>().get('runs')
      await tx.kv().set('runs', `${before}+tx`, { encoding: 'json' })
      return before
    })
    await set
    assert.equal(seen, 'one', 'the transaction read the write made before it')
    assert.equal(await v.kv().get('runs'), 'one+tx', 'the transaction wrote last')
  } finally {
    await v.close()
  }
})

test('a transaction begun after an unawaited set of a large value (stored as a blob first) sees that set', async () => {
  const v = await openVault('tx-after-blob', { storage: 'fs', path: tempDir() })
  try {
    await v.kv().set('warm', 1, { encoding: 'json' })
    const big = new Uint8Array(2 << 20).fill(7)
    const set = v.kv().set('weights', big)
    const seen = await v.transaction(async (tx) => (await tx.kv<Uint8Array>().get('weights'))?.length)
    await set
    assert.equal(seen, big.length, 'the transaction read the large value set before it')
  } finally {
    await v.close()
  }
})
