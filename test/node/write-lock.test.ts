/**
 * The vault's write lock between Node processes (issue 8, items 13 and 14): a process that is not
 * writing holds nobody up, even while it computes synchronously; a full disk while taking the lock
 * is a typed error that leaves nothing behind.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as fs from 'node:fs'
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import { QuotaExceededError, openVault } from '../../src/node.js'
import { NodeFileLock, type LockFs } from '../../src/sharing/node/node-file-lock.js'
import { tempDir } from './helpers.js'
import { startChild } from './sharing-helpers.js'

const dir = tempDir('labvault-lock-')

describe('write lock between processes', { timeout: 60_000 }, () => {
  test('a process computing synchronously after its write does not hold the lock: another process writes meanwhile', async () => {
    const seed = await openVault('busy', { storage: 'fs', path: dir })
    await seed.close()
    const marker = join(dir, 'stop-busy')
    const a = startChild({ dir, name: 'busy', action: 'write-then-busy', key: marker })
    await a.next('busy', 30_000)
    // A is spinning now (its event loop does not turn) until the marker appears, up to 20 s.
    const b = await openVault('busy', { storage: 'fs', path: dir, lockTimeoutMs: 8000 })
    let outcome: string
    try {
      await b.kv().set('from-b', 1)
      outcome = 'written'
    } catch (err) {
      outcome = String(err)
    }
    writeFileSync(marker, '')
    const done = await a.next('busy-done', 30_000)
    assert.equal(outcome, 'written')
    assert.equal(done.stoppedByMarker, true, 'B wrote while A was still busy')
    await a.exited
    assert.equal(typeof (await b.kv().get('busy-writer')), 'number', "A's write is there too")
    await b.close()
  })
})

/** node:fs with `writeSync` failing with ENOSPC while `full` is true (the disk is full). */
function fullDisk() {
  const state = { full: true }
  const injected: LockFs = {
    ...fs,
    writeSync: ((...args: Parameters<typeof fs.writeSync>) => {
      if (state.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' })
      return (fs.writeSync as (...a: unknown[]) => number)(...args)
    }) as typeof fs.writeSync,
  }
  return { state, injected }
}

describe('write lock and a full disk', () => {
  test('ENOSPC while writing the lock file: QuotaExceededError, no lock file left, the next try after space returns takes it at once', async () => {
    const folder = tempDir('labvault-lockfull-')
    const { state, injected } = fullDisk()
    const lock = new NodeFileLock(join(folder, '.lock'), { leaseMs: 5000, fs: injected })
    await assert.rejects(lock.acquire(1000), (err) => err instanceof QuotaExceededError && /write lock/.test((err as Error).message))
    assert.deepEqual(readdirSync(folder).filter((f) => f.startsWith('.lock') && f !== '.lock.wait'), [], 'no lock file (or temporary file) is left behind')
    state.full = false
    // No wait at all: a timeout of 0 tries once.
    await lock.acquire(0)
    assert.ok(lock.held)
    lock.release()
    assert.equal(existsSync(join(folder, '.lock')), false)
  })

  test('an empty or garbled lock file (left by a failure) is broken at once, not after the lease', async () => {
    for (const content of ['', '{"pid":', 'null']) {
      const folder = tempDir('labvault-lockgarbled-')
      const path = join(folder, '.lock')
      writeFileSync(path, content)
      const past = new Date(Date.now() - 1000)
      utimesSync(path, past, past)
      const lock = new NodeFileLock(path, { leaseMs: 60_000 })
      await lock.acquire(0)
      assert.ok(lock.held, JSON.stringify(content))
      lock.release()
    }
  })

  test('through the vault: a write while the disk is full rejects with QuotaExceededError; the next write succeeds', async () => {
    const name = 'full-lock'
    const seed = await openVault(name, { storage: 'fs', path: dir })
    await seed.close()
    // Make the lock's own write fail (node:fs as the library sees it), nothing else.
    const require = createRequire(import.meta.url)
    const cjsFs = require('node:fs') as typeof fs
    const realWrite = cjsFs.writeSync
    const realOpen = cjsFs.openSync
    const lockFds = new Set<number>()
    let full = true
    cjsFs.openSync = ((p: fs.PathLike, ...rest: unknown[]) => {
      const fd = (realOpen as (...a: unknown[]) => number)(p, ...rest)
      if (String(p).includes(`${name}/.lock`)) lockFds.add(fd)
      return fd
    }) as typeof fs.openSync
    cjsFs.writeSync = ((fd: number, ...rest: unknown[]) => {
      if (full && lockFds.has(fd)) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
      return (realWrite as (...a: unknown[]) => number)(fd, ...rest)
    }) as typeof fs.writeSync
    syncBuiltinESMExports()
    try {
      const vault = await openVault(name, { storage: 'fs', path: dir, lockTimeoutMs: 0 })
      await assert.rejects(vault.kv().set('a', 1), QuotaExceededError)
      full = false
      await vault.kv().set('a', 2)
      assert.equal(await vault.kv().get('a'), 2)
      await vault.close()
    } finally {
      cjsFs.writeSync = realWrite
      cjsFs.openSync = realOpen
      syncBuiltinESMExports()
    }
  })
})
