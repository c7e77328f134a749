// vault.tables.execute: TableVault's basic scenario, versioning (a)–(d), stop + materialize, and
// execute as a process (faults at setup and execution), background, progress and abort.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError, StoppedError, openVault, type Vault } from '../../src/node.js'
import { armTableFault } from '../../src/domains/tables/engine/table-faults.js'
import { tempDir } from './helpers.js'
import { dumpTables } from './tables-support.js'
import { basicScenario, specs } from './tables-pipeline.js'

const dir = tempDir('labvault-tables-execute-')
let counter = 0
const open = (options: { restart?: boolean } = {}, name = `te-${++counter}`) => openVault(name, { storage: 'fs', path: dir, ...options })

type Rows = Record<string, unknown>[]
async function rows(vault: Vault, table: string, instanceId?: string): Promise<Rows> {
  const { table: t } = await vault.tables.get(table, instanceId ? { instanceId, activeOnly: false } : {})
  return t.toArray().map((r) => ({ ...r.toJSON() }))
}
function noNulls(rs: Rows, what: string): void {
  for (const r of rs) for (const [k, v] of Object.entries(r)) assert.ok(v !== null && v !== undefined, `${what}: ${k} is null`)
}
async function noneActive(vault: Vault): Promise<void> {
  assert.deepEqual(await vault.processes.active(), [])
  assert.deepEqual(await vault.tables.locks(), [])
}
const TABLES = ['stories', 'llm_storage', 'llm_questions']

/** A new instance copying the latest of `table`, executed; returns its id. */
async function reexecute(vault: Vault, table: string, options: { force?: boolean } = {}): Promise<string> {
  await vault.tables.createInstance(table, { copy: true })
  return (await vault.tables.execute(table, options)).instanceId!
}

