import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { InvalidArgumentError, NotFoundError, UnsupportedError, VaultError, openVault, type SqlParam, type Vault } from '../../src/node.js'
import { readParquetRows } from '../../src/codec/parquet.js'
import { duckdbRun } from '../support/duckdb-reader.js'
import { tempDir } from './helpers.js'

// A careless or hostile user's SQL over the vault: results of any shape (empty ones too), names,
// writes through SQL, interleaved writes and queries. Each case once failed.

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 60)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const dir = tempDir('labvault-sql-hostile-')

/** Rows of an Arrow table as plain objects. */
function rows(table: { toArray(): { toJSON(): Record<string, unknown> }[] }): Record<string, unknown>[] {
  return table.toArray().map((r) => ({ ...r.toJSON() }))
}

// One vault (one DuckDB start) for the cases that need no data of their own.
let shared: Vault | undefined
const vault = async () => (shared ??= await openVault('sql-hostile', { storage: 'memory' }))
after(async () => {
  await shared?.close()
})

describe('results with no rows', () => {
  test('nested columns (lists of strings, DECIMALs in lists and maps) read as an empty Table: `SELECT * FROM lists` of a new vault was a TypeError', async () => {
    const v = await vault()
    const lists = await v.sql('SELECT * FROM lists')
    assert.equal(lists.numRows, 0)
    assert.deepEqual(lists.schema.fields.map((f) => f.name), ['name', 'type', 'length', 'dim', 'fields', 'created_at'])
    for (const q of ['SELECT NULL::VARCHAR[] AS l WHERE false', 'SELECT NULL::DECIMAL(38, 2)[] AS d WHERE false', 'SELECT NULL::MAP(VARCHAR, DECIMAL(20, 2)) AS m WHERE false']) {
      const t = await v.sql(q)
      assert.equal(t.numRows, 0, q)
    }
    // DECIMALs still become doubles, inside the list's type too.
    assert.equal(String((await v.sql('SELECT NULL::DECIMAL(38, 2)[] AS d WHERE false')).schema.fields[0]!.type), 'List<Float64>')
    const viaClient = await v.databaseClient().query('SELECT * FROM lists')
    assert.equal(viaClient.length, 0)
    assert.deepEqual(viaClient.columns, ['name', 'type', 'length', 'dim', 'fields', 'created_at'])
    assert.ok((await v.exportParquet('lists')).length > 0)
  })

  test(`any nested type reads with no rows and with a NULL row (seed ${SEED})`, async () => {
    const v = await vault()
    const leaf = fc.constantFrom('VARCHAR', 'INTEGER', 'BIGINT', 'DECIMAL(38, 4)', 'DECIMAL(9, 2)', 'HUGEINT', 'UHUGEINT', 'BLOB', 'DOUBLE', 'BOOLEAN', 'TIMESTAMP')
    const type: fc.Arbitrary<string> = fc.letrec<{ t: string }>((tie) => ({
      t: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        tie('t').map((t) => `${t}[]`),
        fc.tuple(tie('t'), tie('t')).map(([a, b]) => `STRUCT("a" ${a}, "\uFEFFb" ${b})`),
        tie('t').map((t) => `MAP(VARCHAR, ${t})`),
      ),
    })).t
    await fc.assert(
      fc.asyncProperty(type, async (t) => {
        const empty = await v.sql(`SELECT NULL::${t} AS c WHERE false`)
        assert.equal(empty.numRows, 0)
        assert.deepEqual(rows(await v.sql(`SELECT NULL::${t} AS c`)), [{ c: null }])
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })
})

describe('importParquet of hostile bytes', () => {
  /** A Parquet file written by native DuckDB from `select`. */
  const parquetOf = async (name: string, select: string) => {
    const file = join(dir, `${name}.parquet`)
    await duckdbRun(`COPY (${select}) TO '${file}' (FORMAT parquet)`)
    return new Uint8Array(readFileSync(file))
  }
  /** What the vault holds that an import could have made. */
  const made = async (v: Vault) => [(await v.tables.list()).map((t) => t.name), (await v.lists.list()).map((l) => l.name)]

  test('damaged pages and an INTERVAL column are typed errors (they were plain Errors) and write nothing', async () => {
    const v = await vault()
    const before = await made(v)
    const good = await parquetOf('good', "SELECT i AS a, 'x' || i AS b FROM range(1000) t(i)")
    const flipped = good.slice()
    for (let i = 100; i < 140; i++) flipped[i]! ^= 0x5a
    for (const into of ['table', 'records'] as const) {
      await assert.rejects(v.importParquet('cut', good.slice(10), { into }), InvalidArgumentError, 'the head cut off')
      await assert.rejects(v.importParquet('flipped', flipped, { into }), InvalidArgumentError, 'bytes of a page flipped')
      await assert.rejects(v.importParquet('interval', await parquetOf('interval', 'SELECT INTERVAL 1 DAY AS i'), { into }), UnsupportedError)
    }
    assert.deepEqual(await made(v), before)
  })

  test(`a Parquet file cut short or with bytes changed anywhere is imported or refused with a VaultError, writing nothing (seed ${SEED})`, async () => {
    const v = await vault()
    const good = await parquetOf('good-prop', "SELECT i AS a, 'x' || i AS b, i / 3 AS c, [i, i + 1] AS l FROM range(300) t(i)")
    let n = 0
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: good.length }),
        fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 })), { maxLength: 8 }),
        fc.constantFrom('table' as const, 'records' as const),
        async (cut, flips, into) => {
          const bytes = good.slice(0, cut)
          for (const [at, x] of flips) if (at < bytes.length) bytes[at]! ^= x
          const before = await made(v)
          const name = `damaged-${n++}`
          try {
            await v.importParquet(name, bytes, { into })
          } catch (err) {
            assert.ok(err instanceof VaultError, `a typed error, got ${String(err)}`)
            assert.deepEqual(await made(v), before, 'nothing written')
          }
        },
      ),
      { seed: SEED, numRuns: RUNS },
    )
  })
})

