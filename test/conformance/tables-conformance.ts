/**
 * The versioned-tables conformance suite: `vault.tables`, `vault.code` and `vault.tree()` through
 * the public API, the same cases in Node (memory, fs) and through the worker in Chromium (OPFS,
 * IndexedDB) (see ./vault-conformance.ts). Processes, faults, locks between processes and execute
 * are in test/node/tables-*.test.ts.
 */
import type { Vault } from '../../src/shared-exports.js'
import { check, equal, rejects } from './assert.js'
import type { VaultConformanceCase } from './vault-conformance.js'

type ArrowLike = { numRows: number; schema: { fields: { name: string }[] }; getChild(name: string): { toArray(): ArrayLike<unknown>; get(i: number): unknown } | null }

/** A column's values as a plain array. */
function values(table: ArrowLike, name: string): unknown[] {
  const c = table.getChild(name)
  check(c !== null, `column ${name} is missing`)
  return Array.from({ length: table.numRows }, (_, i) => c.get(i))
}

/** TableVault's external-edit data frame: Int64, string, Float64. */
const frame = { id: [1, 2, 3], name: ['Alice', 'Bob', 'Charlie'], score: [85.5, 92.0, 78.0] }
const frameDtypes = { id: 'Int64', name: 'string', score: 'Float64' }

async function expectFrame(vault: Vault, table: string, instanceId?: string): Promise<string> {
  const got = await vault.tables.get(table, instanceId ? { instanceId, activeOnly: false } : {})
  equal(got.table.schema.fields.map((f) => f.name), ['id', 'name', 'score'], 'columns in order')
  equal(values(got.table, 'id'), [1n, 2n, 3n], 'Int64 column (i64?: bigint)')
  equal(values(got.table, 'name'), frame.name, 'string column')
  equal(values(got.table, 'score'), frame.score, 'Float64 column')
  return got.instanceId
}