describe('tables: execute', { timeout: 120_000 }, () => {
  test('the basic scenario: every table has its rows, no nulls; every process completed, none active', async () => {
    const vault = await open()
    const ids = await basicScenario(vault)
    for (const t of TABLES) {
      const r = await rows(vault, t)
      assert.equal(r.length, 1, `${t}: one row`)
      noNulls(r, t)
    }
    assert.deepEqual(Object.keys((await rows(vault, 'llm_questions'))[0]!), ['paper_name', 'q1', 'q2', 'q2a', 'q3', 'q3a'])
    assert.equal((await rows(vault, 'stories'))[0]!.file, 'paper1.pdf')
    for (const id of ids) assert.equal(await vault.processes.completed(id), true, `process ${id} completed`)
    await noneActive(vault)
    // The input file went with the materialised instance to the table's artifact set.
    assert.deepEqual((await vault.tables.artifacts('stories').list()).map((a) => a.name), ['paper1.pdf'])
    await vault.close()
  })

  test('no input files: every table has zero rows', async () => {
    const vault = await open()
    await basicScenario(vault, {})
    for (const t of TABLES) assert.equal((await rows(vault, t)).length, 0, t)
    await vault.close()
  })

  test('versioning (a) unchanged → equal data, rows reused; (b) one builder replaced → only its column differs', async () => {
    const vault = await open()
    await basicScenario(vault)
    const storage1 = await rows(vault, 'llm_storage')
    const questions1 = await rows(vault, 'llm_questions')
    const progress: { builder: string; reused: number; total: number }[] = []
    await vault.tables.createInstance('llm_storage', { copy: true })
    await vault.tables.execute('llm_storage', { onProgress: (p) => progress.push(p) })
    await reexecute(vault, 'llm_questions')
    assert.equal((await vault.tables.instances('llm_storage')).length, 2)
    assert.equal((await vault.tables.instances('llm_questions')).length, 2)
    assert.deepEqual(await rows(vault, 'llm_storage'), storage1, '(a) llm_storage equal (random file ids reused)')
    assert.deepEqual(await rows(vault, 'llm_questions'), questions1, '(a) llm_questions equal (random answers reused)')
    assert.ok(progress.some((p) => p.builder === 'upload_openai' && p.reused === p.total && p.total === 1), `progress reports the reused row: ${JSON.stringify(progress)}`)

    await vault.tables.createInstance('llm_questions', { copy: true })
    await vault.tables.builders.delete('llm_questions', 'question_1')
    await vault.tables.builders.create('llm_questions', 'question_1a', specs.question_1a)
    await vault.tables.execute('llm_questions')
    const questions2 = await rows(vault, 'llm_questions')
    for (const c of ['paper_name', 'q2', 'q2a', 'q3', 'q3a']) assert.equal(questions2[0]![c], questions1[0]![c], `(b) ${c} unchanged`)
    assert.notEqual(questions2[0]!.q1, questions1[0]!.q1, '(b) q1 recomputed by the new builder')
    assert.match(String(questions2[0]!.q1), /^q1a-/)
    await noneActive(vault)
    await vault.close()
  })

  test('versioning (c) force on a dependency → downstream recomputed; (d) a new input file → one more row everywhere', async () => {
    const vault = await open()
    await basicScenario(vault)
    const storage1 = await rows(vault, 'llm_storage')
    const questions1 = await rows(vault, 'llm_questions')
    await reexecute(vault, 'llm_storage', { force: true })
    await reexecute(vault, 'llm_questions')
    const storage2 = await rows(vault, 'llm_storage')
    const questions2 = await rows(vault, 'llm_questions')
    assert.equal(questions2.length, 1)
    noNulls(questions2, '(c)')
    assert.notEqual(storage2[0]!.file_id, storage1[0]!.file_id, '(c) force recomputed the file id')
    for (const q of ['q1', 'q2', 'q3']) assert.notEqual(questions2[0]![q], questions1[0]![q], `(c) ${q} recomputed: its dependency changed`)

    await vault.tables.createInstance('stories', { copy: true })
    await vault.tables.artifacts('stories', { instanceId: 'TEMP_base' }).put('paper2.pdf', new Uint8Array([1]))
    await vault.tables.execute('stories')
    await reexecute(vault, 'llm_storage')
    await reexecute(vault, 'llm_questions')
    for (const t of TABLES) {
      const r = await rows(vault, t)
      assert.equal(r.length, 2, `(d) ${t}: two rows`)
      noNulls(r, `(d) ${t}`)
    }
    await noneActive(vault)
    await vault.close()
  })

  test('hasSideEffects: once executing starts, the other instances are inactive', async () => {
    const vault = await open()
    await basicScenario(vault)
    const first = (await vault.tables.instances('llm_storage'))[0]!
    assert.equal(first.active, true)
    await reexecute(vault, 'llm_storage')
    const [a, b] = await vault.tables.instances('llm_storage')
    assert.deepEqual([a!.instanceId, a!.active, b!.active], [first.instanceId, false, true])
    await vault.close()
  })

  test('refused executions change nothing: external edit, a builder without a spec, a cycle, no temporary instance', async () => {
    const vault = await open()
    await vault.code.create('test', 'export const f = () => 1')
    await vault.tables.create('t')
    await assert.rejects(vault.tables.execute('t'), /no temporary instance/)
    await vault.tables.createInstance('t', { externalEdit: true })
    await assert.rejects(vault.tables.execute('t'), (e: Error) => e instanceof InvalidArgumentError && /external edit/.test(e.message))
    await vault.tables.deleteInstance('t', 'TEMP_base')
    await vault.tables.createInstance('t', { builders: ['a'] })
    await assert.rejects(vault.tables.execute('t'), /no spec yet/)
    const fn = { module: 'test', export: 'f' }
    await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['k'], function: fn, returnType: 'rows' })
    await vault.tables.builders.create('t', 'a', { kind: 'column', changedColumns: ['x'], function: fn, arguments: { y: '<<self.y[index]>>' } })
    await vault.tables.builders.create('t', 'b', { kind: 'column', changedColumns: ['y'], function: fn, arguments: { x: '<<self.x[index]>>' } })
    const before = await dumpTables(vault)
    await assert.rejects(vault.tables.execute('t'), /cycle/i)
    assert.deepEqual(await dumpTables(vault), before)
    await noneActive(vault)
    await vault.close()
  })
})

