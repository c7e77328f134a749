/**
 * Exactly-once forwarded writes (src/engine/request-log.ts) and the methods `invoke` can reach.
 *
 * A follower tab sends a write again to a new leader when the old one vanished before answering;
 * these tests play that resend at the engine's port: every call goes in twice with the same request
 * key, as it does when the first send was applied and its answer lost.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError, MemoryAdapter, NodeFsAdapter, NotFoundError, type DocumentList } from '../../src/node.js'
import type { VaultEngine } from '../../src/engine/vault-engine.js'
import { openVaultEngine } from '../../src/domains/registry.js'
import { inProcessPort } from '../../src/client/in-process-port.js'
import type { EnginePort } from '../../src/protocol/engine-port.js'
import { Vault } from '../../src/client/vault.js'
import { tempDir } from './helpers.js'

/** Buffers (what Node's decoders give) as plain Uint8Arrays, for comparing answers. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Uint8Array.from(value)
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  }
  return value
}

/** A port that sends every call twice under one request key and checks both answers agree. */
function resendingPort(engine: VaultEngine, keys: { n: number }): EnginePort {
  const base = inProcessPort(engine)
  return {
    ...base,
    async invoke(txId, domain, method, args, _transfer, _key) {
      const key = `member:${++keys.n}`
      const first = await base.invoke(txId, domain, method, args, undefined, key)
      const second = await base.invoke(txId, domain, method, args, undefined, key)
      assert.deepEqual(plain(second), plain(first), `${domain}.${method} answered the resend differently`)
      return second
    },
    async commitTransaction(txId) {
      const key = `member:${++keys.n}`
      await base.commitTransaction(txId, key)
      // The transaction is gone now; the resend must still resolve, from the log.
      await base.commitTransaction(txId, key)
    },
  }
}

test('every write sent twice with one request key is applied once and answered alike', async () => {
  const engine = await openVaultEngine({ name: 'once', storage: new MemoryAdapter() })
  const keys = { n: 0 }
  const v = new Vault(resendingPort(engine, keys), 'once')
  const kv = v.kv()
  await kv.set('a', 1)
  await kv.setMany([['b', 2], ['c', 3]])
  assert.equal(await kv.pop('a'), 1)
  assert.equal(await kv.has('a'), false)
  assert.equal(await kv.delete('b'), true)
  assert.equal(await kv.setDefault('d', 4), 4)
  assert.deepEqual(await kv.entries(), [['c', 3], ['d', 4]])
  // Appends return their index: the resend must get the same one, and add nothing.
  const docs = await v.lists.create('docs', { type: 'document' })
  const first = await docs.append('hello world')
  const second = await docs.append('second text')
  assert.deepEqual([first, second], [0, 1])
  assert.equal(await docs.size(), 2)
  const col = await v.columns.create('loss', 'f64')
  await col.extend(new Float64Array([1, 2, 3]))
  await col.append(4)
  assert.deepEqual(Array.from(await col.slice()), [1, 2, 3, 4])
  // A read-modify-write transaction committed twice (the second from the log) counts once.
  for (let i = 0; i < 3; i++) {
    await v.transaction(async (tx) => {
      const n = ((await tx.kv().get('n')) as number | undefined) ?? 0
      await tx.kv().set('n', n + 1)
    })
  }
  assert.equal(await kv.get('n'), 3)
  assert.ok(keys.n > 10)
  assert.deepEqual(await engine.integrityCheck(), ['ok'])
  await engine.close()
})

/** A port that sends the calls `keyOf` names with that request key (a fixed key: a resend). */
function keyedPort(engine: VaultEngine, keyOf: (domain: string, method: string) => string | undefined, onCommit?: (txId: string) => string): EnginePort {
  const base = inProcessPort(engine)
  return {
    ...base,
    invoke: (txId, domain, method, args, transfer) => base.invoke(txId, domain, method, args, transfer, keyOf(domain, method)),
    commitTransaction: (txId) => base.commitTransaction(txId, onCommit?.(txId)),
  }
}

test('a failed write records nothing: sent again with the same key, it runs again', async () => {
  const engine = await openVaultEngine({ name: 'fails', storage: new MemoryAdapter() })
  const v = new Vault(keyedPort(engine, (d, m) => (d === 'lists' && m === 'append' ? 'tab-b:1' : undefined)), 'fails')
  const plain = new Vault(inProcessPort(engine), 'fails')
  await plain.lists.create('notes', { type: 'document' })
  const gone = await v.lists.get<DocumentList>('notes')
  await plain.lists.delete('notes')
  // The list is gone: the keyed append fails, and nothing about it is recorded...
  await assert.rejects(gone.append('first'), NotFoundError)
  await plain.lists.create('notes2', { type: 'document' })
  const again = await v.lists.get<DocumentList>('notes2')
  // ...so the same key, sent again (now to a list that exists), is applied.
  assert.equal(await again.append('first'), 0)
  assert.equal(await again.append('ignored: same key, already applied'), 0)
  assert.equal(await again.size(), 1)
  assert.equal(await again.text(), 'first')
  await engine.close()
})

test('applied requests survive reopen: a new leader answers the resend from the log', async () => {
  const dir = tempDir('labvault-requests-')
  const appendKey = (d: string, m: string) => (d === 'lists' && m === 'append' ? 'tab-a:7' : undefined)
  let committed = ''
  let engine = await openVaultEngine({ name: 'led', storage: new NodeFsAdapter(dir), ownsStorage: true })
  let v = new Vault(keyedPort(engine, appendKey, (id) => ((committed = id), 'tab-a:8')), 'led')
  const list = await v.lists.create('events', { type: 'document' })
  assert.equal(await list.append('x'), 0)
  await v.transaction(async (tx) => tx.kv().set('k', 'v'))
  await engine.close()
  // The "new leader": a fresh engine over the same files, asked again with the same keys.
  engine = await openVaultEngine({ name: 'led', storage: new NodeFsAdapter(dir), ownsStorage: true })
  v = new Vault(keyedPort(engine, appendKey), 'led')
  const events = await v.lists.get<DocumentList>('events')
  assert.equal(await events.append('x'), 0)
  assert.equal(await events.size(), 1)
  const port = inProcessPort(engine)
  await port.commitTransaction(committed, 'tab-a:8')
  await assert.rejects(port.commitTransaction(committed), NotFoundError)
  await assert.rejects(port.commitTransaction(committed, 'tab-a:9'), NotFoundError)
  assert.equal(await v.kv().get('k'), 'v')
  await engine.close()
})

test('only the listed domain methods can be invoked', async () => {
  const engine = await openVaultEngine({ name: 'reach', storage: new MemoryAdapter() })
  for (const [domain, method] of [
    ['kv', 'load'],
    ['kv', 'constructor'],
    ['kv', 'toString'],
    ['kv', '__proto__'],
    ['kv', 'hasOwnProperty'],
    ['processes', 'attach'],
    ['changes', 'wakeAll'],
    ['changes', 'start'],
    ['columns', 'mutate'],
    ['__proto__', 'get'],
    ['toString', 'call'],
    ['nope', 'get'],
  ]) {
    await assert.rejects(engine.invoke(null, domain!, method!, []), InvalidArgumentError, `${domain}.${method}`)
  }
  await engine.close()
})
