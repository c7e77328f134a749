import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import fc from 'fast-check'
import { openVault, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

// vault.sql's `kv` relation follows the entries each commit names (EngineChange.kvRows): after the
// first query builds it whole, a query after a write reloads only the entries written or deleted
// since. Checked here: how many rows a refresh loads, and, by generation, that the followed
// relation is always the one a whole rebuild makes.

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 150)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

/** What the last relation refresh did (an engine method for tests and the bench, not on Vault). */
function refreshStats(v: Vault): Promise<{ providers: number; rows: number }> {
  return (v as unknown as { caller: { call(d: string, m: string, a: unknown[]): Promise<unknown> } }).caller.call('sql', 'refreshStats', []) as never
}

/** The whole `kv` relation, in one order, as comparable text (bytes as hex). */
async function kvRelation(v: Vault): Promise<string[]> {
  const table = await v.sql`SELECT namespace, key, key_bytes, value, kind, size FROM kv ORDER BY namespace, key NULLS LAST, key_bytes NULLS LAST`
  return table.toArray().map((r) => {
    const o = (r as { toJSON(): Record<string, unknown> }).toJSON()
    const bytes = o.key_bytes instanceof Uint8Array ? Buffer.from(o.key_bytes).toString('hex') : null
    return JSON.stringify([o.namespace, o.key, bytes, o.value, o.kind, Number(o.size)])
  })
}

/** Make the next refresh rebuild `kv` whole: a namespace cleared names no single entry. */
async function forceWholeRebuild(v: Vault): Promise<void> {
  await v.kv('zz-force').set('x', 1)
  await v.kv('zz-force').clear()
}

let vault: Vault
after(async () => {
  await vault?.close()
})

describe('the kv relation follows the entries commits name', () => {
  test('a write beside 5000 entries reloads one row; a delete, a bulk write and a clear reload what they touched', async () => {
    vault = await openVault('sql-kv-follow', { storage: 'memory' })
    const kv = vault.kv('big')
    await kv.setMany(Array.from({ length: 5000 }, (_, i) => [`k${String(i).padStart(5, '0')}`, { i, tags: ['a', 'b'] }] as [string, unknown]))
    await kv.set(new Uint8Array([0, 255]), new Float32Array([1.5, -0]))
    await vault.sql`SELECT count(*) FROM kv`
    assert.ok((await refreshStats(vault)).rows >= 5001, 'the first query builds kv whole')

    await kv.set('k00007', 'changed')
    const after1 = await vault.sql`SELECT value FROM kv WHERE key = 'k00007'`
    assert.equal((after1.toArray()[0] as { toJSON(): { value: string } }).toJSON().value, '"changed"')
    const one = await refreshStats(vault)
    assert.deepEqual([one.providers, one.rows], [1, 1], 'one provider, one row')

    assert.equal(await kv.delete('k00008'), true)
    assert.equal(Number((await vault.sql`SELECT count(*) AS n FROM kv WHERE namespace = 'big'`).toArray()[0]!.toJSON().n), 5000)
    assert.equal((await refreshStats(vault)).rows, 0, 'a delete removes its row and loads none')

    await kv.set(new Uint8Array([0, 255]), 'bytes key')
    await vault.kv('other').setMany([['a', 1], ['b', null]])
    const counted = await vault.sql`SELECT count(*) AS n FROM kv`
    assert.equal(Number(counted.toArray()[0]!.toJSON().n), 5002)
    assert.equal((await refreshStats(vault)).rows, 3, 'two commits, three entries')

    const followed = await kvRelation(vault)
    await forceWholeRebuild(vault)
    const whole = await kvRelation(vault)
    assert.ok((await refreshStats(vault)).rows >= 5002, 'a clear rebuilds kv whole')
    assert.deepEqual(followed, whole)
  })

  // Hostile keys and values (odd Unicode, `__proto__`, byte keys, the empty key, typed arrays,
  // bigints, nested objects) through every kind of kv write, in random order, with queries between:
  // whatever was followed equals what a whole rebuild makes of the same data.
  test(`a followed kv relation equals a whole rebuild, whatever the writes (seed ${SEED})`, async () => {
    const key = fc.oneof(
      fc.constantFrom('', '__proto__', 'constructor', '\uFEFFbom', 'e\u0301', 'x😀', 'a"b', "o'q", 'null'),
      fc.string({ maxLength: 6 }),
      fc.uint8Array({ maxLength: 4 }),
    )
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom<unknown>(new Float32Array([0.5, -0, NaN]), new BigInt64Array([2n ** 63n - 1n]), 2n ** 70n, new Map([['__proto__', 1]]), JSON.parse('{"__proto__":{"x":1}}'), new Uint8Array([1, 2, 3]), ''),
    )
    const ns = fc.constantFrom('a', 'b', '__proto__')
    const op = fc.oneof(
      fc.record({ t: fc.constant('set' as const), ns, key, value, json: fc.boolean() }),
      fc.record({ t: fc.constant('setMany' as const), ns, pairs: fc.array(fc.tuple(key, value), { maxLength: 5 }) }),
      fc.record({ t: fc.constant('delete' as const), ns, key }),
      fc.record({ t: fc.constant('deleteMany' as const), ns, keys: fc.array(key, { maxLength: 4 }) }),
      fc.record({ t: fc.constant('setDefault' as const), ns, key, value }),
      fc.record({ t: fc.constant('transaction' as const), ns, key, value, commit: fc.boolean() }),
      fc.record({ t: fc.constant('clear' as const), ns }),
      fc.record({ t: fc.constant('query' as const) }),
    )
    let round = 0
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        round++
        for (const o of ops) {
          const kv = vault.kv(o.t === 'query' ? 'a' : o.ns)
          switch (o.t) {
            case 'set':
              // JSON only for values JSON holds as they are.
              if (o.json && typeof o.value !== 'bigint' && !ArrayBuffer.isView(o.value) && !(o.value instanceof Map)) await kv.set(o.key, o.value, { encoding: 'json' })
              else await kv.set(o.key, o.value)
              break
            case 'setMany':
              await kv.setMany(o.pairs)
              break
            case 'delete':
              await kv.delete(o.key)
              break
            case 'deleteMany':
              await kv.deleteMany(o.keys)
              break
            case 'setDefault':
              await kv.setDefault(o.key, o.value)
              break
            case 'transaction':
              await vault
                .transaction(async (tx) => {
                  await tx.kv(o.ns).set(o.key, o.value)
                  await tx.kv(o.ns).delete(`${round}`)
                  if (!o.commit) throw new Error('roll back')
                })
                .catch((err: Error) => assert.equal(err.message, 'roll back'))
              break
            case 'clear':
              await kv.clear()
              break
            case 'query':
              await kvRelation(vault)
              break
          }
        }
        const followed = await kvRelation(vault)
        await forceWholeRebuild(vault)
        assert.deepEqual(followed, await kvRelation(vault))
      }),
      { numRuns: Math.max(20, Math.round(RUNS / 3)), seed: SEED },
    )
  })
})