describe('tables: execute as a process', { timeout: 120_000 }, () => {
  for (const phase of ['setup', 'execute'] as const) {
    test(`a fault at ${phase}: without a processId, rolled back; with one, paused then resumed by calling again, by restart, or rolled back by stop`, async () => {
      const vault = await open()
      await basicScenario(vault)
      await vault.tables.createInstance('llm_storage', { copy: true })
      const before = await dumpTables(vault)
      for (const kind of ['library', 'plain'] as const) {
        armTableFault('execute', phase, () => (kind === 'library' ? new InvalidArgumentError('fault') : new Error('fault')))
        await assert.rejects(vault.tables.execute('llm_storage'), /fault/)
        assert.deepEqual(await dumpTables(vault), before, `${kind}: as before`)
        await noneActive(vault)
      }
      // Paused, then calling again resumes.
      let processId = await vault.processes.newId()
      armTableFault('execute', phase, () => new Error('fault'))
      await assert.rejects(vault.tables.execute('llm_storage', { processId }), /fault/)
      assert.deepEqual((await vault.processes.active()).map((p) => [p.id, p.status]), [[processId, 'paused']])
      assert.deepEqual(await vault.tables.locks(), [{ table: 'llm_storage', processId }])
      assert.equal((await vault.tables.execute('llm_storage', { processId })).processId, processId)
      assert.equal(await vault.processes.completed(processId), true)
      assert.equal((await vault.tables.instances('llm_storage')).length, 2)
      await noneActive(vault)
      // Paused, then stop(force) rolls back.
      await vault.tables.createInstance('llm_storage', { copy: true })
      const before2 = await dumpTables(vault)
      processId = await vault.processes.newId()
      armTableFault('execute', phase, () => new Error('fault'))
      await assert.rejects(vault.tables.execute('llm_storage', { processId }), /fault/)
      await vault.processes.stop(processId, { force: true })
      assert.deepEqual(await dumpTables(vault), before2, 'stopped: as before')
      await noneActive(vault)
      // Paused, then restart resumes.
      processId = await vault.processes.newId()
      armTableFault('execute', phase, () => new Error('fault'))
      await assert.rejects(vault.tables.execute('llm_storage', { processId }), /fault/)
      const name = vault.name
      await vault.close()
      const again = await open({ restart: true }, name)
      assert.equal(await again.processes.completed(processId), true, 'restart completed it')
      assert.equal((await again.tables.instances('llm_storage')).length, 3)
      await noneActive(again)
      await again.close()
    })
  }

  test('a table without side effects (no setup commit): faults at setup and execution change nothing, an artifact its builder put included; paused then resumed keeps it', async () => {
    const vault = await open()
    await vault.code.create('m', "export async function idx(args, ctx) { await ctx.artifactFolder.put('made.txt', new Uint8Array([7])); return [{ k: 1, f: 'made.txt' }] }\nexport const twice = (a) => a.k * 2\n")
    await vault.tables.create('t')
    await vault.tables.createInstance('t')
    await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['k', 'f'], function: { module: 'm', export: 'idx' }, returnType: 'rows', dtypes: { k: 'i32', f: 'artifact' } })
    await vault.tables.builders.create('t', 'd', { kind: 'column', changedColumns: ['d'], function: { module: 'm', export: 'twice' }, arguments: { k: '<<self.k[index]>>' }, dtypes: { d: 'i32' } })
    const before = await dumpTables(vault)
    for (const phase of ['setup', 'execute'] as const) {
      for (const kind of ['library', 'plain'] as const) {
        armTableFault('execute', phase, () => (kind === 'library' ? new InvalidArgumentError('fault') : new Error('fault')))
        await assert.rejects(vault.tables.execute('t'), /fault/)
        assert.deepEqual(await dumpTables(vault), before, `${phase} ${kind}: as before (no made.txt)`)
        await noneActive(vault)
      }
    }
    for (const phase of ['setup', 'execute'] as const) {
      const processId = await vault.processes.newId()
      armTableFault('execute', phase, () => new Error('fault'))
      await assert.rejects(vault.tables.execute('t', { processId }), /fault/)
      assert.deepEqual((await vault.processes.active()).map((p) => [p.id, p.status]), [[processId, 'paused']], phase)
      if (phase === 'setup') {
        // Still at setup: stop(force) leaves the vault as it was.
        await vault.processes.stop(processId, { force: true })
        assert.deepEqual(await dumpTables(vault), before, 'stopped at setup: as before')
        continue
      }
      const { instanceId } = await vault.tables.execute('t', { processId })
      assert.equal(await vault.processes.completed(processId), true)
      assert.deepEqual(await rows(vault, 't'), [{ k: 1, f: 'made.txt', d: 2 }])
      assert.deepEqual((await vault.tables.artifacts('t', { instanceId }).list()).map((a) => a.name), ['made.txt'])
    }
    await noneActive(vault)
    await vault.close()
  })

  test('stop and materialize: a failed execute with a processId, stopped with materialize → one instance', async () => {
    const vault = await open()
    await vault.code.create('test', 'export const rows = () => [{ k: 1 }, { k: 2 }]\nexport const twice = (a) => a.k * 2\n')
    await vault.tables.create('stories')
    await vault.tables.createInstance('stories')
    await vault.tables.builders.create('stories', 'stories_index', { kind: 'index', changedColumns: ['k'], function: { module: 'test', export: 'rows' }, returnType: 'rows' })
    await vault.tables.builders.create('stories', 'd', { kind: 'column', changedColumns: ['d'], function: { module: 'test', export: 'twice' }, arguments: { k: '<<self.k[index]>>' } })
    const processId = await vault.processes.newId()
    armTableFault('execute', 'execute', () => new Error('fault while materialising'))
    await assert.rejects(vault.tables.execute('stories', { processId }), /fault/)
    await vault.processes.stop(processId, { force: true, materialize: true })
    const instances = await vault.tables.instances('stories')
    assert.equal(instances.length, 1)
    assert.equal(instances[0]!.successful, false)
    assert.deepEqual(await rows(vault, 'stories'), [{ k: 1, d: 2 }, { k: 2, d: 4 }])
    await noneActive(vault)
    await vault.close()
  })

  test('background: resolves at once with a process id; progress; an AbortSignal rolls back', async () => {
    const vault = await open()
    await vault.code.create('test', 'export const rows = () => Array.from({ length: 40 }, (_, k) => ({ k }))\nexport const slow = async (a) => { await new Promise((r) => setTimeout(r, 5)); return a.k + 1 }\n')
    await vault.tables.create('t')
    await vault.tables.createInstance('t')
    await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['k'], function: { module: 'test', export: 'rows' }, returnType: 'rows', dtypes: { k: 'i32' } })
    await vault.tables.builders.create('t', 'slow', { kind: 'column', changedColumns: ['s'], function: { module: 'test', export: 'slow' }, arguments: { k: '<<self.k[index]>>' } })
    const before = await dumpTables(vault)
    const controller = new AbortController()
    const seen: number[] = []
    const aborted = vault.tables.execute('t', { signal: controller.signal, onProgress: (p) => p.builder === 'slow' && seen.push(p.done) })
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 10))
    controller.abort(new Error('user abort'))
    await assert.rejects(aborted, /user abort/)
    assert.deepEqual(await dumpTables(vault), before, 'aborted: rolled back')
    await noneActive(vault)

    const { processId, instanceId } = await vault.tables.execute('t', { background: true })
    assert.equal(instanceId, undefined)
    assert.equal(await vault.processes.completed(processId), false, 'still running when execute resolved')
    while (!(await vault.processes.completed(processId))) await new Promise((r) => setTimeout(r, 20))
    const r = await rows(vault, 't')
    assert.equal(r.length, 40)
    assert.equal(r[39]!.s, 40)
    await noneActive(vault)
    await vault.close()
  })
})

