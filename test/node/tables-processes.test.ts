// Every write operation of vault.tables / vault.code is a process (TableVault's test_exceptions,
// test_restart_and_stops, test_stop_and_materialize): made to fail at setup and at execution by the
// engine's test-only fault hook, the vault's content must be exactly as before (a full dump), or the
// operation paused, then resumed (by calling it again, or by restart) or rolled back (stop force).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { AlreadyExistsError, ConflictError, InvalidArgumentError, LockTimeoutError, openVault, type Vault } from '../../src/node.js'
import { armTableFault, disarmTableFault, type FaultPhase } from '../../src/domains/tables/engine/table-faults.js'
import { dumpTables, prepare, writeOps } from './tables-support.js'

let counter = 0
const fresh = async (options: { lockTimeoutMs?: number } = {}): Promise<{ vault: Vault; name: string }> => {
  const name = `tp-${++counter}`
  const vault = await openVault(name, { storage: 'memory', ...options })
  await prepare(vault)
  return { vault, name }
}
const phases: FaultPhase[] = ['setup', 'execute']

async function noneActive(vault: Vault): Promise<void> {
  assert.deepEqual((await vault.processes.active()).map((p) => [p.name, p.status]), [], 'no process is active')
  assert.deepEqual(await vault.tables.locks(), [], 'no table is locked')
}

describe('tables: every write operation is a process', { timeout: 120_000 }, () => {
  test('without a processId, any error at setup or execution leaves the vault exactly as before', async () => {
    const { vault } = await fresh()
    for (const { op, run } of writeOps) {
      for (const phase of phases) {
        for (const kind of ['library', 'plain'] as const) {
          const before = await dumpTables(vault)
          armTableFault(op, phase, () => (kind === 'library' ? new InvalidArgumentError(`fault in ${op}`) : new Error(`fault in ${op}`)))
          await assert.rejects(run(vault, {}), (err: Error) => err.message === `fault in ${op}`, `${op} ${phase} ${kind}: the error surfaces`)
          disarmTableFault()
          assert.deepEqual(await dumpTables(vault), before, `${op} ${phase} ${kind}: content as before`)
          await noneActive(vault)
        }
      }
    }
    await vault.close()
    // And each operation succeeds once the fault is gone (the faults were not what stopped them).
    for (const { op, run } of writeOps) {
      const { vault: v } = await fresh()
      const r = (await run(v, {})) as { processId: string }
      assert.equal(await v.processes.completed(r.processId), true, `${op} completed`)
      await noneActive(v)
      await v.close()
    }
  })

  test('with a processId, a library error rolls back and the process fails', async () => {
    const { vault } = await fresh()
    for (const { op, run } of writeOps) {
      for (const phase of phases) {
        const before = await dumpTables(vault)
        const processId = await vault.processes.newId()
        armTableFault(op, phase, () => new InvalidArgumentError(`fault in ${op}`))
        await assert.rejects(run(vault, { processId }), InvalidArgumentError)
        assert.deepEqual(await dumpTables(vault), before, `${op} ${phase}: content as before`)
        assert.equal((await vault.processes.get(processId)).status, 'failed')
        await noneActive(vault)
      }
    }
    await vault.close()
  })

  test('with a processId, a plain error pauses: shown active, locks kept (another handle times out, reads go on); stop(force) rolls back', async () => {
    // lockTimeoutMs is the engine's: both handles of this process share it.
    const { vault, name } = await fresh({ lockTimeoutMs: 150 })
    const other = await openVault(name, { storage: 'memory', lockTimeoutMs: 150 })
    for (const { op, locks, run } of writeOps) {
      for (const phase of phases) {
        const before = await dumpTables(vault)
        const processId = await vault.processes.newId()
        armTableFault(op, phase, () => new Error(`fault in ${op}`))
        await assert.rejects(run(vault, { processId }), /fault in/)
        const active = await other.processes.active()
        assert.deepEqual(active.map((p) => [p.id, p.name, p.status]), [[processId, `tables.${op}`, 'paused']], `${op} ${phase}: paused`)
        assert.match(active[0]!.error ?? '', /fault in/)
        assert.deepEqual(await other.tables.locks(), locks.map((table) => ({ table, processId })).sort((a, b) => a.table.localeCompare(b.table)), `${op} ${phase}: its locks are kept`)
        const table = locks[0]
        if (table) {
          await assert.rejects(other.tables.describe(table, 'x'), LockTimeoutError, `${op} ${phase}: the locked table`)
          await other.tables.describe(table === 'b' ? 't' : 'b', 'another table goes on')
          await other.tables.describe(table === 'b' ? 't' : 'b', '')
          assert.equal((await other.tables.list()).length >= 3, true, 'reads go on')
        }
        if (op === 'write') await assert.rejects(run(vault, { processId }), (err: Error) => err instanceof ConflictError && /re-executed/.test(err.message))
        await other.processes.stop(processId, { force: true })
        assert.deepEqual(await dumpTables(vault), before, `${op} ${phase}: stopped, content as before`)
        await noneActive(vault)
      }
    }
    await other.close()
    await vault.close()
  })
})