export const tablesConformanceCases: VaultConformanceCase[] = [
  {
    name: 'external edit: write a 3-row table, read it back; copy and write again',
    async run(target) {
      const vault = await target.open()
      await vault.tables.create('people')
      const created = await vault.tables.createInstance('people', { externalEdit: true })
      equal(created.instanceId, 'TEMP_base', 'the temporary instance id')
      const w1 = await vault.tables.write('people', frame, { dtypes: frameDtypes })
      check(/^base_\d+_[0-9a-f-]{36}$/.test(w1.instanceId!), `materialised id ${w1.instanceId}`)
      equal(await expectFrame(vault, 'people'), w1.instanceId, 'get reads the written instance')
      await vault.tables.createInstance('people', { copy: true, externalEdit: true })
      // The copy starts from the origin's data.
      const temp = await vault.tables.get('people', { instanceId: 'TEMP_base' })
      equal(temp.table.numRows, 3, 'the copy holds the origin rows')
      const w2 = await vault.tables.write('people', frame, { dtypes: frameDtypes })
      equal(await expectFrame(vault, 'people'), w2.instanceId, 'the latest instance')
      const instances = await vault.tables.instances('people')
      equal(instances.map((i) => i.instanceId), [w1.instanceId, w2.instanceId], 'instances oldest first')
      equal(instances[1]!.origin, { table: 'people', instanceId: w1.instanceId }, 'the copy names its origin')
      equal(instances[0]!.columns, [{ name: 'id', dtype: 'i64?' }, { name: 'name', dtype: 'str:utf8?' }, { name: 'score', dtype: 'f64?' }], 'stored dtypes')
      const again = await target.reopen(vault)
      await expectFrame(again, 'people', w1.instanceId)
      await expectFrame(again, 'people', w2.instanceId)
    },
  },
  {
    name: 'write takes rows, columns and typed arrays; nullable dtypes; get rows and filters',
    async run(target) {
      const vault = await target.open()
      await vault.tables.create('t', { allowMultipleArtifacts: true })
      const a = await vault.tables.write('t', [{ x: 1, s: 'a' }, { x: 2, s: null }, { x: 3 }], { dtypes: { x: 'i32', s: 'str:utf8?' } })
      const r = await vault.tables.get('t')
      equal(values(r.table, 'x'), [1, 2, 3], 'i32 from rows')
      equal(values(r.table, 's'), ['a', null, null], 'nulls in a nullable column')
      const b = await vault.tables.write('t', { f: new Float64Array([0.5, 1.5]), v: [new Float32Array([1, 2]), new Float32Array([3, 4])] }, { dtypes: { v: 'vec:f32:2' } })
      const r2 = await vault.tables.get('t')
      equal(r2.instanceId, b.instanceId, 'the latest')
      equal(values(r2.table, 'f'), [0.5, 1.5], 'a Float64Array column')
      equal(Array.from(r2.table.getChild('v')!.get(1) as ArrayLike<number>), [3, 4], 'a vector column')
      equal((await vault.tables.get('t', { rows: 1 })).table.numRows, 1, 'rows: the first rows only')
      equal((await vault.tables.get('t', { instanceId: a.instanceId! })).table.numRows, 3, 'by instance id')
      await rejects(vault.tables.write('t', [{ x: null }], { dtypes: { x: 'i32' } }), target.lib.InvalidArgumentError, 'null in a non-nullable column', /nullable|null/)
      await rejects(vault.tables.write('t', []), target.lib.InvalidArgumentError, 'an empty table', /Empty/i)
      await rejects(vault.tables.write('t', { x: [] }), target.lib.InvalidArgumentError, 'a table with no rows', /Empty/i)
      await rejects(vault.tables.write('t', { x: [1] }, { dtypes: { x: 'nope' } }), target.lib.InvalidArgumentError, 'an unknown dtype', /dtype/)
      await rejects(vault.tables.write('t', { x: [1], y: [1, 2] }), target.lib.InvalidArgumentError, 'columns of different lengths', /rows/)
      await rejects(vault.tables.write('missing', { x: [1] }), target.lib.NotFoundError, 'an unknown table', /missing/)
      await rejects(vault.tables.write('t', { x: [1] }, { version: 'a_b' }), target.lib.InvalidArgumentError, 'a version with _', /_/)
      equal((await vault.tables.instances('t')).length, 2, 'the refused writes left nothing')
    },
  },
  {
    name: 'names: reserved, malformed and duplicate names; rename, delete and reuse of a name',
    async run(target) {
      const vault = await target.open()
      for (const bad of ['metadata', '_temp', '.hidden', 'a/b', 'code_functions', '~PROCESS_ID~', '']) {
        await rejects(vault.tables.create(bad), target.lib.InvalidArgumentError, `table name ${JSON.stringify(bad)}`)
      }
      await vault.tables.create('stories_TEST', { description: 'one row per file' })
      await rejects(vault.tables.create('stories_TEST'), target.lib.AlreadyExistsError, 'a duplicate table', /stories_TEST/)
      await vault.tables.rename('stories_TEST', 'stories')
      await rejects(vault.tables.info('stories_TEST'), target.lib.NotFoundError, 'the old name is gone')
      equal((await vault.tables.info('stories')).description, 'one row per file', 'the renamed table keeps its description')
      await vault.tables.create('other')
      await rejects(vault.tables.rename('stories', 'other'), target.lib.AlreadyExistsError, 'renaming onto a table')
      await vault.tables.createInstance('stories')
      equal(await vault.tables.builders.list('stories'), ['stories_index'], 'a new instance declares its index builder')
      await vault.tables.rename('stories', 'tales')
      equal(await vault.tables.builders.list('tales'), ['tales_index'], 'the index builder follows the table name')
      await vault.tables.delete('tales')
      await rejects(vault.tables.instances('tales'), target.lib.NotFoundError, 'a deleted table')
      await vault.tables.create('tales')
      equal(await vault.tables.instances('tales', { includeTemp: true }), [], 'a reused name starts empty')
      equal((await vault.tables.list()).map((t) => t.name), ['other', 'tales'], 'list')
    },
  },
  {
    name: 'instances: one temporary per version, ordering, includeTemp, deleteInstance',
    async run(target) {
      const vault = await target.open()
      await vault.tables.create('t', { allowMultipleArtifacts: true })
      await vault.tables.createInstance('t', { externalEdit: true, description: 'first' })
      await rejects(vault.tables.createInstance('t', { externalEdit: true }), target.lib.AlreadyExistsError, 'a second TEMP_base', /TEMP_base/)
      await vault.tables.createInstance('t', { version: 'v2', externalEdit: true })
      await rejects(vault.tables.createInstance('t', { version: 'bad_version' }), target.lib.InvalidArgumentError, 'a version with _')
      const a = await vault.tables.write('t', { x: [1] })
      const b = await vault.tables.write('t', { x: [2] }, { version: 'v2' })
      const c = await vault.tables.write('t', { x: [3] })
      equal((await vault.tables.instances('t')).map((i) => i.instanceId), [a.instanceId, b.instanceId, c.instanceId], 'oldest first')
      equal((await vault.tables.instances('t', { version: 'v2' })).map((i) => i.instanceId), [b.instanceId], 'one version')
      equal((await vault.tables.descriptions('t', { instanceId: a.instanceId! })).instance, 'first', 'the temporary instance description travels')
      await vault.tables.createInstance('t', { version: 'v3' })
      equal((await vault.tables.instances('t', { includeTemp: true })).map((i) => i.instanceId).at(-1), 'TEMP_v3', 'includeTemp lists the temporary instance')
      await rejects(vault.tables.write('t', { x: [1] }, { version: 'v3' }), target.lib.InvalidArgumentError, 'write into an instance built by execute', /externalEdit/)
      equal(values((await vault.tables.get('t', { version: 'v2' })).table, 'x'), [2], 'get by version')
      await vault.tables.deleteInstance('t', c.instanceId!)
      equal((await vault.tables.get('t')).instanceId, a.instanceId, 'after deleting the latest, the one before')
      await rejects(vault.tables.deleteInstance('t', c.instanceId!), target.lib.NotFoundError, 'deleting twice')
      await vault.tables.deleteInstance('t', 'TEMP_v3')
      equal((await vault.tables.instances('t', { includeTemp: true })).length, 2, 'temporary instances can be deleted')
      await vault.tables.describe('t', 'a table')
      equal((await vault.tables.descriptions('t')).table, 'a table', 'table description')
    },
  },
  {
    name: 'a table with one artifact set keeps only its latest instance active',
    async run(target) {
      const vault = await target.open()
      await vault.tables.create('s')
      const a = await vault.tables.write('s', { x: [1] })
      const b = await vault.tables.write('s', { x: [2] })
      const all = await vault.tables.instances('s')
      equal(all.map((i) => [i.instanceId, i.active]), [[a.instanceId, false], [b.instanceId, true]], 'only the newest is active')
      await rejects(vault.tables.get('s', { instanceId: a.instanceId! }), target.lib.NotFoundError, 'an inactive instance with activeOnly', /active/)
      equal(values((await vault.tables.get('s', { instanceId: a.instanceId!, activeOnly: false })).table, 'x'), [1], 'readable with activeOnly: false')
    },
  },
  {
    name: 'code modules and builders: create, list, get, delete',
    async run(target) {
      const vault = await target.open()
      const source = 'export function one() { return 1 }\n'
      await vault.code.create('papers', source)
      await rejects(vault.code.create('papers', 'x'), target.lib.AlreadyExistsError, 'a duplicate module')
      await vault.code.create('papers', source + '// v2\n', { replace: true })
      equal(await vault.code.get('papers'), source + '// v2\n', 'the replaced source')
      await vault.code.create('other', '')
      equal(await vault.code.list(), ['other', 'papers'], 'list')
      await vault.code.delete('other')
      await rejects(vault.code.get('other'), target.lib.NotFoundError, 'a deleted module')
      await rejects(vault.code.delete('other'), target.lib.NotFoundError, 'deleting twice')

      await vault.tables.create('stories')
      await rejects(vault.tables.builders.create('stories', 'stories_index', {}), target.lib.NotFoundError, 'builders need a temporary instance', /createInstance/)
      await vault.tables.createInstance('stories', { builders: ['q1'] })
      equal(await vault.tables.builders.list('stories'), ['q1', 'stories_index'], 'declared builders')
      const index = { kind: 'index', changedColumns: ['file'], function: { module: 'papers', export: 'one' }, returnType: 'rows', primaryKey: ['file'] }
      await vault.tables.builders.create('stories', 'stories_index', index)
      const yamlText = 'kind: column\nchangedColumns: [q]\nfunction: { module: papers, export: one }\nreturnType: row-wise\n'
      await vault.tables.builders.create('stories', 'q1', yamlText)
      equal(await vault.tables.builders.get('stories', 'q1'), yamlText, 'YAML text is kept as given')
      check((await vault.tables.builders.get('stories', 'stories_index')).includes('primaryKey'), 'an object is stored as YAML')
      await rejects(vault.tables.builders.create('stories', 'other_index', { ...index }), target.lib.InvalidArgumentError, 'an index builder named after another table', /stories_index/)
      await rejects(vault.tables.builders.create('stories', 'q2', 'a: [unclosed'), target.lib.InvalidArgumentError, 'unparseable text')
      await vault.tables.builders.delete('stories', 'q1')
      equal(await vault.tables.builders.list('stories'), ['stories_index'], 'after delete')
      await rejects(vault.tables.builders.delete('stories', 'q1'), target.lib.NotFoundError, 'deleting a builder twice')
    },
  },
  {
    name: 'artifacts: put into a temporary instance, artifact columns checked, tree',
    async run(target) {
      const vault = await target.open()
      await vault.tables.create('files')
      await vault.tables.createInstance('files', { externalEdit: true })
      const art = vault.tables.artifacts('files', { instanceId: 'TEMP_base' })
      await art.put('a.pdf', new Uint8Array([1, 2, 3]))
      equal((await art.list()).map((a) => [a.name, a.size]), [['a.pdf', 3]], 'listed')
      await rejects(vault.tables.write('files', { file: ['a.pdf', 'b.pdf'] }, { dtypes: { file: 'artifact' } }), target.lib.InvalidArgumentError, 'a row naming a missing file', /b\.pdf/)
      await art.put('b.pdf', new Uint8Array([4]))
      const w = await vault.tables.write('files', { file: ['a.pdf', 'b.pdf'] }, { dtypes: { file: 'artifact' } })
      // One artifact set: the table's, once materialised.
      const tableLevel = vault.tables.artifacts('files')
      equal((await tableLevel.list()).map((a) => [a.name, a.instanceId]), [['a.pdf', null], ['b.pdf', null]], 'moved to the table')
      equal(await tableLevel.get('b.pdf'), new Uint8Array([4]), 'bytes back')
      await rejects(vault.tables.artifacts('files', { instanceId: w.instanceId! }).put('c', new Uint8Array([1])), target.lib.ConflictError, 'a materialised instance is fixed')
      await vault.code.create('m', 'export const x = 1')
      const tree = await vault.tree({ artifacts: true })
      equal(tree.code, ['m'], 'tree: code modules')
      equal(tree.tables.map((t) => [t.name, t.artifacts, t.instances.map((i) => i.instanceId)]), [['files', ['a.pdf', 'b.pdf'], [w.instanceId]]], 'tree: tables')
      check(tree.text.includes('files') && tree.text.includes(w.instanceId!) && tree.text.includes('a.pdf'), `tree text:\n${tree.text}`)
    },
  },
  {
    name: 'execute: builders compute an instance from another table; re-execute reuses rows; progress; a cycle is refused',
    async run(target) {
      const vault = await target.open()
      await vault.code.create('m', `
let calls = 0
export const keys = (a) => ({ k: a.k })
export function stamp(a) { calls++; return a.prefix + a.k + ':' + Math.random().toString(36).slice(2, 8) }
export const count = () => calls
`)
      await vault.tables.create('src', { allowMultipleArtifacts: true })
      await vault.tables.write('src', { k: [1, 2, 3] }, { dtypes: { k: 'i32' } })
      await vault.tables.create('out', { allowMultipleArtifacts: true })
      await vault.tables.createInstance('out')
      await vault.tables.builders.create('out', 'out_index', 'kind: index\nchangedColumns: [k]\nreturnType: rows\nfunction: { module: m, export: keys }\narguments: { k: "<<src.k>>" }\ndtypes: { k: i32 }\n')
      await vault.tables.builders.create('out', 's', { kind: 'column', changedColumns: ['s'], returnType: 'row-wise', function: { module: 'm', export: 'stamp' }, arguments: { prefix: 'p', k: '<<self.k[index]>>' }, dtypes: { s: 'str:utf8' } })
      const progress: string[] = []
      const first = await vault.tables.execute('out', { onProgress: (p) => progress.push(`${p.builder}:${p.done}/${p.total}`) })
      check(progress.includes('s:3/3'), `progress: ${progress.join(' ')}`)
      const a = await vault.tables.get('out')
      equal(a.instanceId, first.instanceId, 'the executed instance')
      equal(values(a.table, 'k'), [1, 2, 3], 'the index')
      check((values(a.table, 's') as string[]).every((v, i) => v.startsWith(`p${i + 1}:`)), 'the column builder ran per row')
      check(await vault.processes.completed(first.processId), 'its process completed')
      await vault.tables.createInstance('out', { copy: true })
      await vault.tables.execute('out')
      equal(values((await vault.tables.get('out')).table, 's'), values(a.table, 's'), 're-executed unchanged: rows reused, not recomputed')
      await vault.tables.createInstance('out', { copy: true })
      await vault.tables.builders.create('out', 's', { kind: 'column', changedColumns: ['s'], returnType: 'row-wise', function: { module: 'm', export: 'stamp' }, arguments: { prefix: 'q', k: '<<self.k[index]>>' } })
      await vault.tables.builders.create('out', 't', { kind: 'column', changedColumns: ['t'], returnType: 'row-wise', function: { module: 'm', export: 'stamp' }, arguments: { prefix: '<<self.u[index]>>', k: 1 } })
      await vault.tables.builders.create('out', 'u', { kind: 'column', changedColumns: ['u'], returnType: 'row-wise', function: { module: 'm', export: 'stamp' }, arguments: { prefix: '<<self.t[index]>>', k: 1 } })
      await rejects(vault.tables.execute('out'), target.lib.InvalidArgumentError, 'a cycle between builders', /cycle|t → u|u → t/i)
      equal(await vault.processes.active(), [], 'nothing left active')
      await vault.tables.builders.delete('out', 't')
      await vault.tables.builders.delete('out', 'u')
      await vault.tables.execute('out')
      check((values((await vault.tables.get('out')).table, 's') as string[]).every((v) => v.startsWith('q')), 'a changed builder recomputes its column')
    },
  },
  {
    name: 'inside vault.transaction, table operations commit with it or not at all',
    async run(target) {
      const vault = await target.open()
      await rejects(
        vault.transaction(async (tx) => {
          await tx.tables.create('t')
          await tx.tables.write('t', { x: [1, 2] })
          await tx.kv().set('count', 2)
          equal((await tx.tables.get('t')).table.numRows, 2, 'the transaction reads its own writes')
          throw new Error('abandon')
        }),
        Error,
        'the transaction throws',
        /abandon/,
      )
      equal(await vault.tables.list(), [], 'rolled back: no table')
      equal(await vault.kv().get('count'), undefined, 'rolled back: no key')
      await vault.transaction(async (tx) => {
        await tx.tables.create('t')
        await tx.code.create('m', 'export const f = () => 1')
        await tx.tables.write('t', { x: [1, 2] })
        await tx.kv().set('count', 2)
        await rejects(tx.tables.create('u', { processId: 'p-1' }), target.lib.InvalidArgumentError, 'no processId inside a transaction', /transaction/)
        await rejects(tx.tables.execute('t'), target.lib.UnsupportedError, 'no execute inside a transaction', /transaction/)
      })
      equal((await vault.tables.get('t')).table.numRows, 2, 'committed: the instance')
      equal(await vault.code.list(), ['m'], 'committed: the code module')
      equal(await vault.kv().get('count'), 2, 'committed: the key')
    },
  },
]
