// A table read with `tables.get` and written back with `tables.write` (whole, or a slice) holds
// what it held. Before round twenty-three a json column came back as its JSON text and was written
// back as the JSON of that text (`{"a":1}` became `"{\"a\":1}"`), a msgpack column as the encoding
// of its bytes; an Arrow Utf8 column written as `str:N`/`str:ascii`/`str:latin1` went in unchecked
// (not cut, not refused); and a dictionary-encoded or LargeUtf8 column lost a leading U+FEFF.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Dictionary, Field, Int32, LargeUtf8, RecordBatch, Schema, Table, Utf8, vectorFromArray } from 'apache-arrow'
import { InvalidArgumentError, openVault, type Vault } from '../../src/node.js'
import { decodeValue } from '../../src/codec/value-codec.js'

const BOM = '\uFEFF'
const plain = (v: unknown): unknown => (v instanceof Uint8Array ? Array.from(v) : v)
const column = (t: Table, name: string) => [...t.getChild(name)!].map(plain)
const dtypeOf = (t: Table, name: string) => t.schema.fields.find((f) => f.name === name)!.metadata.get('labvault.dtype')

/** `table` with every field's `labvault.dtype` set to `dtype` (as a table `get` returned would say). */
function relabel(table: Table, dtype: string): Table {
  const schema = new Schema(table.schema.fields.map((f) => new Field(f.name, f.type, f.nullable, new Map([['labvault.dtype', dtype]]))))
  return new Table(schema, table.batches.map((b) => new RecordBatch(schema, b.data)))
}

async function vaultWith(name: string): Promise<Vault> {
  const v = await openVault(name, { storage: 'memory' })
  await v.tables.create('t')
  return v
}

test('tables: json and msgpack columns read with get and written back (whole and sliced) keep their values', async () => {
  const v = await vaultWith('roundtrip-encoded')
  const values = {
    j: [{ a: 1 }, 'x', null, [`${BOM}y`, '\uD800']],
    m: [new Map([[1, 2]]), new Date(0), null, 'z'],
    k: [1, 'b', 2, null],
    // JSON writes NaN and an invalid Date as the text `null`: a value, not a missing one.
    n: [NaN, new Date(NaN), -0, Infinity],
  }
  await v.tables.write('t', values, { dtypes: { j: 'json?', m: 'msgpack?', k: 'msgpack:16?', n: 'json' } })
  const first = (await v.tables.get('t')).table
  await v.tables.write('t', first)
  const again = (await v.tables.get('t')).table
  assert.deepEqual(column(first, 'n'), ['null', 'null', '0', 'null'])
  for (const name of ['j', 'm', 'k', 'n']) {
    assert.deepEqual(column(again, name), column(first, name), name)
    assert.equal(dtypeOf(again, name), dtypeOf(first, name))
  }
  assert.deepEqual(column(again, 'j').map((x) => (x === null ? null : JSON.parse(x as string))), values.j)
  assert.deepEqual(column(again, 'm').map((x) => (x === null ? null : decodeValue(Uint8Array.from(x as number[])))), values.m)
  await v.tables.write('t', first.slice(1, 3))
  const sliced = (await v.tables.get('t')).table
  for (const name of ['j', 'm', 'k', 'n']) assert.deepEqual(column(sliced, name), column(first, name).slice(1, 3), name)
  // Converted to the other structured dtype on the way in: the values, not their text or bytes.
  await v.tables.write('t', first.select(['j', 'k']), { dtypes: { j: 'msgpack?', k: 'json?' } })
  const swapped = (await v.tables.get('t')).table
  assert.deepEqual(column(swapped, 'j').map((x) => (x === null ? null : decodeValue(Uint8Array.from(x as number[])))), values.j)
  assert.deepEqual(column(swapped, 'k'), ['1', '"b"', '2', null])
  await v.close()
})

test('tables: a field that says json or msgpack over values that are not is refused, naming the row, and nothing changes', async () => {
  const v = await vaultWith('roundtrip-bad-encoded')
  await v.tables.write('t', { j: [1, 2] }, { dtypes: { j: 'json' } })
  const before = await v.tables.instances('t')
  await assert.rejects(v.tables.write('t', relabel(new Table({ j: vectorFromArray(['1', '{oops'], new Utf8()) }), 'json')), (e: unknown) => e instanceof InvalidArgumentError && /row 1/.test((e as Error).message))
  await assert.rejects(v.tables.write('t', relabel(new Table({ j: vectorFromArray(['1'], new Utf8()) }), 'msgpack:1')), InvalidArgumentError)
  assert.deepEqual(await v.tables.instances('t'), before)
  await v.close()
})

test('tables: an Arrow Utf8 column written as str:N, str:ascii, str:latin1 or artifact goes through the dtype\'s check (cut or refused)', async () => {
  const v = await vaultWith('roundtrip-str-checks')
  const utf8 = (values: string[]) => new Table({ s: vectorFromArray(values, new Utf8()) })
  await v.tables.write('t', utf8(['abcdef', 'é']), { dtypes: { s: 'str:4:utf8' } })
  assert.deepEqual(column((await v.tables.get('t')).table, 's'), ['abcd', 'é'])
  const before = await v.tables.instances('t')
  await assert.rejects(v.tables.write('t', utf8(['a', 'é']), { dtypes: { s: 'str:ascii' } }), (e: unknown) => e instanceof InvalidArgumentError && /row 1/.test((e as Error).message))
  await assert.rejects(v.tables.write('t', utf8(['😀']), { dtypes: { s: 'str:latin1' } }), InvalidArgumentError)
  // A field that claims str:2 over longer strings is held to it too.
  await v.tables.write('t', relabel(utf8(['xyz']), 'str:2:utf8'))
  assert.deepEqual(column((await v.tables.get('t')).table, 's'), ['xy'])
  await assert.rejects(v.tables.write('t', utf8(['']), { dtypes: { s: 'artifact' } }), (e: unknown) => e instanceof InvalidArgumentError && /artifact column holds file names/.test((e as Error).message))
  assert.equal((await v.tables.instances('t')).length, before.length + 1)
  await v.close()
})