describe('list parameters', () => {
  /** A value read from a result: Arrow list vectors as arrays, at any depth. */
  const plain = (x: unknown): unknown => (x !== null && typeof x === 'object' && 'toArray' in x ? Array.from(x as unknown as Iterable<unknown>, plain) : x)
  /** What a list parameter should read back as: holes and undefined are nulls. */
  const expected = (x: unknown): unknown => (Array.isArray(x) ? Array.from(x, expected) : (x ?? null))

  test('−0 inside a list keeps its sign (it bound as 0); a hole in a sparse array is null (it bound as 0)', async () => {
    const v = await vault()
    const [row] = rows(await v.sql('SELECT ? AS a, list_transform(?, e -> 1.0 / e) AS inv, ? AS nested, ? AS sparse', { params: [[-0, 0], [-0], [[-0.0], [1.5, -0]], [1, , 3]] }))
    assert.deepStrictEqual(plain(row!.a), [-0, 0])
    assert.deepStrictEqual(plain(row!.inv), [-Infinity])
    assert.deepStrictEqual(plain(row!.nested), [[-0], [1.5, -0]])
    assert.deepStrictEqual(plain(row!.sparse), [1, null, 3])
    // An empty list fits a list of lists beside it.
    assert.deepStrictEqual(plain(rows(await v.sql`SELECT ${[[[1.5]], [], [[]]]} AS v`)[0]!.v), [[[1.5]], [], [[]]])
  })

  test(`any list of doubles, at any depth, with nulls and holes, binds exactly (seed ${SEED})`, async () => {
    const v = await vault()
    const element = fc.oneof({ weight: 4, arbitrary: fc.double() }, fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MAX_VALUE, null, undefined))
    // Every leaf at one depth (lists of lists and of doubles side by side are refused); an empty
    // list or a null fits a list at any depth.
    const at = (depth: number): fc.Arbitrary<unknown[]> =>
      depth === 0 ? fc.sparseArray(element, { maxLength: 6 }) : fc.array(fc.oneof({ weight: 4, arbitrary: at(depth - 1) }, fc.constantFrom([], null)), { maxLength: 3 })
    const list = fc.integer({ min: 0, max: 3 }).chain(at)
    await fc.assert(
      fc.asyncProperty(list, async (l) => {
        const [row] = rows(await v.sql`SELECT ${l as SqlParam} AS v`)
        assert.deepStrictEqual(plain(row!.v), expected(l))
      }),
      { seed: SEED, numRuns: RUNS },
    )
  })
})