describe('commits during a refresh', () => {
  // A refresh awaits blob reads (values over the blob threshold live in files): a write that
  // commits meanwhile must show in the next query, whichever relation it touched.
  test('a write that commits while a query refreshes its relation shows in the next query', async () => {
    const dir = tempDir('labvault-sql-kv-race-')
    const v = await openVault('race', { path: dir })
    try {
      const kv = v.kv()
      const big = (i: number) => `${i}:`.padEnd(300_000, 'x')
      await kv.setMany(Array.from({ length: 40 }, (_, i) => [`blob-${i}`, big(i)] as [string, unknown]))
      const list = await v.lists.create('docs', { type: 'document' })
      await v.sql`SELECT count(*) FROM kv`
      for (let round = 0; round < 12; round++) {
        // Every blob value is reloaded by this refresh (a namespace cleared rebuilds kv whole).
        await kv.setMany(Array.from({ length: 40 }, (_, i) => [`blob-${i}`, big(i + round)] as [string, unknown]))
        const query = v.sql`SELECT count(*) FROM kv`
        // Some rounds write as the refresh begins, others while its blob reads are under way.
        await new Promise((r) => setTimeout(r, round % 4 === 0 ? 0 : round * 2))
        const writes = Promise.all([kv.set(`during-${round}`, round), list.append(`doc ${round}`)])
        await Promise.all([query, writes])
        const seen = await v.sql`SELECT (SELECT count(*) FROM kv WHERE key = ${`during-${round}`}) AS kv, (SELECT count(*) FROM items."docs") AS docs`
        assert.deepEqual(seen.toArray().map((r) => r.toJSON()).map((r) => [Number(r.kv), Number(r.docs)]), [[1, round + 1]], `round ${round}`)
      }
    } finally {
      await v.close()
    }
  })
})
