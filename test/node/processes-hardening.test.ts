import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError, deleteVault, openVault } from '../../src/node.js'
import { MemoryAdapter } from '../../src/storage/memory-adapter.js'
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