describe('databaseClient rows', () => {
  test('a column, struct field or map key named `__proto__` is an own property; no row or object gets another prototype', async () => {
    const db = (await vault()).databaseClient()
    const result = await db.query(`SELECT 1 AS "__proto__", {'__proto__': {'x': 1}, 'b': 2} AS s, MAP {'__proto__': 5, 'k': 6} AS m, {'__proto__': 7} AS "constructor"`)
    assert.deepEqual(result.columns, ['__proto__', 's', 'm', 'constructor'])
    const row = result[0]!
    assert.deepEqual(Object.keys(row), ['__proto__', 's', 'm', 'constructor'])
    assert.equal(Object.getPrototypeOf(row), Object.prototype)
    assert.equal(Object.getOwnPropertyDescriptor(row, '__proto__')?.value, 1)
    const s = row.s as Record<string, unknown>
    assert.equal(Object.getPrototypeOf(s), Object.prototype, 'a struct field named __proto__ did not become the prototype')
    assert.deepEqual(Object.keys(s), ['__proto__', 'b'])
    assert.deepEqual(Object.getOwnPropertyDescriptor(s, '__proto__')?.value?.toJSON(), { x: 1 })
    const m = row.m as Record<string, unknown>
    assert.deepEqual([Object.keys(m), Object.getOwnPropertyDescriptor(m, '__proto__')?.value, m.k], [['__proto__', 'k'], 5, 6])
    assert.equal(Object.getOwnPropertyDescriptor(await db.queryRow('SELECT 2 AS "__proto__"'), '__proto__')?.value, 2)
  })
})

describe('exportParquet by relation name', () => {
  test('a name is matched as DuckDB matches it, without regard to ASCII case (`Kv`, `items.runs` were a parser error and NotFoundError)', async () => {
    const v = await openVault('sql-hostile-export-names', { storage: 'memory' })
    try {
      await v.kv().set('k', 1)
      await (await v.lists.create('Runs', { type: 'document' })).append('older')
      await (await v.lists.create('runs', { type: 'document' })).append('newer')
      await (await v.lists.create('Été', { type: 'document' })).append('accented')
      const texts = async (name: string) => (await readParquetRows(await v.exportParquet(name))).map((r) => r.text ?? r.key)
      // What a query naming the relation reads.
      assert.deepEqual(rows(await v.sql('SELECT text FROM items.runs')), [{ text: 'older' }])
      for (const name of ['items.runs', 'items.RUNS', 'ITEMS."runs"', 'items."Runs"']) assert.deepEqual(await texts(name), ['older'], name)
      for (const name of ['Kv', 'KV', 'main.KV']) assert.deepEqual(await texts(name), ['k'], name)
      assert.deepEqual(await texts('items."Été"'), ['accented'])
      // DuckDB folds ASCII letters only: É and é are two names.
      await assert.rejects(v.exportParquet('items."été"'), NotFoundError)
    } finally {
      await v.close()
    }
  })
})

describe('query text', () => {
  test('a NUL in the text is refused by name (DuckDB read the text only up to it); a text of `;` only is empty', async () => {
    const v = await vault()
    await v.kv().set('nul-probe', 1)
    for (const text of ["SELECT 'a\0b' AS s", 'SELECT 1\0; DROP TABLE kv', '\0']) {
      await assert.rejects(v.sql(text), (err: Error) => err instanceof InvalidArgumentError && /NUL character/.test(err.message), JSON.stringify(text))
    }
    // Comments only (round twenty-four): a parser error "at or near ')'" before.
    for (const text of [';', ' ;; \n', '-- hi', '/* x */', ' ; -- a\n/* b\n */ ;', '--']) await assert.rejects(v.sql(text), (err: Error) => err instanceof InvalidArgumentError && /empty/.test(err.message), JSON.stringify(text))
    // A comment beside a statement is the statement's.
    for (const text of ['SELECT 1 AS s -- trailing', '/* lead */ SELECT 1 AS s', '-- lead\nSELECT 1 AS s;']) assert.deepEqual(rows(await v.sql(text)), [{ s: 1 }], JSON.stringify(text))
    // As a parameter, a NUL is data.
    assert.deepEqual(rows(await v.sql`SELECT ${'a\0b'} AS s`), [{ s: 'a\0b' }])
    assert.deepEqual(rows(await v.sql("SELECT 'a' || chr(0) || 'b' AS s")), [{ s: 'a\0b' }])
    assert.deepEqual(rows(await v.sql("SELECT value FROM kv WHERE key = 'nul-probe'")), [{ value: '1' }])
  })
})

