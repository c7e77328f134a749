// Executing a table locks it across processes: execute and createInstance on it from another
// process fail with LockTimeoutError after lockTimeoutMs, while reads of it and operations on other
// tables go on. A process killed while executing leaves its lock until restart resumes its work.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, describe, test } from 'node:test'
import { LockTimeoutError, openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-tables-locks-')
const fixture = fileURLToPath(new URL('./fixtures/tables-child.ts', import.meta.url))
const LEASE = 600

/** The child (fixtures/tables-child.ts) with its events. */
function child(name: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify({ path: dir, name, leaseMs: LEASE })], { stdio: ['pipe', 'pipe', 'pipe'] })
  after(() => void (proc.exitCode === null && proc.kill('SIGKILL')))
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  const events: Record<string, unknown>[] = []
  const waiting: ((e: Record<string, unknown>) => void)[] = []
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, unknown>
    const w = waiting.shift()
    if (w) w(e)
    else events.push(e)
  })
  return {
    proc,
    next: (): Promise<Record<string, unknown>> =>
      events.length > 0 ? Promise.resolve(events.shift()!) : new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no event from the child; stderr: ${stderr.slice(-2000)}`)), 30_000)
        waiting.push((e) => (clearTimeout(timer), resolve(e)))
      }),
    send: (line: string) => proc.stdin!.write(line + '\n'),
  }
}

/** A vault with `stories` ready to execute (its builder waits on the executing process's gate) and `other`. */
async function prepare(name: string): Promise<void> {
  const vault = await openVault(name, { storage: 'fs', path: dir, processLeaseMs: LEASE })
  await vault.code.create('m', 'export const rows = () => [{ k: 1 }, { k: 2 }]\nexport async function gated(a) { await globalThis.__tablesGate; return a.k * 10 }\n')
  await vault.tables.create('stories')
  await vault.tables.create('other')
  await vault.tables.write('stories', { k: [0] }, { version: 'old' })
  await vault.tables.createInstance('stories')
  await vault.tables.builders.create('stories', 'stories_index', { kind: 'index', changedColumns: ['k'], function: { module: 'm', export: 'rows' }, returnType: 'rows', dtypes: { k: 'i32' } })
  await vault.tables.builders.create('stories', 'g', { kind: 'column', changedColumns: ['g'], function: { module: 'm', export: 'gated' }, arguments: { k: '<<self.k[index]>>' } })
  await vault.close()
}

describe('tables: locks between processes', { timeout: 60_000 }, () => {
  test('another process executing a table: execute and createInstance on it time out; reads and other tables go on', async () => {
    await prepare('locks-a')
    const c = child('locks-a')
    assert.equal((await c.next()).event, 'locked')
    const vault = await openVault('locks-a', { storage: 'fs', path: dir, lockTimeoutMs: 300, processLeaseMs: LEASE })
    const t0 = Date.now()
    await assert.rejects(vault.tables.execute('stories'), LockTimeoutError)
    assert.ok(Date.now() - t0 >= 250, 'it waited for the lock first')
    await assert.rejects(vault.tables.createInstance('stories', { version: 'v2' }), LockTimeoutError)
    // Reads of the locked table, and any operation on other tables, go on.
    assert.equal((await vault.tables.get('stories', { version: 'old' })).table.numRows, 1)
    assert.equal((await vault.tables.instances('stories', { includeTemp: true })).length, 2)
    await vault.tables.create('llm_storage')
    await vault.tables.write('other', { x: [1] })
    assert.equal((await vault.tables.locks()).map((l) => l.table).join(), 'stories')
    c.send('go')
    const done = await c.next()
    assert.equal(done.event, 'done')
    // The lock is gone with the execution.
    await vault.tables.createInstance('stories', { copy: true })
    assert.deepEqual((await vault.tables.get('stories')).table.toArray().map((r) => r.toJSON()), [{ k: 1, g: 10 }, { k: 2, g: 20 }])
    await vault.close()
  })

  test('a process killed while executing keeps its lock; restart resumes and completes the execution', async () => {
    await prepare('locks-b')
    const c = child('locks-b')
    assert.equal((await c.next()).event, 'locked')
    c.proc.kill('SIGKILL')
    await new Promise((r) => c.proc.once('exit', r))
    const probe = await openVault('locks-b', { storage: 'fs', path: dir, lockTimeoutMs: 100, processLeaseMs: LEASE })
    await assert.rejects(probe.tables.execute('stories'), LockTimeoutError, 'the dead process still holds the lock')
    await probe.close()
    await new Promise((r) => setTimeout(r, LEASE + 100))
    // This process has no gate: the builder runs straight through.
    const vault = await openVault('locks-b', { storage: 'fs', path: dir, processLeaseMs: LEASE, restart: true })
    assert.deepEqual(await vault.tables.locks(), [])
    assert.deepEqual(await vault.processes.active(), [])
    assert.deepEqual((await vault.tables.get('stories')).table.toArray().map((r) => r.toJSON()), [{ k: 1, g: 10 }, { k: 2, g: 20 }])
    await vault.close()
  })
})