test('the README example of versioned tables runs as written', async () => {
  const vault = await open()
  await vault.code.create('nlp', 'export const ids = (a) => ({ id: a.id })\nexport const words = (a) => String(a.text).split(" ").length')
  await vault.tables.create('notes')
  await vault.tables.write('notes', { id: [1, 2], text: ['a b', 'c d e'] }, { dtypes: { id: 'i32' } })
  await vault.tables.create('counts')
  await vault.tables.createInstance('counts')
  await vault.tables.builders.create('counts', 'counts_index', { kind: 'index', changedColumns: ['id'], returnType: 'rows', function: { module: 'nlp', export: 'ids' }, arguments: { id: '<<notes.id>>' } })
  await vault.tables.builders.create('counts', 'n', { kind: 'column', changedColumns: ['n'], returnType: 'row-wise', function: { module: 'nlp', export: 'words' }, arguments: { text: '<<notes.text[id::<<self.id[index]>>]>>' } })
  const seen: string[] = []
  const { instanceId } = await vault.tables.execute('counts', { onProgress: (p) => seen.push(`${p.builder} ${p.done}/${p.total}`) })
  const { table } = await vault.tables.get('counts')
  assert.equal((await vault.tables.get('counts')).instanceId, instanceId)
  assert.deepEqual(table.toArray().map((r) => r.toJSON()), [{ id: 1, n: 2 }, { id: 2, n: 3 }])
  assert.ok(seen.includes('n 2/2'), seen.join())
  assert.match((await vault.tree()).text, /counts\n\s+base_\d+_[0-9a-f-]+ \(active, 2 rows\)/)
  await vault.close()
})