describe('syntax errors', () => {
  test("a query cut short says so (every one read \"at or near ')'\", the subquery's own parenthesis); a lone word that is no relation is NotFoundError for exportParquet", async () => {
    const v = await vault()
    for (const text of ['SELECT * FROM kv WHERE', 'SELECT 1 +', 'SELECT * FROM kv WHERE key = (', 'select (1', 'SELECT 1 + ;']) {
      await assert.rejects(v.sql(text), (err: Error) => err instanceof InvalidArgumentError && /syntax error at end of input/.test(err.message), JSON.stringify(text))
    }
    await assert.rejects(v.sql('SELEC 1'), (err: Error) => err instanceof InvalidArgumentError && /at or near "SELEC"/.test(err.message))
    await assert.rejects(v.sql('nope'), (err: Error) => err instanceof InvalidArgumentError && /at or near "nope"/.test(err.message))
    await assert.rejects(v.exportParquet('nope'), (err: Error) => err instanceof NotFoundError && /no relation "nope" in this vault, and it is no query either/.test(err.message))
    await assert.rejects(v.exportParquet('SELECT * FROM kv WHERE'), (err: Error) => err instanceof InvalidArgumentError && /at end of input/.test(err.message))
    // Errors past the parser are DuckDB's, as before; a query that parses runs.
    await assert.rejects(v.sql('SELECT * FROM no_such_relation'), (err: Error) => err instanceof VaultError && /no_such_relation/.test(err.message))
    assert.deepEqual(rows(await v.sql('SELECT 2 AS x;')), [{ x: 2 }])
  })
})

describe('exportParquet → importParquet', () => {
  test('a table of every value kind comes back with the same values; `dtypes` names the list column (the error asked for options.dtypes, which importParquet did not take) and restores the dtypes', async () => {
    const v = await openVault('sql-hostile-roundtrip', { storage: 'memory' })
    try {
      const data = {
        i32: [-(2 ** 31), 0, 2 ** 31 - 1],
        i64: [-(2n ** 63n), 0n, 2n ** 63n - 1n],
        f32: [1.5, -0, NaN],
        f64: [-0, 5e-324, Infinity],
        bool: [true, false, true],
        bytes: [new Uint8Array([0, 255]), new Uint8Array([]), new Uint8Array([1])],
        s: ['\uFEFFa', '', '😀\0x'],
        vec: [new Float32Array([1, -0]), new Float32Array([NaN, 2]), new Float32Array([3, 4])],
        sn: [null, 'b', null],
      }
      const dtypes = { i32: 'i32', i64: 'i64', f32: 'f32', f64: 'f64', bool: 'bool', bytes: 'bytes', s: 'str:utf8', vec: 'vec:f32:2', sn: 'str:utf8?' }
      await v.tables.create('all')
      await v.tables.write('all', data, { dtypes })
      const file = await v.exportParquet('tables."all"')
      // Without dtypes a list column comes in as JSON text (round twenty-four; it was refused).
      await v.importParquet('plain', file)
      const plainTable = (await v.tables.get('plain')).table
      assert.equal(plainTable.schema.fields.find((f) => f.name === 'vec')!.metadata.get('labvault.dtype'), 'json')
      assert.deepEqual(JSON.parse(plainTable.getChild('vec')!.get(2) as string), [3, 4])
      await v.importParquet('back', file, { dtypes: { ...dtypes, vec: 'vec:f32' } })
      const [a, b] = [(await v.tables.get('all')).table, (await v.tables.get('back')).table]
      const cells = (t: typeof a, name: string) => Array.from({ length: t.numRows }, (_, i) => plain(t.getChild(name)!.get(i)))
      for (const name of Object.keys(data)) assert.deepStrictEqual(cells(b, name), cells(a, name), name)
      const dtypeOf = (name: string) => b.schema.fields.find((f) => f.name === name)!.metadata.get('labvault.dtype')
      assert.deepEqual(Object.keys(dtypes).map(dtypeOf), Object.keys(dtypes).map((k) => (k === 'vec' ? 'vec:f32' : dtypes[k as keyof typeof dtypes])))
    } finally {
      await v.close()
    }
  })
})

/** A cell as plain data (typed arrays and Arrow vectors as arrays), for deepStrictEqual. */
function plain(x: unknown): unknown {
  if (x instanceof Uint8Array) return ['bytes', ...x]
  if (x !== null && typeof x === 'object' && Symbol.iterator in x) return Array.from(x as Iterable<unknown>)
  return x
}