describe('tables: paused operations are resumed by restart or rolled back by stop', { timeout: 120_000 }, () => {
  for (const { op, run } of writeOps) {
    test(`${op}: resumed by calling again, by restart, rolled back by stop(force)`, async () => {
      for (const phase of phases) {
        // Calling again.
        {
          const { vault } = await fresh()
          const processId = await vault.processes.newId()
          armTableFault(op, phase, () => new Error('boom'))
          await assert.rejects(run(vault, { processId }), /boom/)
          if (op === 'write') await assert.rejects(run(vault, { processId }), ConflictError)
          else {
            const again = (await run(vault, { processId })) as { processId: string }
            assert.equal(again.processId, processId)
            assert.equal(await vault.processes.completed(processId), true)
          }
          if (op === 'write') await vault.processes.stop(processId, { force: true })
          await noneActive(vault)
          await vault.close()
        }
        // Restart.
        {
          const { vault, name } = await fresh()
          const before = await dumpTables(vault)
          const processId = await vault.processes.newId()
          armTableFault(op, phase, () => new Error('boom'))
          await assert.rejects(run(vault, { processId }), /boom/)
          await vault.close()
          const reopened = await openVault(name, { storage: 'memory', restart: true })
          if (op === 'write') {
            // A write cannot be resumed: restart rolls it back.
            assert.deepEqual(await dumpTables(reopened), before)
            assert.equal((await reopened.processes.get(processId)).status, 'stopped')
          } else {
            assert.equal(await reopened.processes.completed(processId), true, `${op} ${phase}: completed by restart`)
          }
          await noneActive(reopened)
          await reopened.close()
        }
        // Stop.
        {
          const { vault } = await fresh()
          const before = await dumpTables(vault)
          const processId = await vault.processes.newId()
          armTableFault(op, phase, () => new Error('boom'))
          await assert.rejects(run(vault, { processId }), /boom/)
          await vault.processes.stop(processId, { force: true })
          assert.deepEqual(await dumpTables(vault), before, `${op} ${phase}: rolled back by stop`)
          assert.equal(await vault.processes.completed(processId), false)
          await noneActive(vault)
          await vault.close()
        }
      }
    })
  }

  test('a write stopped with materialize keeps its data as one instance', async () => {
    const { vault } = await fresh()
    const processId = await vault.processes.newId()
    armTableFault('write', 'execute', () => new Error('boom'))
    await assert.rejects(vault.tables.write('u', { x: [1, 2, 3] }, { processId }), /boom/)
    assert.deepEqual(await vault.tables.instances('u'), [])
    await vault.processes.stop(processId, { force: true, materialize: true })
    const instances = await vault.tables.instances('u')
    assert.equal(instances.length, 1)
    assert.equal(instances[0]!.successful, false, 'a partial result is not successful')
    assert.deepEqual(Array.from((await vault.tables.get('u')).table.getChild('x')!.toArray() as Float64Array), [1, 2, 3])
    await assert.rejects(vault.tables.get('u', { successfulOnly: true }), /no active materialised instance/)
    await noneActive(vault)
    await vault.close()
  })

  test('a paused code.create (no replace) resumed after another call created the module fails, keeping that module (calling again, and restart)', async () => {
    for (const how of ['again', 'restart'] as const) {
      const { vault, name } = await fresh()
      const processId = await vault.processes.newId()
      armTableFault('codeCreate', 'execute', () => new Error('boom'))
      await assert.rejects(vault.code.create('c', 'export const a = "A"', { processId }), /boom/)
      // Code operations lock no table: another call creates the module meanwhile (acknowledged).
      await vault.code.create('c', 'export const a = "B"')
      let reader = vault
      if (how === 'again') {
        // Before the fix: resolved, and the module was A's text.
        await assert.rejects(vault.code.create('c', 'export const a = "A"', { processId }), AlreadyExistsError)
      } else {
        await vault.close()
        reader = await openVault(name, { storage: 'memory', restart: true })
      }
      assert.equal(await reader.code.get('c'), 'export const a = "B"', how)
      assert.equal((await reader.processes.get(processId)).status, 'failed', how)
      await noneActive(reader)
      await reader.close()
    }
  })
})
