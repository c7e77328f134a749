import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError, deleteVault, openVault } from '../../src/node.js'
import { MemoryAdapter } from '../../src/storage/memory-adapter.js'
import { openVaultEngine } from '../../src/domains/registry.js'
import { inProcessPort } from '../../src/client/in-process-port.js'
import { Vault } from '../../src/client/vault.js'
import type { SqliteDatabase } from '../../src/sqlite/sqlite-database.js'
import { tempDir } from './helpers.js'

// Processes against what a careless or hostile caller does (see also processes.test.ts).

const dir = tempDir('labvault-processes-hard-')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A memory adapter whose appends (the log's commits) fail while `failing` is set. */
class FailingAppends extends MemoryAdapter {
  failing = false
  override async append(path: string, data: Uint8Array): Promise<number> {
    if (this.failing) throw new Error('disk unplugged')
    return super.append(path, data)
  }
}

test('openVault with readOnly and restart: InvalidArgumentError naming both, before anything is opened (it opened, then failed with UnsupportedError and left the handle open)', async () => {
  const v = await openVault('ro-restart', { storage: 'fs', path: dir })
  await v.kv().set('k', 1)
  await v.close()
  await assert.rejects(openVault('ro-restart', { storage: 'fs', path: dir, readOnly: true, restart: true }), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, String(err))
    assert.match(err.message, /readOnly/)
    assert.match(err.message, /restart/)
    return true
  })
  // Nothing was left open: the vault can be deleted.
  assert.equal(await deleteVault('ro-restart', { storage: 'fs', path: dir }), true)
  // Each alone is fine.
  const w = await openVault('ro-restart2', { storage: 'fs', path: dir, restart: true })
  await w.close()
  const r = await openVault('ro-restart2', { storage: 'fs', path: dir, readOnly: true })
  await r.close()
})

test('a restart whose recovery fails rejects the open and leaves no handle open behind (the vault stayed open in this process: deleteVault refused it)', async () => {
  const adapter = new FailingAppends()
  const v = await openVault('afteropen', { storage: adapter, processLeaseMs: 20 })
  await v.processes.start('left-behind')
  await v.close() // stops renewing: the process crashes once its lease ends
  await sleep(60)
  adapter.failing = true
  await assert.rejects(openVault('afteropen', { storage: adapter, restart: true }), /disk unplugged/)
  adapter.failing = false
  assert.equal(await deleteVault('afteropen', { storage: adapter }), true)
})

test("holders' lease rows do not pile up: expired ones are removed when a process starts or crashed ones are recovered (every Vault that ever ran a process left its row for good)", async () => {
  const engine = await openVaultEngine({ name: 'holders', storage: new MemoryAdapter(), processLeaseMs: 200 })
  const db = (engine as unknown as { files: { db: SqliteDatabase } }).files.db
  const holders = () => db.all('SELECT id FROM process_holders ORDER BY id').map((r) => r[0] as string)
  const handle = () => new Vault(inProcessPort(engine), 'holders')
  // Ten holders run a process each and go away without leave(); the last one crashes.
  let crashed = ''
  for (let i = 0; i < 10; i++) {
    const v = handle()
    const p = await v.processes.start(`batch-${i}`)
    if (i < 9) await p.done()
    else crashed = p.id
    v.processes._close()
  }
  await sleep(500) // every lease ended more than a lease ago
  const crashedInfo = await handle().processes.get(crashed)
  assert.equal(crashedInfo.status, 'crashed')
  const next = handle()
  const q = await next.processes.start('next')
  // Only the holder that runs something now is left; the crashed process still shows as crashed.
  assert.deepEqual(holders(), [next.processes.holder])
  assert.equal((await next.processes.get(crashed)).status, 'crashed')
  assert.ok((await next.processes.recover()).some((r) => r.id === crashed))
  await q.done()
  next.processes._close()
  await sleep(500)
  // Recovery removes expired rows too (here: the last holder's).
  assert.deepEqual(await handle().processes.recover(), [])
  assert.deepEqual(holders(), [])
  await engine.close()
})