test('signals reach an executing instance between builders: pause waits, resume goes on, stop rolls back', async () => {
  const vault = await open()
  await vault.code.create('test', 'export const rows = () => Array.from({ length: 6 }, (_, k) => ({ k }))\nexport const slow = async (a) => { await new Promise((r) => setTimeout(r, 20)); return a.k + 1 }\n')
  await vault.tables.create('t')
  await vault.tables.createInstance('t')
  await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['k'], function: { module: 'test', export: 'rows' }, returnType: 'rows', dtypes: { k: 'i32' } })
  for (const b of ['a', 'b', 'c']) await vault.tables.builders.create('t', b, { kind: 'column', changedColumns: [b], function: { module: 'test', export: 'slow' }, arguments: { k: '<<self.k[index]>>' } })
  const wait = async (ok: () => Promise<boolean>) => {
    for (let i = 0; i < 500 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 10))
  }
  // Pause, then resume.
  let { processId } = await vault.tables.execute('t', { background: true })
  await vault.processes.pause(processId)
  await wait(async () => (await vault.processes.get(processId)).status === 'paused')
  assert.equal((await vault.processes.get(processId)).status, 'paused')
  await new Promise((r) => setTimeout(r, 150))
  assert.equal(await vault.processes.completed(processId), false, 'a paused execution does not go on')
  assert.deepEqual(await vault.tables.locks(), [{ table: 't', processId }], 'and keeps its lock')
  await vault.processes.resume(processId)
  await wait(() => vault.processes.completed(processId))
  assert.equal(await vault.processes.completed(processId), true)
  assert.equal((await rows(vault, 't')).length, 6)
  // Stop (not forced): rolled back at the next builder boundary.
  await vault.tables.deleteInstance('t', (await vault.tables.instances('t'))[0]!.instanceId)
  await vault.tables.createInstance('t')
  for (const b of ['a', 'b', 'c']) await vault.tables.builders.create('t', b, { kind: 'column', changedColumns: [b], function: { module: 'test', export: 'slow' }, arguments: { k: '<<self.k[index]>>' } })
  await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['k'], function: { module: 'test', export: 'rows' }, returnType: 'rows', dtypes: { k: 'i32' } })
  const beforeStop = await dumpTables(vault)
  ;({ processId } = await vault.tables.execute('t', { background: true }))
  await vault.processes.stop(processId)
  await wait(async () => (await vault.processes.get(processId)).status === 'stopped')
  assert.equal((await vault.processes.get(processId)).status, 'stopped')
  assert.deepEqual(await dumpTables(vault), beforeStop, 'stopped: as before')
  await noneActive(vault)
  await vault.close()
})

test('deleting (TableVault test_deletion): a code module, a builder, an instance, a table', async () => {
  const vault = await open()
  await basicScenario(vault)
  await vault.code.delete('test')
  await vault.tables.createInstance('stories', { copy: true })
  await vault.tables.builders.create('stories', 'extra', specs.upload_openai)
  await vault.tables.builders.delete('stories', 'extra')
  const first = (await vault.tables.instances('stories'))[0]!
  await vault.tables.deleteInstance('stories', first.instanceId)
  await vault.tables.delete('llm_storage')
  assert.deepEqual(await vault.tables.instances('stories'), [])
  assert.deepEqual(await vault.code.list(), [])
  assert.deepEqual((await vault.tables.list()).map((t) => t.name), ['llm_questions', 'stories'])
  await noneActive(vault)
  await vault.close()
})

test('rename: an instance copied before the rename executes after it, reusing its origin; origins and dependencies name the new table', async () => {
  const vault = await open()
  await vault.code.create('m', 'export const ids = () => ({ id: [1, 2, 3] })\nexport const dbl = (a) => a.id * 2\nexport const pass = (a) => ({ d: a.d })\n')
  await vault.tables.create('t')
  await vault.tables.createInstance('t')
  await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['id'], returnType: 'rows', function: { module: 'm', export: 'ids' }, dtypes: { id: 'i32' } })
  await vault.tables.builders.create('t', 'd', { changedColumns: ['d'], function: { module: 'm', export: 'dbl' }, arguments: { id: '<<self.id[index]>>' } })
  const first = (await vault.tables.execute('t')).instanceId!
  // Another table reads t: its instance's dependencies name t.
  await vault.tables.create('u')
  await vault.tables.createInstance('u')
  await vault.tables.builders.create('u', 'u_index', { kind: 'index', changedColumns: ['d'], returnType: 'rows', function: { module: 'm', export: 'pass' }, arguments: { d: '<<t.d>>' } })
  await vault.tables.execute('u')
  await vault.tables.createInstance('t', { copy: true })
  await vault.tables.rename('t', 't2')
  // Before the fix: NotFoundError, no table named "t" (the temporary instance's origin).
  const { instanceId } = await vault.tables.execute('t2')
  const info = (await vault.tables.instances('t2')).find((i) => i.instanceId === instanceId)!
  assert.deepEqual(info.origin, { table: 't2', instanceId: first })
  assert.deepEqual((await rows(vault, 't2')).map((r) => r.d), [2, 4, 6])
  assert.deepEqual((await vault.tables.instances('u'))[0]!.dependencies.map((d) => d.table), ['t2'])
  await noneActive(vault)
  await vault.close()
})

