import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { openVault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'

// How values reach the kv relation's JSON text.

describe('kv values as JSON text', () => {
  test('BigInt64Array elements beyond 2^53 keep every digit (as strings), safe ones are numbers', async () => {
    const v = await openVault('sql-values-bigint64', { storage: 'memory' })
    try {
      await v.kv().set('big', new BigInt64Array([1n, 2n ** 53n + 1n, -(2n ** 63n)]))
      await v.kv().set('ubig', new BigUint64Array([2n ** 64n - 1n]))
      await v.kv().set('plain', 2n ** 60n + 1n)
      const got = (await v.sql('SELECT key, value FROM kv ORDER BY key')).toArray().map((r) => ({ ...r.toJSON() }))
      assert.deepEqual(got, [
        { key: 'big', value: '[1,"9007199254740993","-9223372036854775808"]' },
        { key: 'plain', value: '"1152921504606846977"' },
        { key: 'ubig', value: '["18446744073709551615"]' },
      ])
    } finally {
      await v.close()
    }
  })
})

// DECIMAL, HUGEINT and UHUGEINT arrive from DuckDB as 128-bit integers and are read as doubles by
// labvault (sql-numbers.ts). duckdb-wasm's own cast turned −2^127 positive and left a DECIMAL
// inside a list or struct as the 128-bit words read as doubles (`[1.5]` was `[7.4e-323]`).

const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

describe('128-bit numbers as doubles', () => {
  test('HUGEINT extremes keep their sign; DECIMAL inside a list, struct, map, array or union reads as its value', async () => {
    const v = await openVault('sql-values-hugeint', { storage: 'memory' })
    try {
      const [row] = (await v.sql(`SELECT (-170141183460469231731687303715884105728)::HUGEINT AS lo, 170141183460469231731687303715884105727::HUGEINT AS hi,
        (-170141183460469231731687303715884105727)::HUGEINT AS lo1, 340282366920938463463374607431768211455::UHUGEINT AS uhi, 7::UHUGEINT AS u7,
        [1.5, 2.25, NULL] AS l, {'a': 0.1, 'b': -3::HUGEINT} AS s, MAP {1.5: -2.5} AS m, [1.5, -2.5]::DECIMAL(3,1)[2] AS fixed,
        [7::UHUGEINT] AS lu, union_value(k := 1.5) AS un`)).toArray()
      assert.equal(row.lo, -(2 ** 127))
      assert.equal(row.hi, 2 ** 127)
      assert.equal(row.lo1, -(2 ** 127))
      assert.equal(row.uhi, 2 ** 128)
      assert.equal(row.u7, 7)
      assert.deepEqual(Array.from(row.l), [1.5, 2.25, null])
      assert.deepEqual({ ...row.s.toJSON() }, { a: 0.1, b: -3 })
      assert.deepEqual([...row.m].map(([k, x]: [unknown, unknown]) => [k, x]), [[1.5, -2.5]])
      assert.deepEqual(Array.from(row.fixed), [1.5, -2.5])
      assert.deepEqual(Array.from(row.lu), [7])
      assert.equal(row.un, 1.5)
    } finally {
      await v.close()
    }
  })

  test(`any DECIMAL or HUGEINT reads as the nearest double to its exact value, at the top and nested (seed ${SEED})`, async () => {
    const v = await openVault('sql-values-decimal', { storage: 'memory' })
    const rand = mulberry32(SEED)
    const int = (n: number) => Math.floor(rand() * n)
    try {
      for (let run = 0; run < 200; run++) {
        let type: string
        let digits: string
        if (run % 4 === 3) {
          // HUGEINT: any 128-bit value, the extremes included.
          let big = 0n
          for (let w = 0; w < 4; w++) big = (big << 32n) | BigInt(int(2 ** 32))
          big = [-(2n ** 127n), 2n ** 127n - 1n, BigInt.asIntN(128, big) >> BigInt(int(128))][int(3)]!
          type = 'HUGEINT'
          digits = String(big)
        } else {
          const width = 1 + int(38)
          const scale = int(width + 1)
          let d = ''
          for (let i = 0, n = 1 + int(width); i < n; i++) d += String(int(10))
          d = d.padStart(width, '0')
          digits = `${rand() < 0.5 ? '-' : ''}${scale > 0 ? `${d.slice(0, width - scale)}.${d.slice(width - scale)}` : d}`
          type = `DECIMAL(${width},${scale})`
        }
        const [row] = (await v.sql(`SELECT x, x::DOUBLE AS dbl, [x] AS l, {'f': x} AS s FROM (SELECT '${digits}'::${type} AS x)`)).toArray()
        const label = `${digits}::${type}`
        // The nearest double to the exact value: JavaScript's parse of the same text (+ 0: a DECIMAL
        // has no −0). DuckDB's own cast to DOUBLE agrees within ±2^53 but rounds twice beyond
        // (−12866270807823282 became −12866270807823280), so it is not the reference.
        const want = Number(digits) + 0
        assert.ok(Object.is(row.x, want), `${label}: read ${row.x}, want ${want} (DuckDB's DOUBLE ${row.dbl})`)
        // Within ±2^53 (most values), DuckDB's own cast gives the same double.
        if (BigInt(digits.replace('.', '')) <= 2n ** 53n && BigInt(digits.replace('.', '')) >= -(2n ** 53n) && !/\((\d+),(2[3-9]|3\d)\)/.test(type)) assert.ok(Object.is(row.x, row.dbl + 0), `${label}: DuckDB's DOUBLE ${row.dbl}`)
        assert.ok(Object.is(row.l.get(0), want), `${label} in a list: ${row.l.get(0)}`)
        assert.ok(Object.is(row.s.f, want), `${label} in a struct: ${row.s.f}`)
      }
    } finally {
      await v.close()
    }
  })
})

// ENUM columns: duckdb-wasm's pending queries send an ENUM's indexes without its dictionary, and
// every value read as null; the engine runs such a query again with them cast to VARCHAR.

describe('ENUM columns read as their text', () => {
  test('at the top, inside lists, structs and maps, with parameters, and with no rows', async () => {
    const v = await openVault('sql-values-enum', { storage: 'memory' })
    try {
      const e = "'b'::ENUM('a', 'b')"
      const got = (await v.sql(`SELECT ${e} AS e, [${e}, NULL] AS l, {'k': ${e}} AS s, MAP {${e}: 1} AS m, 1 AS n UNION ALL SELECT NULL, NULL, NULL, NULL, 2 ORDER BY n`)).toArray()
      assert.equal(got[0].e, 'b')
      assert.deepEqual(Array.from(got[0].l), ['b', null])
      assert.deepEqual({ ...got[0].s.toJSON() }, { k: 'b' })
      assert.deepEqual([...got[0].m].map(([k, x]: [unknown, unknown]) => [k, x]), [['b', 1]])
      assert.deepEqual([got[1].e, got[1].l, got[1].s, got[1].m], [null, null, null, null])
      const [bound] = (await v.sql`SELECT ${'a'}::ENUM('a', 'b') AS e, ${7} AS x`).toArray()
      assert.deepEqual({ ...bound.toJSON() }, { e: 'a', x: 7 })
      const empty = await v.sql(`SELECT ${e} AS e WHERE false`)
      assert.equal(String(empty.schema.fields[0]!.type), 'Utf8')
      const rows = await v.databaseClient().query(`SELECT ${e} AS e`)
      assert.deepEqual([rows.schema[0]!.type, rows[0]!.e], ['string', 'b'])
    } finally {
      await v.close()
    }
  })

  test(`any members, at any depth, read as the text DuckDB holds (seed ${SEED})`, async () => {
    const v = await openVault('sql-values-enum-prop', { storage: 'memory' })
    const rand = mulberry32(SEED)
    const int = (n: number) => Math.floor(rand() * n)
    const pieces = ["'", '"', '(', ')', ',', ' ', 'ENUM(', 'é', '😀', '\uFEFF', 'x', 'VARCHAR', '\\', '--']
    const quote = (s: string) => `'${s.replaceAll("'", "''")}'`
    try {
      for (let run = 0; run < 40; run++) {
        const members = new Set<string>()
        for (let i = 0, n = 1 + int(5); i < n; i++) {
          let m = ''
          for (let j = 0, k = 1 + int(4); j < k; j++) m += pieces[int(pieces.length)]
          members.add(m)
        }
        const list = [...members]
        const type = `ENUM(${list.map(quote).join(', ')})`
        let expr = `${quote(list[int(list.length)]!)}::${type}`
        // Wrapped in lists and structs, some of them with a field name as odd as the members.
        for (let d = int(3); d > 0; d--) expr = rand() < 0.5 ? `[${expr}]` : `{${quote(list[int(list.length)]! || 'f')}: ${expr}}`
        const [row] = (await v.sql(`SELECT ${expr} AS v`)).toArray()
        const plain = (x: unknown): unknown => (x === null || typeof x !== 'object' ? x : 'toJSON' in (x as object) ? plain((x as { toJSON(): unknown }).toJSON()) : Array.isArray(x) ? x.map(plain) : Object.fromEntries(Object.entries(x as object).map(([k, y]) => [k, plain(y)])))
        const same = (await v.sql(`SELECT (${expr}) IS NOT DISTINCT FROM ${jsonLiteral(plain(row.v))} AS ok`)).toArray()[0].ok
        assert.equal(same, true, `${expr}: read ${JSON.stringify(plain(row.v))}`)
      }
    } finally {
      await v.close()
    }
  })
})

/** A value read from a result as a DuckDB literal of VARCHARs, lists and structs (to compare with the ENUM expression, which casts). */
function jsonLiteral(x: unknown): string {
  if (x === null) return 'NULL'
  if (typeof x === 'string') return `'${x.replaceAll("'", "''")}'`
  if (Array.isArray(x)) return `[${x.map(jsonLiteral).join(', ')}]`
  return `{${Object.entries(x as object).map(([k, y]) => `'${k.replaceAll("'", "''")}': ${jsonLiteral(y)}`).join(', ')}}`
}

// A string that begins with U+FEFF: arrow-js decodes values and names with TextDecoders that drop
// a leading U+FEFF; labvault keeps it (codec/arrow-strings.ts, keep-bom.ts).

describe('strings that begin with U+FEFF', () => {
  test(`values, nested values and column and field names keep it, ENUMs and parameters too (seed ${SEED})`, async () => {
    const v = await openVault('sql-values-bom', { storage: 'memory' })
    const rand = mulberry32(SEED)
    const pieces = ['\uFEFF', '\uFEFF\uFEFF', 'a', 'é', '😀', "'", '"', ' ', '\u200B']
    const text = () => {
      let s = rand() < 0.6 ? '\uFEFF' : ''
      for (let j = 0, k = Math.floor(rand() * 4); j < k; j++) s += pieces[Math.floor(rand() * pieces.length)]
      return s
    }
    const ident = (s: string) => `"${s.replaceAll('"', '""')}"`
    try {
      const [row] = (await v.sql(`SELECT chr(65279) || 'x' AS s, [chr(65279), 'a', NULL] AS l, {'k': chr(65279)} AS st, 'y' AS "\uFEFFcol", {'\uFEFFf': 1} AS sf, 'e'::ENUM('e') AS "\uFEFFe", chr(65279) AS only, union_value(s := chr(65279) || 'u') AS un`)).toArray()
      assert.equal(row.s, '\uFEFFx')
      assert.deepEqual(Array.from(row.l), ['\uFEFF', 'a', null])
      assert.equal(row.st.k, '\uFEFF')
      assert.equal(row['\uFEFFcol'], 'y')
      assert.deepEqual({ ...row.sf.toJSON() }, { '\uFEFFf': 1 })
      assert.equal(row['\uFEFFe'], 'e')
      assert.equal(row.only, '\uFEFF')
      assert.equal(row.un, '\uFEFFu')
      for (let run = 0; run < 60; run++) {
        const s = text()
        const name = text() || 'c'
        const result = await v.sql(`SELECT ?::VARCHAR AS ${ident(name)}, [?::VARCHAR, 'z'] AS l, length(?::VARCHAR) AS n`, { params: [s, s, s] })
        const [got] = result.toArray()
        assert.equal(result.schema.fields[0]!.name, name, `column name ${JSON.stringify(name)}`)
        assert.equal(got[name], s, `value ${JSON.stringify(s)}`)
        assert.deepEqual(Array.from(got.l), [s, 'z'], `in a list ${JSON.stringify(s)}`)
        assert.equal(got.n, [...s].length)
      }
    } finally {
      await v.close()
    }
  })
})
