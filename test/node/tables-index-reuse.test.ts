// vault.tables.execute: the index builder is a builder like the others. Unchanged (same spec, code
// module source, dependency instances and, when it is given the artifact folder, the same
// artifacts) and without `force`, it is not called: its output is the origin's index. Any of those
// changed, or `force`, and it runs. Its calls are counted inside the code module itself.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { openVault, type Vault } from '../../src/node.js'
import { armTableFault } from '../../src/domains/tables/engine/table-faults.js'
import { dumpTables } from './tables-support.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-tables-index-reuse-')
let counter = 0
const open = () => openVault(`ir-${++counter}`, { storage: 'fs', path: dir })

// Counts live on globalThis under a key of the test's own: the vault runs modules in this process.
const SOURCE = `
const bump = (key) => { const c = (globalThis.__labvaultIndexReuse ??= {}); c[key] = (c[key] ?? 0) + 1 }
export async function list(args) {
  bump(args.key)
  const names = await args.folder.list()
  return names.map((file) => ({ file, base: args.base.length }))
}
export function size(args) {
  bump(args.key + ':size')
  return args.file.length
}
`
const calls = (key: string): number => ((globalThis as Record<string, unknown>).__labvaultIndexReuse as Record<string, number> | undefined)?.[key] ?? 0
const bytes = (text: string) => new TextEncoder().encode(text)

const indexSpec = (key: string, extra: Record<string, unknown> = {}) => ({
  kind: 'index', changedColumns: ['file', 'base'], primaryKey: ['file'], returnType: 'rows',
  function: { module: 'm', export: 'list' }, arguments: { key, folder: '~ARTIFACT_FOLDER~', base: '<<src.x>>', ...extra },
  dtypes: { file: 'artifact', base: 'i32' },
})
const sizeSpec = (key: string) => ({
  kind: 'column', changedColumns: ['size'], returnType: 'row-wise',
  function: { module: 'm', export: 'size' }, arguments: { key, file: '<<self.file[index]>>' }, dtypes: { size: 'f64' },
})

/** A vault with `src` (one row) and `files` (index over its artifact folder + a size column), executed once. */
async function setup(key: string): Promise<Vault> {
  const vault = await open()
  await vault.code.create('m', SOURCE)
  await vault.tables.create('src')
  await vault.tables.write('src', [{ x: 1 }])
  await vault.tables.create('files')
  await vault.tables.createInstance('files')
  await vault.tables.artifacts('files', { instanceId: 'TEMP_base' }).put('a.txt', bytes('a'))
  await vault.tables.builders.create('files', 'files_index', indexSpec(key))
  await vault.tables.builders.create('files', 'size', sizeSpec(key))
  await vault.tables.execute('files')
  assert.equal(calls(key), 1)
  return vault
}

/** Copy the latest instance of `files`, let `change` alter it, execute; the rows. */
async function again(vault: Vault, change: () => Promise<unknown> = async () => {}, options: { force?: boolean } = {}): Promise<Record<string, unknown>[]> {
  await vault.tables.createInstance('files', { copy: true })
  await change()
  await vault.tables.execute('files', options)
  const { table } = await vault.tables.get('files')
  return table.toArray().map((r) => ({ ...r.toJSON() }))
}

