// Arrow tables made by other tools (apache-arrow's builders, IPC streams, DuckDB) given to
// `tables.write` with a dtype that converts them. Before round twenty-four the converted values were
// arrow-js's `toArray()`: a null row of a numeric, timestamp or time column became the number its
// buffer slot held (0, or whatever another writer left there), a Float16 column was written as its
// 16-bit patterns (1.5 as 15872) and a Decimal column as its 32-bit words (a 2-row column as 8 rows).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  Decimal, Dictionary, Float16, Int32, Int64, Table, Utf8, TimestampNanosecond, Uint8, Vector, makeData, tableFromIPC, tableToIPC, vectorFromArray,
} from 'apache-arrow'
import { InvalidArgumentError, openVault, type Vault } from '../../src/node.js'
import { readParquetRows } from '../../src/codec/parquet.js'

const values = (t: Table, name: string) => [...t.getChild(name)!].map((x) => (typeof x === 'bigint' ? `${x}n` : x))

async function vaultWith(name: string): Promise<Vault> {
  const v = await openVault(name, { storage: 'memory' })
  await v.tables.create('t')
  return v
}

/** An Int32 vector of two chunks, each with nulls, whose null slots hold numbers (as other writers leave them). */
function chunkedInt32(): Vector {
  const chunk = (data: number[], validBits: number) =>
    makeData({ type: new Int32(), length: data.length, nullCount: data.length - popcount(validBits), nullBitmap: new Uint8Array([validBits]), data: Int32Array.from(data) })
  return new Vector([chunk([1, 99, 3], 0b101), chunk([77, 5, 6, 88], 0b0110)])
}
const popcount = (n: number) => n.toString(2).split('').filter((b) => b === '1').length

test('tables: an Arrow column converted to its dtype keeps its nulls in their rows (chunked, sliced, through IPC)', async () => {
  const v = await vaultWith('arrow-foreign-nulls')
  const ints = chunkedInt32()
  assert.equal(ints.data.length, 2)
  const ns = new Vector([makeData({ type: new TimestampNanosecond(), length: 3, nullCount: 1, nullBitmap: new Uint8Array([0b101]), data: new BigInt64Array([1n, 42n, -(1n << 63n)]) })])
  const u8 = vectorFromArray([200, null, 0, 255], new Uint8())
  await v.tables.write('t', new Table({ a: ints }), { dtypes: { a: 'f64?' } })
  assert.deepEqual(values((await v.tables.get('t')).table, 'a'), [1, null, 3, null, 5, 6, null])
  // Sliced (an offset into the first chunk and across the second), and read from an IPC stream.
  await v.tables.write('t', tableFromIPC(tableToIPC(new Table({ a: ints.slice(1, 6) }), 'stream')), { dtypes: { a: 'i64?' } })
  assert.deepEqual(values((await v.tables.get('t')).table, 'a'), [null, '3n', null, '5n', '6n'])
  await v.tables.write('t', new Table({ ns, u8: u8.slice(0, 3) }), { dtypes: { ns: 'i64?', u8: 'i32?' } })
  const t = (await v.tables.get('t')).table
  assert.deepEqual(values(t, 'ns'), ['1n', null, `${-(1n << 63n)}n`])
  assert.deepEqual(values(t, 'u8'), [200, null, 0])
  // A dtype without `?` refuses the null (naming the row) instead of storing its slot's number.
  const before = await v.tables.instances('t')
  await assert.rejects(v.tables.write('t', new Table({ a: ints }), { dtypes: { a: 'f64' } }), (e: unknown) => e instanceof InvalidArgumentError && /column "a" row 1/.test((e as Error).message))
  assert.deepEqual(await v.tables.instances('t'), before)
  await v.close()
})

test('tables: a Float16 column is written as its values, not its bit patterns', async () => {
  const v = await vaultWith('arrow-foreign-f16')
  const half = vectorFromArray([1.5, null, -0, 65504, -2.5], new Float16())
  await v.tables.write('t', new Table({ h: half }), { dtypes: { h: 'f32?' } })
  assert.deepEqual([...(await v.tables.get('t')).table.getChild('h')!], [1.5, null, -0, 65504, -2.5])
  await v.tables.write('t', new Table({ g: half.slice(2) }), { dtypes: { g: 'f64' } })
  assert.deepEqual([...(await v.tables.get('t')).table.getChild('g')!], [-0, 65504, -2.5])
  await v.close()
})

test('tables: a Decimal column is refused naming it (its value has no exact form here), and nothing is written', async () => {
  const v = await vaultWith('arrow-foreign-decimal')
  // 1.50 and 0.07 at scale 2: four 32-bit words a row.
  const dec = new Vector([makeData({ type: new Decimal(2, 10, 128), length: 2, nullCount: 0, data: new Uint32Array([150, 0, 0, 0, 7, 0, 0, 0]) })])
  for (const dtype of ['f64', 'json', 'str:utf8', 'msgpack']) {
    await assert.rejects(v.tables.write('t', new Table({ ok: vectorFromArray([1, 2]), d: dec }), { dtypes: { d: dtype } }), (e: unknown) => e instanceof InvalidArgumentError && /column "d".*Decimal/.test((e as Error).message), dtype)
  }
  assert.deepEqual(await v.tables.instances('t'), [])
  await v.close()
})

test('tables: a dictionary column with 64-bit indices (as DuckDB and pyarrow may write) is written as its values', async () => {
  const v = await vaultWith('arrow-foreign-dict64')
  // arrow-js itself cannot read this column (it throws a TypeError mixing bigints); the vault reads each index.
  const words = vectorFromArray(['x', `\uFEFFy`, '__proto__'], new Utf8())
  const chunk = (indices: bigint[], validBits: number) =>
    makeData({ type: new Dictionary(new Utf8(), new Int64() as unknown as Int32), length: indices.length, nullCount: indices.length - popcount(validBits), nullBitmap: new Uint8Array([validBits]), data: BigInt64Array.from(indices), dictionary: words } as never)
  const column = new Vector([chunk([2n, 7n, 0n], 0b101), chunk([1n, 1n], 0b11)]).slice(1)
  await v.tables.write('t', new Table({ d: column }))
  const t = (await v.tables.get('t')).table
  assert.equal(t.schema.fields[0]!.metadata.get('labvault.dtype'), 'str:utf8?')
  assert.deepEqual([...t.getChild('d')!], [null, 'x', '\uFEFFy', '\uFEFFy'])
  await v.close()
})

test('tables: a column named __proto__ keeps its values in SQL (tables."t") and exportParquet', async () => {
  const v = await vaultWith('arrow-foreign-proto-sql')
  await v.tables.write('t', new Table({ ['__proto__']: vectorFromArray([1, null, 3], new Int32()), a: vectorFromArray([4, 5, 6], new Int32()) }))
  const rows = (await v.sql('SELECT "__proto__" AS p, a FROM tables."t" ORDER BY a')).toArray().map((r) => [r.p, r.a])
  assert.deepEqual(rows, [[1, 4], [null, 5], [3, 6]])
  const exported = await readParquetRows(await v.exportParquet('tables."t"'))
  assert.deepEqual(exported.map((r) => [r['__proto__'], r.a]), [[1, 4], [null, 5], [3, 6]])
  await v.close()
})
