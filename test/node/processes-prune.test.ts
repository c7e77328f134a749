// vault.processes.prune: finished processes (done, failed, stopped, crashed and recovered) are
// removed, the `keep` most recent of each name kept; live ones (running, paused, crashed and not
// recovered, or with resumable work) are never touched. Bad options: a typed error, nothing removed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError, openVault, type Vault } from '../../src/node.js'

let counter = 0
const open = () => openVault(`prune-${++counter}`, { storage: 'memory' })
const ids = async (vault: Vault) => (await vault.processes.list()).map((p) => p.id).sort()

test('prune removes finished processes beyond `keep` per name, never a live one', async () => {
  const vault = await open()
  const finished: Record<string, string[]> = { a: [], b: [] }
  for (let i = 0; i < 5; i++) {
    for (const name of ['a', 'b']) {
      const p = await vault.processes.start(name)
      if (i % 3 === 0) await p.fail(new Error('boom'))
      else await p.done()
      finished[name]!.push(p.id)
    }
  }
  const stopped = await vault.processes.start('a')
  await vault.processes.stop(stopped.id, { force: true })
  finished.a!.push(stopped.id)
  const running = await vault.processes.start('a')
  const paused = await vault.processes.start('b')
  await vault.processes.pause(paused.id)
  const live = [running.id, paused.id]

  assert.equal(await vault.processes.prune({ keep: 2, name: 'a' }), 4, 'only name a, its 2 most recent finished kept')
  assert.deepEqual(await ids(vault), [...finished.a!.slice(-2), ...finished.b!, ...live].sort())
  assert.equal(await vault.processes.prune({ keep: 1 }), 1 + 4)
  assert.deepEqual(await ids(vault), [finished.a!.at(-1)!, finished.b!.at(-1)!, ...live].sort())
  assert.equal(await vault.processes.prune(), 2)
  assert.deepEqual(await ids(vault), live.sort(), 'the running and the paused one stay')
  assert.equal(await vault.processes.prune(), 0)
  // A pruned id is unknown now.
  await assert.rejects(vault.processes.get(finished.a![0]!), /not found|unknown|no process/i)
  await running.done()
  await vault.close()
})

test('finishedBefore keeps what finished at or after it', async () => {
  const vault = await open()
  const old = await vault.processes.start('x')
  await old.done()
  const cut = new Date((await vault.processes.get(old.id)).finishedAt!)
  await new Promise((r) => setTimeout(r, 5))
  const recent = await vault.processes.start('x')
  await recent.done()
  assert.equal(await vault.processes.prune({ finishedBefore: new Date(cut.getTime() + 1) }), 1)
  assert.deepEqual(await ids(vault), [recent.id])
  await vault.close()
})

test('bad options are refused with InvalidArgumentError and nothing is removed', async () => {
  const vault = await open()
  const p = await vault.processes.start('x')
  await p.done()
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.record({ keep: fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true }), fc.string(), fc.constant(null), fc.constant(Number.POSITIVE_INFINITY)) }),
        fc.record({ name: fc.oneof(fc.integer(), fc.constant(''), fc.constant(null)) }),
        fc.record({ finishedBefore: fc.oneof(fc.string(), fc.constant(new Date(Number.NaN)), fc.constant(null), fc.constant(1e20), fc.constant(Number.NaN)) }),
        fc.record({ extra: fc.anything() }),
      ),
      async (options) => {
        await assert.rejects(vault.processes.prune(options as never), InvalidArgumentError)
        assert.deepEqual(await ids(vault), [p.id])
      },
    ),
    { seed: 1301, numRuns: 60 },
  )
  await assert.rejects(vault.processes.prune('x' as never), InvalidArgumentError)
  await vault.close()
})