test('tables: a dictionary-encoded or LargeUtf8 string column keeps a leading U+FEFF, with its dtype named or inferred', async () => {
  const v = await vaultWith('roundtrip-dictionary-bom')
  const S = [`${BOM}a`, 'b', `${BOM}a`, BOM, `${BOM}${BOM}c`]
  const dict = vectorFromArray(S, new Dictionary(new Utf8(), new Int32()))
  const large = vectorFromArray(S, new LargeUtf8())
  for (const options of [{}, { dtypes: { d: 'str:utf8', l: 'str:utf8' } }, { dtypes: { d: 'str:8:utf8', l: 'json' } }]) {
    await v.tables.write('t', new Table({ d: dict, l: large }), options)
    const { table } = await v.tables.get('t')
    assert.deepEqual(column(table, 'd'), S, JSON.stringify(options))
    const l = column(table, 'l')
    assert.deepEqual(options.dtypes?.l === 'json' ? l.map((x) => JSON.parse(x as string)) : l, S, JSON.stringify(options))
  }
  assert.equal(dtypeOf((await v.tables.get('t', { version: 'base' })).table, 'd'), 'str:8:utf8')
  await v.close()
})

test('tables: a string with a lone surrogate in a str:utf16le/utf16be column is refused (Arrow Utf8 cannot hold it), not stored as U+FFFD', async () => {
  const v = await vaultWith('roundtrip-lone-surrogate')
  for (const dtype of ['str:utf16le', 'str:utf16be', 'str:8:utf16le', 'str:utf16be?']) {
    await assert.rejects(v.tables.write('t', { s: ['ok', 'x\uD800'] }, { dtypes: { s: dtype } }), (e: unknown) => e instanceof InvalidArgumentError && /row 1.*lone surrogate \(U\+D800\) at position 1/.test((e as Error).message), dtype)
  }
  assert.deepEqual(await v.tables.instances('t'), [])
  // Well-formed text (astral characters included) is kept.
  await v.tables.write('t', { s: ['😀', `${BOM}é`] }, { dtypes: { s: 'str:utf16be' } })
  assert.deepEqual(column((await v.tables.get('t')).table, 's'), ['😀', `${BOM}é`])
  await v.close()
})

test('tables: a table written back from get gives builders the same arguments and SQL the same rows as the original', async () => {
  const v = await vaultWith('roundtrip-readers')
  await v.code.create('m', 'export const ids = (a) => ({ n: a.n })\nexport const echo = (a) => JSON.stringify([a.j, a.s, typeof a.j])')
  const data = { n: [1, 2, 3], j: [{ a: [1, `${BOM}x`] }, 'y', null], s: [`${BOM}s`, '', 'é'] }
  await v.tables.create('src')
  await v.tables.write('src', data, { dtypes: { j: 'json?' } })
  await v.tables.create('copy')
  await v.tables.write('copy', (await v.tables.get('src')).table)
  const echoed: unknown[][] = []
  for (const from of ['src', 'copy']) {
    const out = `out_${from}`
    await v.tables.create(out)
    await v.tables.createInstance(out)
    await v.tables.builders.create(out, `${out}_index`, { kind: 'index', changedColumns: ['n'], returnType: 'rows', function: { module: 'm', export: 'ids' }, arguments: { n: `<<${from}.n>>` } })
    await v.tables.builders.create(out, 'e', { kind: 'column', changedColumns: ['e'], returnType: 'row-wise', function: { module: 'm', export: 'echo' }, arguments: { j: `<<${from}.j[n::<<self.n[index]>>]>>`, s: `<<${from}.s[n::<<self.n[index]>>]>>` } })
    await v.tables.execute(out)
    echoed.push(column((await v.tables.get(out)).table, 'e').map((x) => JSON.parse(x as string)))
  }
  assert.deepEqual(echoed[1], echoed[0])
  assert.deepEqual(echoed[0]![0], [[{ a: [1, `${BOM}x`] }], [`${BOM}s`], 'object'])
  const sql = async (t: string) => (await v.sql(`SELECT n, j, s, length(s) AS l FROM tables.${t} ORDER BY n`)).toArray().map((r) => JSON.stringify(r.toJSON(), (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)))
  assert.deepEqual(await sql('copy'), await sql('src'))
  await v.close()
})

test('tables: an artifact, builder or table name that starts with U+FEFF is refused with a message that says so', async () => {
  // Found by the round-trip property: the refusal named path separators and <>(){}…, which the name does not hold.
  const v = await vaultWith('roundtrip-bom-names')
  await v.tables.createInstance('t', { externalEdit: true })
  const says = (e: unknown) => e instanceof InvalidArgumentError && /may not start with whitespace/.test((e as Error).message)
  await assert.rejects(v.tables.artifacts('t', { instanceId: 'TEMP_base' }).put(`${BOM}b`, new Uint8Array([1])), says)
  await assert.rejects(v.code.create(`${BOM}m`, 'export const f = () => 1'), says)
  await assert.rejects(v.tables.create(`${BOM}u`), says)
  // Inside a name it is just a character.
  await v.tables.artifacts('t', { instanceId: 'TEMP_base' }).put(`b${BOM}`, new Uint8Array([1]))
  assert.deepEqual((await v.tables.artifacts('t', { instanceId: 'TEMP_base' }).list()).map((a) => a.name), [`b${BOM}`])
  await v.close()
})
