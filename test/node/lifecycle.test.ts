/**
 * What close() drains and what it refuses (issue 8, item 8): every call issued before close()
 * runs to its end (its write is applied, its promise resolves); every call issued after close()
 * was called rejects with ClosedError and is never applied.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ClosedError, MemoryAdapter, openVault, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir()
let counter = 0
const open = (name: string) => openVault(name, { storage: 'fs', path: dir })

/** Everything a vault can be asked to write, each returning a way to check it landed. */
async function prepare(vault: Vault) {
  const col = await vault.columns.create('c', 'f64')
  const docs = await vault.lists.create('docs', { type: 'document' })
  const files = await vault.lists.create('files', { type: 'file' })
  // Calls that wait for something (hashing, a blob file) before they reach the engine.
  const big = new Uint8Array(300 * 1024).fill(7)
  await vault.kv().set('gone', 1)
  return {
    ops: (tag: string): [string, () => Promise<unknown>][] => [
      ['kv.set', () => vault.kv().set(`${tag}-set`, 1)],
      ['kv.setMany', () => vault.kv('ns').setMany([[`${tag}-many`, 2]])],
      ['kv.delete', () => vault.kv().delete('gone')],
      ['kv.set of a blob value', () => vault.kv().set(`${tag}-big`, big)],
      ['files.append', () => files.append({ bytes: big, name: `${tag}.bin`, type: 'application/octet-stream' })],
      ['column.append', () => col.append(1.5)],
      ['columns.create', () => vault.columns.create(`${tag}-col`, 'i32')],
      ['list.append', () => docs.append(`${tag} text`)],
      ['lists.create', () => vault.lists.create(`${tag}-list`, { type: 'file' })],
      ['session', () => vault.session(`${tag}-session`)],
      ['processes.start', () => vault.processes.start(`${tag}-proc`)],
      ['checkpoint', () => vault.checkpoint()],
    ],
    /** A transaction: drained only once its commit is under way (see the transaction tests). */
    transaction: (tag: string) => vault.transaction(async (tx) => tx.kv().set(`${tag}-tx`, 3)),
  }
}

async function effects(vault: Vault, tag: string) {
  return {
    'kv.set': await vault.kv().has(`${tag}-set`),
    'kv.setMany': await vault.kv('ns').has(`${tag}-many`),
    'kv.set of a blob value': await vault.kv().has(`${tag}-big`),
    'files.append': (await (await vault.lists.get('files')).size()) > 0,
    'column.append': (await (await vault.columns.get('c')).length()) > 0,
    'columns.create': await vault.columns.has(`${tag}-col`),
    'list.append': (await (await vault.lists.get('docs')).size()) > 0,
    'lists.create': await vault.lists.has(`${tag}-list`),
    processes: (await vault.processes.list(`${tag}-proc`)).length > 0,
    transaction: await vault.kv().has(`${tag}-tx`),
  }
}

