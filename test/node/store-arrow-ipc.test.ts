import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { Float64, Int32, TimestampMillisecond, Utf8, tableFromIPC, vectorFromArray, type DataType, type Vector } from 'apache-arrow'
import { rowsToIpc, type ColumnType, type ResultColumn } from '../../src/domains/store/engine/arrow-ipc.js'
import type { SqlValue } from '../../src/sqlite/sqlite-database.js'

// The experiment store's results (queryPredictions, chains, runs, …) go to Arrow through
// rowsToIpc, which builds text and number columns straight into Arrow's buffers. Checked by
// generation against arrow-js's own builder (vectorFromArray), which it replaced: every value and
// every null the same, whatever SQLite hands over (odd Unicode, lone surrogates, a leading U+FEFF,
// -0, NaN, numbers beyond int32, bigints, bytes, undefined), and a time column's text that is no
// time is null rather than a RangeError.

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 150)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

/** What arrow-js's builder made of the same column (the reference). */
function builderColumn(type: ColumnType, values: SqlValue[]): Vector {
  const arrowType: DataType = type === 'f64' ? new Float64() : type === 'i32' ? new Int32() : type === 'date' ? new TimestampMillisecond() : new Utf8()
  // (A time that does not parse is null: arrow-js's builder threw on its NaN, see dateVector.)
  const plain = values.map((v) => (v === null || v === undefined ? null : type === 'date' ? (Number.isNaN(Date.parse(v as string)) ? null : Date.parse(v as string)) : typeof v === 'bigint' ? Number(v) : v))
  return vectorFromArray(plain as never[], arrowType as Utf8) as Vector
}

const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('', '\uFEFF', '\uFEFFlead', 'a\u0000b', '\uD800', 'x\uDC00y', '😀'.repeat(40), 'é'),
)
const number = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(-0, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31) - 1, 2 ** 53))
const anyValue = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 3, arbitrary: number },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4 }) },
  { weight: 2, arbitrary: fc.constantFrom(null, undefined) },
)
const dateValue = fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.constantFrom(null, 'not a date', '2024-01-01 10:00:00'))

test(`rowsToIpc gives what arrow-js's builder gave, value for value and null for null (seed ${SEED})`, () => {
  const column = fc.constantFrom<ColumnType>('utf8', 'json', 'f64', 'i32', 'date')
  fc.assert(
    fc.property(fc.array(column, { minLength: 1, maxLength: 5 }), fc.nat({ max: 40 }), fc.infiniteStream(fc.tuple(anyValue, dateValue)), (types, n, values) => {
      const columns: ResultColumn[] = types.map((type, i) => ({ name: i === 0 ? '__proto__' : `c${i}`, type }))
      const it = values[Symbol.iterator]()
      const rows: SqlValue[][] = Array.from({ length: n }, () => types.map((t) => {
        const [v, d] = it.next().value as [SqlValue, SqlValue]
        return t === 'date' ? d : v
      }))
      const table = tableFromIPC(rowsToIpc(columns, rows))
      assert.equal(table.numRows, n)
      columns.forEach((c, i) => {
        const got = table.getChildAt(i)!
        const want = builderColumn(c.type, rows.map((r) => r[i]!))
        assert.equal(String(got.type), String(want.type), c.name)
        assert.equal(table.schema.fields[i]!.name, c.name)
        for (let r = 0; r < n; r++) {
          assert.equal(got.isValid(r), want.isValid(r), `${c.name} row ${r}: null or not`)
          const a = got.get(r)
          const b = want.get(r)
          assert.ok(Object.is(a, b) || (typeof a === 'bigint' && a === b), `${c.name} row ${r} (${c.type}): ${String(a)} vs ${String(b)}`)
        }
      })
    }),
    { numRuns: RUNS, seed: SEED },
  )
})

test('a large text column and one with nulls only come out whole', () => {
  const long = 'ü'.repeat(100_000)
  const rows: SqlValue[][] = [[long, null], ['', null], [null, null]]
  const table = tableFromIPC(rowsToIpc([{ name: 'a', type: 'utf8' }, { name: 'b', type: 'f64' }], rows))
  assert.deepEqual(table.getChild('a')!.toArray(), [long, '', null])
  assert.deepEqual([...table.getChild('b')!].map((v) => v), [null, null, null])
  assert.equal(table.getChild('b')!.nullCount, 3)
})