test('rename keeps answers right: the renamed table recomputes once (its index builder is renamed, so its fingerprint changes), and a new table under the old name, even from the renamed one\'s instance as origin, reuses rows only for the same computation', async () => {
  const vault = await open()
  const ids = 'export const ids = () => ({ id: [1, 2, 3] })\n'
  await vault.code.create('m', ids + 'export const dbl = (a) => a.id * 2\n')
  await vault.code.create('m3', ids + 'export const dbl = (a) => a.id * 3\n')
  const build = async (table: string, module: string) => {
    await vault.tables.builders.create(table, `${table}_index`, { kind: 'index', changedColumns: ['id'], returnType: 'rows', function: { module: 'm', export: 'ids' }, dtypes: { id: 'i32' } })
    await vault.tables.builders.create(table, 'd', { changedColumns: ['d'], function: { module, export: 'dbl' }, arguments: { id: '<<self.id[index]>>' } })
  }
  const run = async (table: string) => {
    const seen: Record<string, number> = {}
    await vault.tables.execute(table, { onProgress: (p) => (seen[p.builder] = p.reused) })
    return seen
  }
  await vault.tables.create('t')
  await vault.tables.createInstance('t')
  await build('t', 'm')
  await run('t')
  const first = (await vault.tables.instances('t'))[0]!.instanceId
  await vault.tables.rename('t', 't2')
  await vault.tables.createInstance('t2', { copy: true })
  assert.deepEqual(await run('t2'), { t2_index: 0, d: 0 }, 'the renamed index builder is another builder: nothing reused, once')
  await vault.tables.createInstance('t2', { copy: true })
  assert.deepEqual(await run('t2'), { t2_index: 3, d: 3 }, 'then reused again')
  assert.deepEqual((await rows(vault, 't2')).map((r) => r.d), [2, 4, 6])
  // A new "t" with another column code, from t2's first instance (made when t2 was "t"): its own values.
  await vault.tables.create('t')
  await vault.tables.createInstance('t', { origin: { table: 't2', instanceId: first } })
  await vault.tables.builders.create('t', 'd', { changedColumns: ['d'], function: { module: 'm3', export: 'dbl' }, arguments: { id: '<<self.id[index]>>' } })
  const seen = await run('t')
  assert.equal(seen.d, 0, 'another computation: nothing reused')
  assert.deepEqual((await rows(vault, 't')).map((r) => r.d), [3, 6, 9])
  await noneActive(vault)
  await vault.close()
})

test('columns named like Object.prototype members (constructor, toString, __proto__), left out of dtypes, are inferred', async () => {
  const vault = await open()
  await vault.code.create('m', 'export const cols = () => JSON.parse(\'{"constructor": [1, 2], "toString": ["a", "b"], "__proto__": [true, false]}\')\n')
  await vault.tables.create('t')
  await vault.tables.createInstance('t')
  const changedColumns = ['constructor', 'toString', '__proto__']
  await vault.tables.builders.create('t', 't_index', JSON.stringify({ kind: 'index', changedColumns, returnType: 'rows', function: { module: 'm', export: 'cols' } }))
  // Before the fix: InvalidArgumentError, "a dtype must be a string ..., got a function".
  await vault.tables.execute('t')
  const { table } = await vault.tables.get('t')
  assert.deepEqual(table.schema.fields.map((f) => [f.name, f.metadata.get('labvault.dtype')]), [['constructor', 'f64?'], ['toString', 'str:utf8?'], ['__proto__', 'bool?']])
  assert.deepEqual([...table.getChild('constructor')!], [1, 2])
  assert.deepEqual([...table.getChild('toString')!], ['a', 'b'])
  assert.deepEqual([...table.getChild('__proto__')!], [true, false])
  await vault.close()
})

