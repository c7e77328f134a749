// vault.close() while a background `tables.execute` runs: close waits for the run to stop cleanly
// (at its next builder boundary or progress report), nothing is written to the vault's folder after
// close resolves, and the reopened vault shows the run paused (no half instance); restart resumes it.
import assert from 'node:assert/strict'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { openVault, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-tables-close-')

/** Every file under `root` with its size and modification time. */
function listing(root: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else {
        const s = statSync(p)
        out.set(p, `${s.size}:${s.mtimeMs}`)
      }
    }
  }
  walk(root)
  return out
}

async function slowTable(vault: Vault): Promise<void> {
  await vault.code.create('test', 'export const rows = () => Array.from({ length: 30 }, (_, k) => ({ k }))\nexport const slow = async (a) => { await new Promise((r) => setTimeout(r, 10)); return a.k + 1 }\n')
  await vault.tables.create('t')
  await vault.tables.createInstance('t')
  await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['k'], function: { module: 'test', export: 'rows' }, returnType: 'rows', dtypes: { k: 'i32' } })
  for (const b of ['a', 'b', 'c', 'd']) await vault.tables.builders.create('t', b, { kind: 'column', changedColumns: [b], function: { module: 'test', export: 'slow' }, arguments: { k: '<<self.k[index]>>' } })
}

test('close() during a background execute: the run stops first, nothing is written after close, reopen shows it paused and restart finishes it', { timeout: 60_000 }, async () => {
  const open = () => openVault('bg-close', { storage: 'fs', path: dir })
  const vault = await open()
  await slowTable(vault)
  const { processId } = await vault.tables.execute('t', { background: true })
  // Let it get into the builders (progress is stored as it goes).
  for (let i = 0; i < 500 && !(await vault.processes.get(processId)).progress; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(await vault.processes.completed(processId), false, 'still running when close() is called')
  await vault.close()
  const atClose = listing(dir)
  // Long enough for the remaining builders (4 × 30 × 10 ms) to have run, had they gone on.
  await new Promise((r) => setTimeout(r, 1500))
  assert.deepEqual(listing(dir), atClose, 'nothing written after close() resolved')

  // Reported, not left running: paused (finished builders kept), the lock still its own.
  let again = await open()
  const p = await again.processes.get(processId)
  assert.equal(p.status, 'paused', 'the interrupted run is paused')
  assert.match(p.error ?? '', /ClosedError: the vault was closed/)
  assert.deepEqual(await again.tables.locks(), [{ table: 't', processId }])
  assert.equal((await again.tables.instances('t')).filter((i) => !i.temporary).length, 0, 'no half instance')
  await again.close()
  // restart resumes it to the end: every row of every builder.
  again = await openVault('bg-close', { storage: 'fs', path: dir, restart: true })
  for (let i = 0; i < 1000 && !(await again.processes.completed(processId)); i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(await again.processes.completed(processId), true)
  assert.deepEqual(await again.tables.locks(), [])
  const { table } = await again.tables.get('t')
  assert.equal(table.numRows, 30)
  assert.deepEqual(table.toArray()[29]!.toJSON(), { k: 29, a: 30, b: 30, c: 30, d: 30 })
  await again.close()
})

test('an execution left paused by close(): processes.stop(id) after reopening ends it when it resolves, rolled back, its lock released (the stop waited for a checkpoint nothing would reach)', { timeout: 60_000 }, async () => {
  const open = () => openVault('bg-close-stop', { storage: 'fs', path: dir })
  const vault = await open()
  await slowTable(vault)
  const { processId } = await vault.tables.execute('t', { background: true })
  for (let i = 0; i < 500 && !(await vault.processes.get(processId)).progress; i++) await new Promise((r) => setTimeout(r, 10))
  await vault.close()
  const again = await open()
  assert.equal((await again.processes.get(processId)).status, 'paused')
  await again.processes.stop(processId)
  assert.equal((await again.processes.get(processId)).status, 'stopped', 'stopped when stop() resolved')
  assert.deepEqual(await again.tables.locks(), [], 'its lock released')
  assert.deepEqual((await again.tables.instances('t')).filter((i) => !i.temporary), [], 'nothing materialised')
  assert.deepEqual(await again.processes.active(), [])
  await again.close()
})