describe('close() drains what was issued before it', () => {
  test('unawaited calls of every domain, issued just before close(), all resolve and are applied', async () => {
    const name = `drain${++counter}`
    const vault = await open(name)
    const { ops, transaction } = await prepare(vault)
    await transaction('before')
    const calls = ops('before').map(([what, run]) => run().then(() => what, (err: unknown) => `${what}: ${String(err)}`))
    await vault.close()
    assert.deepEqual(await Promise.all(calls), ops('x').map(([what]) => what))
    const again = await open(name)
    const found = await effects(again, 'before')
    assert.ok(Object.values(found).every(Boolean), JSON.stringify(found))
    assert.equal(await again.kv().has('gone'), false)
    await again.close()
  })

  test('every call issued after close() rejects with ClosedError and is never applied', async () => {
    const name = `drain${++counter}`
    const vault = await open(name)
    const { ops, transaction } = await prepare(vault)
    const closing = vault.close()
    const results = await Promise.allSettled([...ops('after'), ['transaction', () => transaction('after')] as const].map(([, run]) => run()))
    await closing
    results.forEach((r, i) => {
      const what = ops('x')[i]?.[0] ?? 'transaction'
      assert.equal(r.status, 'rejected', what)
      assert.ok((r as PromiseRejectedResult).reason instanceof ClosedError, `${what}: ${String((r as PromiseRejectedResult).reason)}`)
    })
    const again = await open(name)
    const found = await effects(again, 'after')
    assert.ok(Object.values(found).every((v) => !v), JSON.stringify(found))
    assert.equal(await again.kv().get('gone'), 1)
    await again.close()
  })

  test('withCache: values buffered before close() are written; a set buffered after it is refused', async () => {
    const name = `drain${++counter}`
    const vault = await open(name)
    const kv = vault.kv()
    const col = await vault.columns.create('c', 'f64')
    let closing: Promise<void> | undefined
    let late: PromiseSettledResult<unknown>[] = []
    const cached = Promise.all([
      kv.withCache({}, async () => {
        await kv.set('a', 1)
        await new Promise((r) => setTimeout(r, 5))
        late = late.concat(await Promise.allSettled([kv.set('late', 2)]))
      }),
      col.withCache({}, async () => {
        await col.append(1)
        await col.extend([2, 3])
        await new Promise((r) => setTimeout(r, 5))
        late = late.concat(await Promise.allSettled([col.append(4)]))
      }),
    ])
    await new Promise((r) => setTimeout(r, 1))
    closing = vault.close()
    await cached
    await closing
    assert.equal(late.length, 2)
    for (const r of late) assert.ok(r.status === 'rejected' && r.reason instanceof ClosedError)
    const again = await open(name)
    assert.equal(await again.kv().get('a'), 1)
    assert.equal(await again.kv().has('late'), false)
    assert.deepEqual([...(await (await again.columns.get<'f64'>('c')).slice())], [1, 2, 3])
    await again.close()
  })

  test('a transaction whose callback runs at close() is rolled back with ClosedError; a commit under way completes', async () => {
    const name = `drain${++counter}`
    const vault = await open(name)
    await vault.kv().setMany([['k1', 1], ['k2', 2]])
    const open1 = vault.transaction(async (t) => {
      await t.kv().set('t1', 1)
      await new Promise((r) => setTimeout(r, 10))
      await t.kv().set('t2', 2)
      return 'done'
    })
    // A callback that closes the vault itself must not wait for itself.
    const selfClosing = vault.transaction(async (t) => {
      await t.kv().set('s1', 1)
      await vault.close()
    })
    const notBegun = vault.transaction(async (t) => t.kv().set('n1', 1))
    const settled = Promise.allSettled([open1, selfClosing, notBegun])
    const iter = vault.kv().iterate({ batchSize: 1 })[Symbol.asyncIterator]()
    assert.deepEqual((await iter.next()).value, ['k1', 1])
    await new Promise((r) => setTimeout(r, 1))
    const closing = vault.close()
    await assert.rejects(iter.next(), ClosedError)
    await assert.rejects(vault.info(), ClosedError)
    for (const r of await settled) assert.ok(r.status === 'rejected' && r.reason instanceof ClosedError, String(r.status === 'rejected' ? r.reason : 'resolved'))
    await closing
    const again = await open(name)
    assert.deepEqual(
      await Promise.all(['t1', 't2', 's1', 'n1'].map((k) => again.kv().has(k))),
      [false, false, false, false],
    )
    await again.close()
  })

  test('close() called while a transaction commits waits for the commit, which resolves', async () => {
    let armed: (() => void) | undefined
    class Hooked extends MemoryAdapter {
      override async sync(path: string): Promise<void> {
        const hook = armed
        armed = undefined
        hook?.()
        return super.sync(path)
      }
    }
    const storage = new Hooked()
    const vault = await openVault('commit-at-close', { storage })
    let closing: Promise<void> | undefined
    const tx = vault.transaction(async (t) => {
      await t.kv().set('c1', 1)
      // The commit's sync is the moment it is under way.
      armed = () => (closing = vault.close())
    })
    await tx
    assert.ok(closing, 'close() was called during the commit')
    await closing
    const again = await openVault('commit-at-close', { storage })
    assert.equal(await again.kv().get('c1'), 1)
    await again.close()
  })

  test('a second handle of the same engine: close() of one rolls back its own open transaction only', async () => {
    const name = `drain${++counter}`
    const a = await open(name)
    const b = await open(name)
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const tx = a.transaction(async (t) => {
      await t.kv().set('a-tx', 1)
      await gate
    })
    await new Promise((r) => setTimeout(r, 5))
    const closing = a.close()
    release()
    await assert.rejects(tx, ClosedError)
    await closing
    await b.kv().set('b', 1)
    assert.equal(await b.kv().has('a-tx'), false)
    await b.close()
  })
})