test("an origin whose table was deleted is gone like a deleted origin instance: the instance made from it executes, computing every row", async () => {
  const vault = await open()
  await vault.code.create('m', 'export const ids = () => ({ id: [1, 2] })\nexport const dbl = (a) => a.id * 2\n')
  await vault.tables.create('t')
  await vault.tables.createInstance('t')
  await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['id'], returnType: 'rows', function: { module: 'm', export: 'ids' }, dtypes: { id: 'i32' } })
  await vault.tables.builders.create('t', 'd', { changedColumns: ['d'], function: { module: 'm', export: 'dbl' }, arguments: { id: '<<self.id[index]>>' } })
  const { instanceId } = await vault.tables.execute('t')
  await vault.tables.create('u')
  await vault.tables.createInstance('u', { origin: { table: 't', instanceId: instanceId! } })
  await vault.tables.delete('t')
  // Before the fix: NotFoundError, no table named "t".
  await vault.tables.execute('u')
  assert.deepEqual(await rows(vault, 'u'), [{ id: 1, d: 2 }, { id: 2, d: 4 }])
  await noneActive(vault)
  await vault.close()
})

test("a builder's artifactFolder.put refuses the names vault.tables.artifacts() refuses (stored, they could not be read back)", async () => {
  const vault = await open()
  const names = ['.hidden', 'a:b', '<x>', 'x'.repeat(300)]
  await vault.code.create('m', `
const names = ${JSON.stringify(names)}
export async function idx(a, ctx) {
  const refused = []
  for (const n of names) { try { await ctx.artifactFolder.put(n, new Uint8Array([1])) } catch (e) { refused.push(e.name) } }
  await ctx.artifactFolder.put('ok.bin', new Uint8Array([2]))
  return { f: ['ok.bin'], refused: [refused.join()] }
}
export async function bad(a, ctx) { await ctx.artifactFolder.put('.hidden', new Uint8Array([1])); return { f: ['x'] } }
`)
  await vault.tables.create('t', { allowMultipleArtifacts: true })
  await vault.tables.createInstance('t')
  await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['f', 'refused'], returnType: 'rows', function: { module: 'm', export: 'idx' }, dtypes: { f: 'artifact' } })
  await vault.tables.execute('t')
  // Before the fix: each put succeeded, and list() showed names that artifacts().get refused.
  assert.deepEqual(await rows(vault, 't'), [{ f: 'ok.bin', refused: names.map(() => 'InvalidArgumentError').join() }])
  assert.deepEqual((await vault.tables.artifacts('t').list()).map((a) => a.name), ['ok.bin'])
  for (const a of await vault.tables.artifacts('t').list()) assert.deepEqual(await vault.tables.artifacts('t').get(a.name), new Uint8Array([2]))
  // Not caught by the builder: a library error, the execution is rolled back.
  await vault.tables.create('u')
  await vault.tables.createInstance('u')
  await vault.tables.builders.create('u', 'u_index', { kind: 'index', changedColumns: ['f'], returnType: 'rows', function: { module: 'm', export: 'bad' } })
  await assert.rejects(vault.tables.execute('u'), InvalidArgumentError)
  assert.deepEqual(await vault.tables.artifacts('u', { instanceId: 'TEMP_base' }).list(), [])
  await noneActive(vault)
  await vault.close()
})

test('stop with materialize before the index builder finished keeps nothing and reactivates what a table with side effects deactivated', async () => {
  const vault = await open()
  await vault.code.create('m', 'export const ids = () => { if (globalThis.__tablesIndexFails) throw new Error("index boom"); return { id: [1, 2, 3] } }\n')
  await vault.tables.create('t', { hasSideEffects: true })
  await vault.tables.createInstance('t')
  await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['id'], returnType: 'rows', function: { module: 'm', export: 'ids' }, dtypes: { id: 'i32' } })
  const { instanceId } = await vault.tables.execute('t')
  await vault.tables.createInstance('t', { copy: true })
  const g = globalThis as { __tablesIndexFails?: boolean }
  g.__tablesIndexFails = true
  try {
    const processId = await vault.processes.newId()
    await assert.rejects(vault.tables.execute('t', { processId, force: true }), /index boom/)
    assert.equal((await vault.processes.get(processId)).status, 'paused')
    await vault.processes.stop(processId, { force: true, materialize: true })
  } finally {
    delete g.__tablesIndexFails
  }
  // Before the fix: the old instance stayed inactive and get found no active instance.
  assert.deepEqual((await vault.tables.instances('t')).map((i) => [i.instanceId, i.active]), [[instanceId, true]])
  assert.equal((await vault.tables.get('t')).instanceId, instanceId)
  await noneActive(vault)
  await vault.close()
})

