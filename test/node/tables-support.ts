// Shared by the tables tests: a full dump of what a vault's tables hold (through the public API),
// and the write operations with a prepared vault where each can succeed.
import type { Vault } from '../../src/node.js'

/** Everything `vault.tables` and `vault.code` hold, as comparable data (processes left out). */
export async function dumpTables(vault: Vault): Promise<unknown> {
  const tables = []
  for (const t of await vault.tables.list()) {
    const instances = []
    for (const i of await vault.tables.instances(t.name, { includeTemp: true })) {
      const { table } = await vault.tables.get(t.name, { instanceId: i.instanceId, activeOnly: false })
      const builders: Record<string, string> = {}
      for (const b of await vault.tables.builders.list(t.name, { instanceId: i.instanceId })) builders[b] = await vault.tables.builders.get(t.name, b, { instanceId: i.instanceId })
      const artifacts = await vault.tables.artifacts(t.name, { instanceId: i.instanceId }).list()
      instances.push({ ...i, data: table.toArray().map((r) => JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))), builders, artifacts })
    }
    const tableArtifacts = t.allowMultipleArtifacts ? [] : await vault.tables.artifacts(t.name).list()
    tables.push({ ...t, instances, tableArtifacts })
  }
  const code: Record<string, string> = {}
  for (const c of await vault.code.list()) code[c] = await vault.code.get(c)
  return { tables, code, locks: await vault.tables.locks() }
}

/** A vault where every write operation below can succeed. */
export async function prepare(vault: Vault): Promise<void> {
  await vault.code.create('m', 'export const one = () => 1\n')
  await vault.tables.create('t', { allowMultipleArtifacts: true })
  await vault.tables.create('u')
  await vault.tables.create('b')
  await vault.tables.createInstance('t', { externalEdit: true })
  await vault.tables.artifacts('t', { instanceId: 'TEMP_base' }).put('a.bin', new Uint8Array([1, 2]))
  await vault.tables.createInstance('b', { builders: ['q0'] })
}

type Opts = { processId?: string }

/** The write operations (TableVault's 13 less execute), each as the fault hook names it. */
export const writeOps: { op: string; locks: string[]; run: (v: Vault, o: Opts) => Promise<unknown> }[] = [
  { op: 'create', locks: ['newt'], run: (v, o) => v.tables.create('newt', o) },
  { op: 'rename', locks: ['u', 'u2'], run: (v, o) => v.tables.rename('u', 'u2', o) },
  { op: 'delete', locks: ['u'], run: (v, o) => v.tables.delete('u', o) },
  { op: 'createInstance', locks: ['u'], run: (v, o) => v.tables.createInstance('u', { version: 'v9', ...o }) },
  { op: 'deleteInstance', locks: ['t'], run: (v, o) => v.tables.deleteInstance('t', 'TEMP_base', o) },
  {
    op: 'buildersCreate',
    locks: ['b'],
    run: (v, o) => v.tables.builders.create('b', 'q1', { kind: 'column', changedColumns: ['q'], function: { module: 'm', export: 'one' }, returnType: 'row-wise' }, o),
  },
  { op: 'buildersDelete', locks: ['b'], run: (v, o) => v.tables.builders.delete('b', 'q0', o) },
  { op: 'codeCreate', locks: [], run: (v, o) => v.code.create('m2', 'export default 1', o) },
  { op: 'codeDelete', locks: [], run: (v, o) => v.code.delete('m', o) },
  { op: 'write', locks: ['t'], run: (v, o) => v.tables.write('t', { x: [1, 2], f: ['a.bin', null] }, { dtypes: { f: 'artifact?' }, ...o }) },
  { op: 'describe', locks: ['t'], run: (v, o) => v.tables.describe('t', 'described', o) },
  { op: 'artifactsPut', locks: ['t'], run: (v, o) => v.tables.artifacts('t', { instanceId: 'TEMP_base' }).put('z.bin', new Uint8Array([9]), o) },
]
