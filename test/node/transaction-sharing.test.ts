/**
 * Transactions of several processes on one vault (docs/sharing.md, "`vault.transaction(fn)`"),
 * seeded: children move amounts between accounts in transactions (a quarter of them throw after
 * writing), one child is killed (`kill -9`) at a seeded point, maybe mid-transaction. Meanwhile this
 * process watches and reads. Every read, here and after reopening, sees the accounts' sum intact
 * (no half transaction, no rolled-back one, no lost update), each child's count of commits is what
 * it acknowledged, and the watch hears the commits in log order, once.
 * LABVAULT_PROP_SEED=<seed> replays a run (the seed is printed).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openVault, type ChangeEvent, type Vault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'
import { tempDir } from './helpers.js'
import { startChild } from './sharing-helpers.js'

const SEED = Number(process.env.LABVAULT_PROP_SEED ?? 0x7a5c0de)
const dir = tempDir('labvault-tx-sharing-')
const ACCOUNTS = Array.from({ length: 8 }, (_, i) => `a${i}`)

async function sum(v: Vault): Promise<number> {
  const found = await v.kv().getMany(ACCOUNTS)
  assert.equal(found.size, ACCOUNTS.length)
  return [...found.values()].reduce((s: number, x) => s + (x as number), 0)
}

test('transactions of three processes, one killed: every read sees all of a transaction or none, no update lost', { timeout: 120_000 }, async () => {
  console.log(`transaction-sharing seed ${SEED} (LABVAULT_PROP_SEED=${SEED} replays it)`)
  const rand = mulberry32(SEED)
  const v = await openVault('bank', { storage: 'fs', path: dir })
  await v.kv().setMany(ACCOUNTS.map((a) => [a, 100] as [string, number]))
  const heard: ChangeEvent[] = []
  const sums: Promise<number>[] = []
  const stop = await v.watch((c) => {
    heard.push(c)
    sums.push(sum(v))
  })
  const count = 120
  const children = [1, 2, 3].map((i) => startChild({ dir, name: 'bank', action: 'transfer', count, seed: SEED + i, key: `c${i}` }))
  // The third child is killed once it has acknowledged a seeded number of commits: its next
  // transaction may be anywhere (begun, half written, committing).
  const killAfter = 1 + Math.floor(rand() * 40)
  let killedAt = 0
  for (;;) {
    killedAt = (await children[2]!.next('committed', 60_000)).n as number
    if (killedAt >= killAfter) break
  }
  // Reads here while the other two go on.
  for (let i = 0; i < 30; i++) assert.equal(await sum(v), 800, `seed ${SEED}: a read saw part of a transaction`)
  await children[2]!.kill9()
  // Its acknowledgements read but not taken yet.
  for (;;) {
    const more = await children[2]!.next('committed', 1).catch(() => undefined)
    if (!more) break
    killedAt = more.n as number
  }
  const done = await Promise.all(children.slice(0, 2).map((c) => c.next('done', 90_000)))
  await Promise.all(children.slice(0, 2).map((c) => c.exited))
  // The last writes are heard: one more of this process's, after theirs.
  await v.kv('end').set('end', true)
  while (!heard.some((c) => c.kvNamespaces.includes('end'))) await new Promise((r) => setImmediate(r))
  stop()
  for (const s of await Promise.all(sums)) assert.equal(s, 800, `seed ${SEED}: a read after a change saw part of a transaction`)
  for (let i = 1; i < heard.length; i++) assert.ok(heard[i]!.seq > heard[i - 1]!.seq, `seed ${SEED}: changes heard out of log order or twice (${heard[i - 1]!.seq}, ${heard[i]!.seq})`)
  await v.close()

  const again = await openVault('bank', { storage: 'fs', path: dir })
  try {
    assert.equal(await sum(again), 800, `seed ${SEED}: after reopening`)
    for (let i = 0; i < 2; i++) assert.equal(await again.kv().get(`done:c${i + 1}`), done[i]!.committed, `seed ${SEED}: child ${i + 1}'s commits`)
    // The killed child: at least what it acknowledged (its later lines may be lost with it), all
    // counted once (each commit stored the count of the commits before it, plus one).
    const killed = (await again.kv().get('done:c3')) as number
    assert.ok(killed >= killedAt && killed <= count, `seed ${SEED}: the killed child acknowledged ${killedAt} commits, the vault holds ${killed}`)
    console.log(`killed child: ${killedAt} acknowledged, ${killed} in the vault, of ${count}`)
    assert.deepEqual(await again.integrityCheck(), ['ok'])
  } finally {
    await again.close()
  }
})