describe('tables: the index builder is reused when unchanged', { timeout: 60_000 }, () => {
  test('an unchanged re-execute calls no builder, and its data is the origin\'s', async () => {
    const vault = await setup('same')
    const first = (await vault.tables.get('files')).table.toArray().map((r) => ({ ...r.toJSON() }))
    const rows = await again(vault)
    assert.equal(calls('same'), 1, 'the index builder was not called again')
    assert.equal(calls('same:size'), 1, 'the column builder was not called again')
    assert.deepEqual(rows, first)
    assert.equal((await vault.tables.instances('files')).length, 2)
    // A third time, from the re-executed instance: still no call.
    await again(vault)
    assert.equal(calls('same'), 1)
    assert.deepEqual(await vault.processes.active(), [])
    await vault.close()
  })

  test('a new artifact, or a changed one, runs it: new rows are found, old rows keep their values', async () => {
    const vault = await setup('art')
    const rows = await again(vault, () => vault.tables.artifacts('files', { instanceId: 'TEMP_base' }).put('bb.txt', bytes('b')))
    assert.equal(calls('art'), 2, 'a new file runs the index builder')
    assert.deepEqual(rows.map((r) => [r.file, r.size]), [['a.txt', 5], ['bb.txt', 6]])
    assert.equal(calls('art:size'), 2, 'only the new row was computed by the column builder')
    await again(vault, () => vault.tables.artifacts('files', { instanceId: 'TEMP_base' }).put('a.txt', bytes('changed')))
    assert.equal(calls('art'), 3, 'a file with new content runs the index builder')
    await again(vault)
    assert.equal(calls('art'), 3)
    await vault.close()
  })

  test('a changed dependency, code module, spec, or force runs it', async () => {
    const vault = await setup('chg')
    let rows = await again(vault, () => vault.tables.write('src', [{ x: 1 }, { x: 2 }]))
    assert.equal(calls('chg'), 2, 'a new instance of a table it reads')
    assert.deepEqual(rows.map((r) => r.base), [2])
    await again(vault, () => vault.code.create('m', SOURCE + '\n// v2\n', { replace: true }))
    assert.equal(calls('chg'), 3, 'its code module changed')
    await again(vault, async () => {
      await vault.tables.builders.delete('files', 'files_index')
      await vault.tables.builders.create('files', 'files_index', indexSpec('chg', { note: 'another argument' }))
    })
    assert.equal(calls('chg'), 4, 'its spec changed')
    rows = await again(vault, async () => {}, { force: true })
    assert.equal(calls('chg'), 5, 'force')
    // The column reads the index's columns: each change of the index's own inputs recomputed it too.
    assert.equal(calls('chg:size'), 5, 'the column builder ran once per change')
    assert.deepEqual(rows.map((r) => [r.file, r.base, r.size]), [['a.txt', 2, 5]])
    await again(vault)
    assert.equal(calls('chg'), 5, 'then unchanged again')
    await vault.close()
  })

  test('an unchanged execution is still a process: done with its progress, in the foreground, the background, or with a process id', async () => {
    const vault = await setup('proc')
    await vault.tables.createInstance('files', { copy: true })
    const seen: { builder: string; reused: number; total: number }[] = []
    const { processId } = await vault.tables.execute('files', { onProgress: (p) => seen.push(p) })
    assert.equal(await vault.processes.completed(processId!), true)
    assert.equal((await vault.processes.get(processId!)).name, 'tables.execute')
    assert.ok(seen.some((p) => p.builder === 'size' && p.reused === 1 && p.total === 1), JSON.stringify(seen))
    await vault.tables.createInstance('files', { copy: true })
    const bg = await vault.tables.execute('files', { background: true })
    for (let i = 0; i < 100 && !(await vault.processes.completed(bg.processId!)); i++) await new Promise((r) => setTimeout(r, 10))
    assert.equal(await vault.processes.completed(bg.processId!), true)
    await vault.tables.createInstance('files', { copy: true })
    const id = await vault.processes.newId()
    await vault.tables.execute('files', { processId: id })
    assert.equal(await vault.processes.completed(id), true)
    assert.equal(calls('proc'), 1, 'none of the three called the index builder')
    assert.equal((await vault.tables.instances('files')).length, 4)
    assert.deepEqual(await vault.processes.active(), [])
    assert.deepEqual(await vault.tables.locks(), [])
    await vault.close()
  })

  test('an unchanged execution failing in its one write leaves the vault as it was; the process shows it failed', async () => {
    const vault = await setup('fault')
    await vault.tables.createInstance('files', { copy: true })
    for (const phase of ['setup', 'execute'] as const) {
      const before = await dumpTables(vault)
      armTableFault('execute', phase, () => new Error(`fault at ${phase}`))
      await assert.rejects(vault.tables.execute('files'), new RegExp(`fault at ${phase}`))
      assert.deepEqual(await dumpTables(vault), before, `${phase}: nothing changed`)
      assert.deepEqual(await vault.processes.active(), [])
    }
    const failed = (await vault.processes.list('tables.execute')).filter((p) => p.status === 'failed')
    assert.equal(failed.length, 2)
    assert.match(String(failed[0]!.error), /fault at/)
    await vault.tables.execute('files')
    assert.equal(calls('fault'), 1)
    assert.equal((await vault.tables.instances('files')).length, 2)
    await vault.close()
  })
})
