import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import fc from 'fast-check'
import { openVault, type Vault } from '../../src/node.js'
import { readParquetRows } from '../../src/codec/parquet.js'
import { tempDir } from './helpers.js'

/**
 * Record lists as SQL and Parquet see them (`items."<list>"`, docs/sql.md): a field's values come
 * out exactly, in a typed column or as JSON text, never changed. Found by probing:
 *  - a field named `__proto__` set the prototype of the relation's rows instead of making a
 *    column; DuckDB refused the rows, and every query of the vault failed (`SELECT 1` too);
 *  - a bigint beyond 64 bits went into a BIGINT column wrapped (2^63 read as −2^63, 2^70 as 0),
 *    one beyond 2^53 mixed with fractions into a DOUBLE column rounded, and a lone -0 into a
 *    BIGINT column as 0.
 *
 * The property: LABVAULT_PROP_RUNS runs (default 30); LABVAULT_PROP_SEED=<seed> replays one.
 */

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 30)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
const dir = tempDir('labvault-items-sql-')
let vault: Vault

before(async () => {
  vault = await openVault('items-sql', { storage: 'fs', path: dir })
})
after(async () => {
  await vault.close()
})

function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
  return out
}

test('a record field named __proto__ is a column; the vault\'s other queries still run', async () => {
  const l = await vault.lists.create('proto', { type: 'record', fields: ['__proto__', 'b'] })
  await l.appendMany([objectOf([['__proto__', 'x'], ['b', 2]]), objectOf([['__proto__', 'y'], ['b', 3]])])
  assert.deepEqual((await vault.sql('SELECT 1 AS one')).toArray().map((r) => r.one), [1], 'SELECT 1 runs')
  const t = await vault.sql(`SELECT string_agg("__proto__", ',' ORDER BY idx) AS p, sum(b)::DOUBLE AS b FROM items.proto`)
  assert.deepEqual([t.get(0)!.p, t.get(0)!.b], ['x,y', 5])
  const rows = await readParquetRows(await vault.exportParquet('SELECT "__proto__" AS p, b::DOUBLE AS b FROM items.proto ORDER BY idx'))
  assert.deepEqual(rows, [{ p: 'x', b: 2 }, { p: 'y', b: 3 }])
})

/** Whether a value read from the relation (typed, or JSON text) is exactly the one written. */
function sameValue(written: number | bigint, read: unknown): boolean {
  if (typeof read === 'string') {
    // JSON text: a bigint beyond 2^53 as a quoted decimal, else a number.
    // JSON has no -0 (JSON.stringify writes 0): the one thing JSON text does not keep.
    const parsed = JSON.parse(read) as unknown
    return typeof parsed === 'string' ? BigInt(parsed) === BigInt(written) : sameValue(Object.is(written, -0) ? 0 : written, parsed as number)
  }
  if (typeof read === 'bigint') return typeof written === 'bigint' ? read === written : Number.isSafeInteger(written) && !Object.is(written, -0) && BigInt(written) === read
  if (typeof read !== 'number') return false
  return typeof written === 'bigint' ? Number.isSafeInteger(read) && BigInt(read) === written : Object.is(read, written)
}

const numberish = fc.oneof(
  fc.bigInt({ min: -(2n ** 66n), max: 2n ** 66n }),
  fc.constantFrom(2n ** 63n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) - 1n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 53n - 1n, 2n ** 64n),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(-0, 0, 5e-324, 2 ** 53 - 1, 2 ** 53 + 2, 0.5),
)

let lists = 0

test(`record fields of numbers and bigints come out of SQL and Parquet exactly (seed ${SEED}, ${RUNS} runs)`, async (t) => {
  t.diagnostic(`replay with LABVAULT_PROP_SEED=${SEED}`)
  const out = await fc.check(
    fc.asyncProperty(fc.array(numberish, { minLength: 1, maxLength: 5 }), async (xs) => {
      const name = `n${++lists}`
      const l = await vault.lists.create(name, { type: 'record', fields: ['x'] })
      await l.appendMany(xs.map((x) => ({ x })))
      const rows = await readParquetRows(await vault.exportParquet(`items."${name}"`))
      assert.equal(rows.length, xs.length)
      rows.forEach((r, i) => assert.ok(sameValue(xs[i]!, r.x), `item ${i}: ${String(xs[i])} (${typeof xs[i]}) came out as ${String(r.x)} (${typeof r.x})`))
    }),
    { seed: SEED, numRuns: RUNS },
  )
  if (out.failed) {
    const cause = out.errorInstance as Error | undefined
    throw new Error(`${fc.defaultReportMessage(out)}\nReplay: LABVAULT_PROP_SEED=${SEED} node --import tsx --test test/node/items-sql-values.test.ts\n${cause?.stack ?? String(cause)}`)
  }
})

test('bigints beyond 64 bits, beyond 2^53 beside fractions, and -0: exactly, in SQL too', async () => {
  const cases: [string, unknown[], unknown[]][] = [
    ['w70', [2n ** 70n, 1], ['"1180591620717411303424"', '1']],
    ['w63', [2n ** 63n], ['"9223372036854775808"']],
    ['wmax', [2n ** 63n - 1n, 5], [2n ** 63n - 1n, 5n]],
    ['wmix', [2n ** 60n + 1n, 1.5], ['"1152921504606846977"', '1.5']],
    ['wneg0', [-0], [-0]],
  ]
  for (const [name, xs, expected] of cases) {
    const l = await vault.lists.create(name, { type: 'record', fields: ['x'] })
    await l.appendMany(xs.map((x) => ({ x })))
    assert.deepEqual((await vault.sql(`SELECT x FROM items."${name}" ORDER BY idx`)).toArray().map((r) => r.x), expected, name)
  }
})

test('col."<column>" of vec:i64 and vec:u64 keeps 64-bit values exact (they were rounded through DOUBLE[])', async () => {
  const a = await vault.columns.create('vi64', 'vec:i64:2')
  await a.append([2n ** 53n + 1n, -(2n ** 63n)])
  const b = await vault.columns.create('vu64', 'vec:u64:2')
  await b.append([2n ** 64n - 1n, 1n])
  const c = await vault.columns.create('vi64s', 'vec:i64')
  await c.append([2n ** 62n + 1n])
  const value = async (name: string) => (await readParquetRows(await vault.exportParquet(`col."${name}"`)))[0]!.value
  assert.deepEqual(await value('vi64'), [2n ** 53n + 1n, -(2n ** 63n)])
  assert.deepEqual(JSON.parse((await value('vu64')) as string), ['18446744073709551615', 1])
  assert.deepEqual(await value('vi64s'), [2n ** 62n + 1n])
})
