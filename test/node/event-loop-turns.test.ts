/**
 * A loop of awaited calls on Node lets the event loop run. The engine answers on the caller's
 * thread with synchronous work and a resolved promise, so `for (…) await kv.set(…)` ran on
 * microtasks alone: no timer, I/O callback or signal handler of the process ran until the loop
 * ended, nor labvault's own timers (lock and process leases, the write cache's interval flush).
 * The in-process port now answers after a turn of the event loop once calls have run for 20 ms
 * without one (src/client/in-process-port.ts). A liveness test, not a timing one: the loop stops
 * when the timer has run, and fails if it never did within its cap.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { openVault, type OpenVaultOptions } from '../../src/node.js'

const CAP = 100_000

const cases: [string, OpenVaultOptions][] = [
  ['memory', { storage: 'memory' }],
  ['fs, exclusive, relaxed', { storage: 'fs', sharing: 'exclusive', durability: 'relaxed' }],
  ['fs, shared, strict', { storage: 'fs', sharing: 'shared', durability: 'strict' }],
]

for (const [label, options] of cases) {
  test(`a loop of awaited sets lets a timer run (${label})`, { timeout: 120_000 }, async () => {
    const path = mkdtempSync(join(tmpdir(), 'labvault-turns-'))
    const v = await openVault('turns', { ...options, ...(options.storage === 'fs' ? { path } : {}) })
    try {
      let ran = false
      setTimeout(() => (ran = true), 0)
      let sets = 0
      while (!ran && sets < CAP) await v.kv().set(`k${sets++ % 64}`, sets)
      assert.ok(ran, `a timer never ran during ${sets} awaited sets`)
      // Answers kept their order and values through the turns.
      for (let i = 0; i < 200; i++) void v.kv().set('order', i)
      assert.equal(await v.kv().get('order'), 199)
    } finally {
      await v.close()
      rmSync(path, { recursive: true, force: true })
    }
  })
}

test("the engine's own timers run during a loop of awaited sets: the log is checkpointed as it passes checkpointBytes", { timeout: 120_000 }, async () => {
  // The automatic checkpoint is scheduled on a timer once a commit leaves the log past
  // checkpointBytes (as is the relaxed writes' flush): a loop never let it run, so the log grew
  // for the whole loop (and a reopen replayed all of it).
  const path = mkdtempSync(join(tmpdir(), 'labvault-turns-'))
  const v = await openVault('checkpoints', { storage: 'fs', path, sharing: 'exclusive', durability: 'relaxed', checkpointBytes: 64 * 1024 })
  try {
    const images = () => readdirSync(join(path, 'checkpoints')).filter((f) => /^image-\d+\.sqlite$/.test(f))
    const first = images()
    const value = 'x'.repeat(1024)
    let sets = 0
    // A sync look at the folder every 50 sets (it lets nothing else run).
    while (sets < 20_000 && (sets % 50 !== 0 || images().join() === first.join())) await v.kv().set(`k${sets++ % 256}`, value)
    assert.notDeepEqual(images(), first, `no checkpoint during ${sets} awaited sets (~${sets} KiB written, checkpointBytes 64 KiB)`)
  } finally {
    await v.close()
    rmSync(path, { recursive: true, force: true })
  }
})

test('answers keep the order calls were made in across a turn of the event loop', async () => {
  const v = await openVault('turns-order', { storage: 'memory' })
  try {
    const settled: number[] = []
    const calls: Promise<unknown>[] = []
    // Enough calls that some are answered after a turn: each records when it settles.
    const until = performance.now() + 60
    for (let i = 0; performance.now() < until || i < 1000; i++) {
      calls.push(v.kv().set(`k${i}`, i).then(() => settled.push(i)))
      if (i % 50 === 0) await calls[calls.length - 1]
    }
    await Promise.all(calls)
    assert.deepEqual(settled, [...settled].sort((a, b) => a - b))
  } finally {
    await v.close()
  }
})