test('stop (not forced) of a paused execution ends it at once, rolled back as stop(force) would (it waited for a checkpoint a paused execution never reaches); with materialize its finished builders are kept', async () => {
  const vault = await open()
  await vault.code.create('test', 'export const rows = () => [{ k: 1 }, { k: 2 }]\nexport const twice = (a) => a.k * 2\n')
  await vault.tables.create('stories')
  await vault.tables.createInstance('stories')
  await vault.tables.builders.create('stories', 'stories_index', { kind: 'index', changedColumns: ['k'], function: { module: 'test', export: 'rows' }, returnType: 'rows' })
  await vault.tables.builders.create('stories', 'd', { kind: 'column', changedColumns: ['d'], function: { module: 'test', export: 'twice' }, arguments: { k: '<<self.k[index]>>' } })
  const before = await dumpTables(vault)
  for (const phase of ['setup', 'execute'] as const) {
    // Paused by an error (nothing runs it any more): stopped and rolled back by the stop itself.
    const processId = await vault.processes.newId()
    armTableFault('execute', phase, () => new Error('fault'))
    await assert.rejects(vault.tables.execute('stories', { processId }), /fault/)
    assert.equal((await vault.processes.get(processId)).status, 'paused')
    await vault.processes.stop(processId)
    const p = await vault.processes.get(processId)
    assert.equal(p.status, 'stopped', `${phase}: stopped when stop() resolved`)
    assert.equal(p.request, null, `${phase}: no request left pending`)
    assert.deepEqual(await dumpTables(vault), before, `${phase}: rolled back`)
    await noneActive(vault)
  }
  // With materialize: what it finished is kept as one (unsuccessful) instance, as with force.
  const processId = await vault.processes.newId()
  armTableFault('execute', 'execute', () => new Error('fault while materialising'))
  await assert.rejects(vault.tables.execute('stories', { processId }), /fault/)
  await vault.processes.stop(processId, { materialize: true })
  assert.equal((await vault.processes.get(processId)).status, 'stopped')
  const instances = await vault.tables.instances('stories')
  assert.equal(instances.length, 1)
  assert.equal(instances[0]!.successful, false)
  assert.deepEqual(await rows(vault, 'stories'), [{ k: 1, d: 2 }, { k: 2, d: 4 }])
  await noneActive(vault)
  await vault.close()
})

test('stop (not forced) of an execution paused between builders ends it at once: its run rejects with StoppedError and nothing is kept', async () => {
  const vault = await open()
  await vault.code.create('test', 'export const rows = () => Array.from({ length: 6 }, (_, k) => ({ k }))\nexport const slow = async (a) => { await new Promise((r) => setTimeout(r, 20)); return a.k + 1 }\n')
  await vault.tables.create('t')
  await vault.tables.createInstance('t')
  await vault.tables.builders.create('t', 't_index', { kind: 'index', changedColumns: ['k'], function: { module: 'test', export: 'rows' }, returnType: 'rows', dtypes: { k: 'i32' } })
  for (const b of ['a', 'b', 'c']) await vault.tables.builders.create('t', b, { kind: 'column', changedColumns: [b], function: { module: 'test', export: 'slow' }, arguments: { k: '<<self.k[index]>>' } })
  const before = await dumpTables(vault)
  const processId = await vault.processes.newId()
  const run = vault.tables.execute('t', { processId })
  run.catch(() => {})
  // Its process is registered once execute has checked its arguments and taken its lock.
  for (let i = 0; i < 500 && !(await vault.processes.list()).some((p) => p.id === processId); i++) await new Promise((r) => setTimeout(r, 5))
  await vault.processes.pause(processId)
  for (let i = 0; i < 500 && (await vault.processes.get(processId)).status !== 'paused'; i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal((await vault.processes.get(processId)).status, 'paused')
  await vault.processes.stop(processId)
  assert.equal((await vault.processes.get(processId)).status, 'stopped', 'stopped when stop() resolved')
  await assert.rejects(run, StoppedError)
  assert.deepEqual(await dumpTables(vault), before, 'rolled back')
  await noneActive(vault)
  await vault.close()
})
