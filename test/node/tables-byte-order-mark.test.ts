// A string that begins with U+FEFF (the byte order mark) is data. arrow-js decodes Utf8 values with
// a TextDecoder that drops a leading U+FEFF, and tables read their stored columns through it in
// three places: `tables.get` (a value "\uFEFFa" came back as "a"), builders' arguments and reused
// rows, and SQL's `tables.<name>` relations. The bytes stored were always right; the reads now keep
// it (src/codec/arrow-strings.ts), and a table read and written back holds what it held.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Table, Utf8, vectorFromArray } from 'apache-arrow'
import { openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const BOM = '\uFEFF'
const S = [`${BOM}a`, 'b', null, BOM, `${BOM}${BOM}x`, '']
const J = [{ a: `${BOM}x` }, `${BOM}y`, 1, null, 2, [BOM]]

const rows = (t: { toArray(): { toJSON(): unknown }[] }) => t.toArray().map((r) => r.toJSON())

test('tables: values and column names that begin with U+FEFF come back as written, also through builders, SQL and a write of what get returned', async () => {
  const v = await openVault('bom-tables', { storage: 'fs', path: tempDir('labvault-bom-tables-') })
  await v.tables.create('t')
  await v.tables.write('t', { [`${BOM}s`]: S, j: J.map((x) => (x === null ? null : x)) }, { dtypes: { j: 'json?' } })
  const { table } = await v.tables.get('t')
  assert.deepEqual(table.schema.fields.map((f) => f.name), [`${BOM}s`, 'j'])
  assert.deepEqual(table.getChild(`${BOM}s`)!.toArray(), S)
  assert.deepEqual([...table.getChild('j')!].map((x) => (x === null ? null : JSON.parse(x as string))), J)
  // Sliced by `rows`, too.
  assert.deepEqual((await v.tables.get('t', { rows: 2 })).table.getChild(`${BOM}s`)!.toArray(), S.slice(0, 2))

  // What get returned, written back (whole and sliced): the same values, not one more U+FEFF.
  await v.tables.create('copy')
  const strings = table.select([`${BOM}s`])
  await v.tables.write('copy', strings)
  assert.deepEqual((await v.tables.get('copy')).table.getChild(`${BOM}s`)!.toArray(), S)
  await v.tables.write('copy', strings.slice(3, 5))
  assert.deepEqual((await v.tables.get('copy')).table.getChild(`${BOM}s`)!.toArray(), S.slice(3, 5))
  // An Arrow table of the caller's own, converted to another dtype on the way in.
  await v.tables.write('copy', new Table({ s: vectorFromArray([`${BOM}"q"`, '"r"'], new Utf8()) }), { dtypes: { s: 'str:8:utf8' } })
  assert.deepEqual((await v.tables.get('copy')).table.getChild('s')!.toArray(), [`${BOM}"q"`, '"r"'])

  // A builder's arguments, and SQL over the table.
  await v.code.create('m', 'export const ids = (a) => ({ n: a.n })\nexport const echo = (a) => JSON.stringify(a.s)')
  await v.tables.create('src')
  await v.tables.write('src', { n: [1, 2], s: [`${BOM}a`, 'b'] })
  await v.tables.create('out')
  await v.tables.createInstance('out')
  await v.tables.builders.create('out', 'out_index', { kind: 'index', changedColumns: ['n'], returnType: 'rows', function: { module: 'm', export: 'ids' }, arguments: { n: '<<src.n>>' } })
  await v.tables.builders.create('out', 'e', { kind: 'column', changedColumns: ['e'], returnType: 'row-wise', function: { module: 'm', export: 'echo' }, arguments: { s: '<<src.s[n::<<self.n[index]>>]>>' } })
  await v.tables.execute('out')
  assert.deepEqual((await v.tables.get('out')).table.getChild('e')!.toArray().map((x: unknown) => JSON.parse(x as string)), [[`${BOM}a`], ['b']])
  const r = await v.sql`SELECT s, length(s) AS n FROM tables.src ORDER BY n DESC`
  assert.deepEqual(rows(r), [{ s: `${BOM}a`, n: 2 }, { s: 'b', n: 1 }])
  await v.close()
})
