import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { writeFileSync, existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { LockTimeoutError, openVault } from '../../src/node.js'
import { processStartTime } from '../../src/sharing/node/proc-identity.js'
import { tempDir } from './helpers.js'
import { startChild } from './sharing-helpers.js'

const dir = tempDir('labvault-sharing-')

/** Wait (bounded) until a lock file is gone; false when it is still there after `withinMs`. */
async function lockGone(path: string, withinMs = 5000): Promise<boolean> {
  const deadline = Date.now() + withinMs
  while (existsSync(path)) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, 5))
  }
  return true
}

/** Blob files of vault `name` (relative paths under its blobs folder). */
function blobFiles(name: string): string[] {
  const root = join(dir, name, 'blobs')
  if (!existsSync(root)) return []
  return readdirSync(root).flatMap((p) => readdirSync(join(root, p)).map((h) => `${p}/${h}`))
}

describe('several Node processes on one vault', { timeout: 120_000 }, () => {
  test('a blob written by a process still waiting for the lock survives another process checkpointing meanwhile', { timeout: 60_000 }, async () => {
    // The writer stores its blob before it takes the lock; the lock holder checkpoints (and
    // collects unreferenced blobs) in between. Without pins visible across processes, the
    // holder deleted the blob and the writer then acknowledged a value that could not be read.
    const holder = await openVault('pins', { storage: 'fs', path: dir, sharing: 'exclusive' })
    await holder.kv().set('seed', 1)
    const writer = startChild({ dir, name: 'pins', action: 'set', options: { lockTimeoutMs: 50_000 } })
    await writer.next('open')
    const big = 'pinned '.repeat(60_000)
    writer.send(JSON.stringify(['big', big]))
    const deadline = Date.now() + 20_000
    while (blobFiles('pins').length === 0) {
      assert.ok(Date.now() < deadline, 'the writer never stored its blob')
      await new Promise((r) => setTimeout(r, 10))
    }
    await holder.kv().set('pad', 'x'.repeat(100_000))
    await holder.checkpoint()
    await holder.close() // lets the writer have the lock
    await writer.next('set')
    writer.send('quit')
    await writer.exited
    const v = await openVault('pins', { storage: 'fs', path: dir })
    assert.equal(await v.kv().get('big'), big)
    await v.checkpoint() // the writer is gone: its pins no longer hold anything, the blob is referenced
    assert.equal(await v.kv().get('big'), big)
    await v.close()
  })

  test('4 processes x 500 read-modify-write transactions end at exactly 2000', { timeout: 90_000 }, async () => {
    const first = await openVault('counter', { storage: 'fs', path: dir })
    await first.close()
    const children = Array.from({ length: 4 }, () => startChild({ dir, name: 'counter', action: 'increment', count: 500 }))
    await Promise.all(children.map((c) => c.next('done', 80_000)))
    await Promise.all(children.map((c) => c.exited))
    const v = await openVault('counter', { storage: 'fs', path: dir })
    assert.equal(await v.kv().get('n'), 2000)
    await v.close()
  })

  test('a reader sees what another process committed, also across checkpoints', { timeout: 60_000 }, async () => {
    const reader = await openVault('seen', { storage: 'fs', path: dir })
    await reader.kv().set('start', 1)
    const writer = startChild({ dir, name: 'seen', action: 'set' })
    await writer.next('open')
    for (let i = 0; i < 20; i++) {
      writer.send(JSON.stringify([`k${i}`, i]))
      await writer.next('set')
      // Acknowledged there, so visible here.
      assert.equal(await reader.kv().get(`k${i}`), i)
    }
    writer.send('quit')
    await writer.exited
    const bulk = startChild({ dir, name: 'seen', action: 'bulk-checkpoint', count: 200 })
    let last = 0
    while (!(await Promise.race([bulk.exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5))]))) {
      const v = ((await reader.kv().get('bulk')) as number | undefined) ?? 0
      assert.ok(v >= last, `values never go back (${v} after ${last})`)
      last = v
    }
    assert.equal(await reader.kv().get('bulk'), 200)
    // And this process can still write after the other one's checkpoints.
    await reader.kv().set('after', true)
    assert.equal(await reader.kv().get('after'), true)
    await reader.close()
    const again = await openVault('seen', { storage: 'fs', path: dir })
    assert.equal(await again.kv().get('bulk'), 200)
    assert.equal(await again.kv().get('k19'), 19)
    await again.close()
  })

  test('a writer killed with SIGKILL while holding the lock: its lock is broken, no commit lost', { timeout: 60_000 }, async () => {
    const v = await openVault('killed', { storage: 'fs', path: dir, lockTimeoutMs: 10_000, lockLeaseMs: 1000 })
    await v.kv().set('before', 1)
    const holder = startChild({ dir, name: 'killed', action: 'hold-lock', options: { lockLeaseMs: 1000 } })
    await holder.next('holding')
    assert.ok(existsSync(join(dir, 'killed', '.lock')))
    await holder.kill9()
    const t0 = Date.now()
    await v.kv().set('after', 2)
    assert.ok(Date.now() - t0 < 5000, `the dead holder's lock was broken in ${Date.now() - t0} ms`)
    assert.equal(await v.kv().get('before'), 1)
    // The killed transaction never committed.
    assert.equal(await v.kv().get('held'), undefined)
    await v.close()
  })

  test('a live holder is never broken: a waiter gets LockTimeoutError after its timeout', { timeout: 60_000 }, async () => {
    const holder = startChild({ dir, name: 'alive', action: 'hold-lock', options: { lockLeaseMs: 100 } })
    await holder.next('holding')
    const v = await openVault('alive', { storage: 'fs', path: dir, lockTimeoutMs: 800, lockLeaseMs: 100 })
    const t0 = Date.now()
    await assert.rejects(v.kv().set('x', 1), LockTimeoutError)
    const waited = Date.now() - t0
    assert.ok(waited >= 700 && waited < 5000, `waited ${waited} ms`)
    // Its transaction goes on and commits; then we can write.
    holder.send('go')
    await holder.next('released')
    await v.kv().set('x', 2)
    assert.equal(await v.kv().get('held'), holder.proc.pid)
    await v.close()
    holder.send('quit')
    await holder.exited
  })

  test('a stale lock naming a reused pid (wrong start time) is broken; one naming a live process with its start time is not', { timeout: 30_000 }, async () => {
    const v = await openVault('reused', { storage: 'fs', path: dir, lockTimeoutMs: 600, lockLeaseMs: 200 })
    await v.kv().set('a', 1)
    const lock = join(dir, 'reused', '.lock')
    // The engine gives its lock up once its queue is idle; plant the stale lock only after that,
    // so that the next write has to take (and break) it rather than find its own lock still held.
    assert.ok(await lockGone(lock), 'the engine let its lock go once idle')
    const host = (await import('node:os')).hostname()
    const boot = existsSync('/proc/sys/kernel/random/boot_id') ? (await import('node:fs')).readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() : null
    const start = processStartTime(process.pid)
    // Our own pid, with a start time it does not have: a reused pid.
    writeFileSync(lock, JSON.stringify({ host, pid: process.pid, start: start === null ? null : String(Number(start) + 12345), boot, nonce: 'x', at: Date.now() }))
    if (start !== null) {
      await v.kv().set('a', 2)
      assert.equal(await v.kv().get('a'), 2)
      // The planted lock was broken, not kept: this engine took its own and gives it up once idle.
      assert.ok(await lockGone(lock), 'the engine let its lock go once idle')
      // Now a lock of a process that is alive (this one), even with an old lease: never broken.
      writeFileSync(lock, JSON.stringify({ host, pid: process.pid, start, boot, nonce: 'y', at: Date.now() - 60_000 }))
      const old = new Date(Date.now() - 60_000)
      ;(await import('node:fs')).utimesSync(lock, old, old)
      await assert.rejects(v.kv().set('a', 3), LockTimeoutError)
      ;(await import('node:fs')).unlinkSync(lock)
    }
    await v.close()
  })

  test('a transaction whose callback throws commits nothing; transactions of two processes never interleave', { timeout: 30_000 }, async () => {
    const v = await openVault('txfail', { storage: 'fs', path: dir })
    await v.kv().set('n', 1)
    await assert.rejects(
      v.transaction(async (tx) => {
        await tx.kv().set('n', 99)
        await tx.kv().set('other', 1)
        throw new Error('boom')
      }),
      /boom/,
    )
    assert.equal(await v.kv().get('n'), 1)
    assert.equal(await v.kv().get('other'), undefined)
    const child = startChild({ dir, name: 'txfail', action: 'increment', count: 50 })
    for (let i = 0; i < 50; i++) {
      await v.transaction(async (tx) => {
        const n = ((await tx.kv().get('n')) as number) ?? 0
        await tx.kv().set('n', n + 1)
      })
    }
    await child.next('done')
    await child.exited
    assert.equal(await v.kv().get('n'), 101)
    await v.close()
  })

  test('watch reports commits of another process', { timeout: 30_000 }, async () => {
    const v = await openVault('watched', { storage: 'fs', path: dir })
    await v.kv('settings').set('init', 1)
    const seen: string[][] = []
    const stop = await v.watch({ domains: ['kv'], kvNamespaces: ['default'], externalOnly: true }, (c) => seen.push(c.kvNamespaces))
    const writer = startChild({ dir, name: 'watched', action: 'set' })
    await writer.next('open')
    writer.send(JSON.stringify(['w', 1]))
    await writer.next('set')
    const t0 = Date.now()
    while (seen.length === 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10))
    assert.ok(seen.length > 0, 'the change was reported')
    assert.deepEqual(seen[0], ['default'])
    stop()
    writer.send('quit')
    await writer.exited
    await v.close()
  })
})
