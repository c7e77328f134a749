import assert from 'node:assert/strict'
import { describe, test, after } from 'node:test'
import fc from 'fast-check'
import { InvalidArgumentError, openVault, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'
import { startChild } from './sharing-helpers.js'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startEventChild } from '../support/child-events.js'
import { deleteVault, listVaults } from '../../src/node.js'
import { nodeSqlCacheFile } from '../../src/sharing/node/derived-file.js'

// SQL over the vault on Node. The environment-neutral cases (errors, freshness, databaseClient) are in
// test/conformance/sql-conformance.ts and run here through vault-conformance.test.ts and in Chromium;
// this file holds what needs Node or many rows: parameter binding over hostile values, every
// relation's columns, incremental refresh, reopening a vault from disk.

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 150)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
const dir = tempDir('labvault-sql-')

/** Rows of an Arrow table as plain objects. */
function rows(table: { toArray(): { toJSON(): Record<string, unknown> }[] }): Record<string, unknown>[] {
  return table.toArray().map((r) => ({ ...r.toJSON() }))
}

/** What the last relation refresh did (an engine method for tests and the bench, not on Vault). */
function refreshStats(v: Vault): Promise<{ providers: number; rows: number; ms: number; cache?: { outcome: string; why?: string } }> {
  return (v as unknown as { caller: { call(d: string, m: string, a: unknown[]): Promise<unknown> } }).caller.call('sql', 'refreshStats', []) as never
}

// One vault (and one DuckDB) for the property test: each run is one query.
let shared: Vault
after(async () => {
  await shared?.close()
})

describe('parameters', () => {
  test(`any value binds exactly, whatever its characters or magnitude (seed ${SEED})`, async () => {
    shared = await openVault('sql-params', { storage: 'memory' })
    const text = fc.string({ unit: fc.oneof(fc.constantFrom("'", '"', '\\', '\0', '?', '$1', ';', '--', '/*', 'é', '😀', '\n'), fc.string({ unit: 'grapheme', maxLength: 1 })), maxLength: 12 })
    const value = fc.oneof(
      text,
      fc.double(),
      fc.integer(),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.boolean(),
      fc.constant(null),
      fc.uint8Array({ maxLength: 16 }),
      fc.date({ min: new Date(-62_000_000_000_000), max: new Date(250_000_000_000_000), noInvalidDate: true }),
    )
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const [row] = rows(await shared.sql`SELECT ${v} AS v`)
        const got = row!.v
        if (v instanceof Date) assert.equal(got, v.getTime())
        else if (v instanceof Uint8Array) assert.deepEqual(Array.from(got as Uint8Array), Array.from(v))
        // An integer column comes back as numbers when its values are safe, else as bigints.
        else if (typeof v === 'bigint') assert.equal(typeof got === 'bigint' ? got : BigInt(got as number), v)
        else assert.ok(Object.is(got, v), `${String(v)} came back as ${String(got)}`)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  })

  test(`any text (any script, NUL, astral characters) and null reach a relation exactly (seed ${SEED})`, async () => {
    const list = await shared.lists.create('texts', { type: 'record', fields: ['s'] })
    let length = 0
    const char = fc.oneof(fc.constantFrom('a', 'é', '\0', '😀', '\u{10FFFF}', '\uFFFD', '中', "'", '\n', '\u0080', '\u07FF', '\u0800'), fc.string({ unit: 'grapheme', maxLength: 1 }))
    const batch = fc.array(fc.option(fc.string({ unit: char, maxLength: 20 }), { nil: null }), { minLength: 1, maxLength: 30 })
    await fc.assert(
      fc.asyncProperty(batch, async (values) => {
        await list.appendMany(values.map((v) => ({ s: v })))
        const got = rows(await shared.sql('SELECT s FROM items.texts WHERE idx >= ? ORDER BY idx', { params: [length] })).map((r) => r.s)
        length += values.length
        assert.deepEqual(got, values)
      }),
      { numRuns: Math.ceil(RUNS / 3), seed: SEED },
    )
  })

  test('a hostile string parameter is data: it comes back unchanged and none of it runs', async () => {
    const v = await openVault('sql-hostile', { storage: 'memory' })
    try {
      const notes = await v.lists.create('notes', { type: 'record', fields: ['who'] })
      await notes.appendMany([{ who: 'ann' }, { who: "o'brien" }])
      const hostile = [
        "'); DROP TABLE items.notes; --",
        "x' OR '1'='1",
        "'; SELECT * FROM kv; --",
        "$1 ? ?? '' \\' \"\" ;",
        '\u202Eevil\u202C \uFEFF \u{1F4A9} \u{10FFFF} e\u0301 \u00A0 ' + "'".repeat(5),
        ") UNION SELECT 'pwned' --",
      ]
      for (const h of hostile) {
        assert.deepEqual(rows(await v.sql`SELECT ${h} AS s, typeof(${h}) AS t, length(${h}) AS n`), [{ s: h, t: 'VARCHAR', n: [...h].length }])
        assert.deepEqual(rows(await v.sql`SELECT count(*) AS n FROM items.notes WHERE who = ${h}`), [{ n: 0 }], 'matches no row')
      }
      // The relation is still there with its rows: nothing in a value ran.
      assert.deepEqual(rows(await v.sql`SELECT who FROM items.notes WHERE who = ${"o'brien"}`), [{ who: "o'brien" }])
      assert.deepEqual(rows(await v.sql('SELECT count(*) AS n FROM items.notes')), [{ n: 2 }])
    } finally {
      await v.close()
    }
  })

  test('bigint, Date, null, boolean, number and list parameters bind with their types', async () => {
    const v = await openVault('sql-param-types', { storage: 'memory' })
    try {
      const when = new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 250))
      const params = [2n ** 63n - 1n, -(2n ** 63n), when, null, true, false, 42, 2 ** 40, 0.1, -0, [1, 2.5], ['a', "b'"], [[1n], [2]], new Uint8Array([0, 255])]
      const text = "SELECT " + params.map((_, i) => `typeof($${i + 1}) AS t${i}, $${i + 1} AS v${i}`).join(', ')
      const [row] = rows(await v.sql(text, { params }))
      // (A null's type is whatever its use makes it: not checked.)
      const types = params.map((_, i) => row![`t${i}`]).filter((_, i) => i !== 3)
      assert.deepEqual(types, ['BIGINT', 'BIGINT', 'TIMESTAMP', 'BOOLEAN', 'BOOLEAN', 'INTEGER', 'BIGINT', 'DOUBLE', 'DOUBLE', 'DOUBLE[]', 'VARCHAR[]', 'BIGINT[][]', 'BLOB'])
      assert.equal(row!.v0, 2n ** 63n - 1n)
      assert.equal(row!.v1, -(2n ** 63n))
      assert.equal(row!.v2, when.getTime())
      assert.equal(row!.v3, null)
      assert.equal(row!.v4, true)
      assert.equal(row!.v5, false)
      assert.equal(row!.v6, 42)
      assert.equal(row!.v7, 2 ** 40)
      assert.equal(row!.v8, 0.1)
      assert.ok(Object.is(row!.v9, -0))
      assert.deepEqual(Array.from(row!.v10 as ArrayLike<number>), [1, 2.5])
      assert.deepEqual(Array.from(row!.v11 as ArrayLike<string>), ['a', "b'"])
      assert.deepEqual(Array.from(row!.v13 as Uint8Array), [0, 255])
      // A Date compares as a timestamp; a bigint as an exact integer, beyond doubles' precision.
      assert.deepEqual(rows(await v.sql`SELECT ${when} = TIMESTAMP '2024-02-29 12:30:15.25' AS same, ${2n ** 62n + 1n} - ${2n ** 62n} AS diff`), [{ same: true, diff: 1 }])
    } finally {
      await v.close()
    }
  })

  test('a bad parameter is refused by name and nothing runs', async () => {
    const v = await openVault('sql-bad-params', { storage: 'memory' })
    try {
      for (const [param, pattern] of [[{}, /params\[0\]/], [() => 1, /params\[0\]/], ['\uD800', /params\[0\]/], [2n ** 130n, /128 bits/], [new Date(NaN), /invalid Date/], [[[1], [new Map()]], /params\[0\]\[1\]\[0\]/], [[1, 'a'], /params\[0\] mixes INTEGER and VARCHAR/]] as const) {
        await assert.rejects(v.sql('SELECT ? AS x', { params: [param as never] }), (e: Error) => e instanceof InvalidArgumentError && pattern.test(e.message))
      }
      await assert.rejects(v.sql('SELECT 1', { params: 'x' as never }), InvalidArgumentError)
      await assert.rejects(v.sql('SELECT 1', { signal: {} as never }), InvalidArgumentError)
      await assert.rejects(v.sql(42 as never), InvalidArgumentError)
    } finally {
      await v.close()
    }
  })
})

describe('relations', () => {
  test('documents, records, embeddings, files, lineage, sessions and cells, processes and columns, with their columns', async () => {
    const v = await openVault('sql-relations', { storage: 'memory' })
    try {
      const s = await v.session('prep.ts', { code: 'load()' })
      await s.cell('clean()')
      const docs = await v.lists.create('docs', { type: 'document' })
      await docs.appendMany(['alpha', 'beta'], { session: s })
      const emb = await v.lists.create('emb', { type: 'embedding', dim: 3 })
      await emb.appendMany([new Float32Array([1, 0, 0.5]), new Float32Array([0, 1, -2])], { parents: [{ list: 'docs', start: 0, end: 2 }] })
      const files = await v.lists.create('files', { type: 'file' })
      await files.append({ bytes: new Uint8Array([1, 2, 3]), name: 'a.bin', type: 'application/octet-stream' })
      const recs = await v.lists.create('runs', { type: 'record', fields: ['model', 'acc', 'at', 'tags', 'cfg', 'idx'] })
      await recs.appendMany([
        { model: 'rf', acc: 0.5, at: new Date(1000), tags: ['a'], cfg: { depth: 3 }, idx: 7 },
        { model: 'svm', acc: 1, at: new Date(2000), tags: [], cfg: null, idx: 8 },
      ])
      const loss = await v.columns.create('loss', 'f64')
      await loss.extend([0.5, 0.25, 0.125])
      const names = await v.columns.create('names', 'str:utf8')
      await names.extend(['x', 'y'])
      const p = await v.processes.start('train')
      await p.checkpoint({ step: 1 })

      assert.deepEqual(rows(await v.sql('SELECT idx, text FROM items.docs ORDER BY idx')), [{ idx: 0, text: 'alpha' }, { idx: 1, text: 'beta' }])
      const e = rows(await v.sql('SELECT idx, embedding FROM items.emb ORDER BY idx')).map((r) => [r.idx, Array.from(r.embedding as Iterable<number>)])
      assert.deepEqual(e, [[0, [1, 0, 0.5]], [1, [0, 1, -2]]])
      assert.deepEqual(rows(await v.sql("SELECT typeof(embedding) AS t FROM items.emb LIMIT 1")), [{ t: 'FLOAT[]' }])
      assert.deepEqual(rows(await v.sql('SELECT idx, name, type, size FROM items.files')), [{ idx: 0, name: 'a.bin', type: 'application/octet-stream', size: 3 }])
      const r = rows(await v.sql('SELECT item_idx, model, acc, "at", cfg, idx, typeof(acc) AS ta, typeof("at") AS tt, typeof(tags) AS tg FROM items.runs ORDER BY item_idx'))
      assert.deepEqual(r, [
        { item_idx: 0, model: 'rf', acc: 0.5, at: 1000, cfg: '{"depth":3}', idx: 7, ta: 'DOUBLE', tt: 'TIMESTAMP', tg: 'VARCHAR[]' },
        { item_idx: 1, model: 'svm', acc: 1, at: 2000, cfg: null, idx: 8, ta: 'DOUBLE', tt: 'TIMESTAMP', tg: 'VARCHAR[]' },
      ])
      assert.deepEqual(rows(await v.sql('SELECT child_list, child_start, child_end, parent_list, parent_start, parent_end FROM lineage')), [
        { child_list: 'emb', child_start: 0, child_end: 2, parent_list: 'docs', parent_start: 0, parent_end: 2 },
      ])
      assert.deepEqual(rows(await v.sql('SELECT name, status FROM sessions')), [{ name: 'prep.ts', status: 'running' }])
      assert.deepEqual(rows(await v.sql('SELECT cell, code FROM cells ORDER BY cell')), [{ cell: 0, code: 'load()' }, { cell: 1, code: 'clean()' }])
      assert.deepEqual(rows(await v.sql('SELECT name, type, length FROM lists ORDER BY name')).map((x) => x.name), ['docs', 'emb', 'files', 'runs'])
      assert.deepEqual(rows(await v.sql('SELECT name, status, progress FROM processes')), [{ name: 'train', status: 'running', progress: '{"step":1}' }])
      assert.deepEqual(rows(await v.sql('SELECT idx, value FROM col.loss ORDER BY idx')), [{ idx: 0, value: 0.5 }, { idx: 1, value: 0.25 }, { idx: 2, value: 0.125 }])
      assert.deepEqual(rows(await v.sql('SELECT value FROM col.names ORDER BY idx')), [{ value: 'x' }, { value: 'y' }])
      assert.deepEqual(rows(await v.sql('SELECT name, dtype, length FROM columns ORDER BY name')), [{ name: 'loss', dtype: 'f64', length: 3 }, { name: 'names', dtype: 'str:utf8', length: 2 }])

      // Changes reach the next query: an edited column, a finished process, a deleted list.
      await loss.set(1, 9)
      await p.done()
      await v.lists.delete('files')
      assert.deepEqual(rows(await v.sql('SELECT value FROM col.loss ORDER BY idx')).map((x) => x.value), [0.5, 9, 0.125])
      assert.deepEqual(rows(await v.sql('SELECT status FROM processes')), [{ status: 'done' }])
      await assert.rejects(v.sql('SELECT * FROM items.files'), InvalidArgumentError)
    } finally {
      await v.close()
    }
  })

  test('appending to a large list refreshes only the new rows; a field changing type rebuilds its relation', async () => {
    const v = await openVault('sql-incremental', { storage: 'fs', path: dir })
    try {
      const preds = await v.lists.create('preds', { type: 'record', fields: ['model', 'fold', 'score'] })
      const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ model: `m${(from + i) % 7}`, fold: (from + i) % 5, score: ((from + i) % 1000) / 1000 }))
      await preds.appendMany(batch(0, 20_000))
      assert.deepEqual(rows(await v.sql('SELECT count(*) AS n FROM items.preds')), [{ n: 20_000 }])
      await preds.appendMany(batch(20_000, 1000))
      assert.deepEqual(rows(await v.sql('SELECT count(*) AS n, sum(fold) AS f FROM items.preds')), [{ n: 21_000, f: batch(0, 21_000).reduce((s, x) => s + x.fold, 0) }])
      const stats = await refreshStats(v)
      // The 1000 new records, the one-row list catalog and the (empty) lineage: not the 21 000.
      assert.ok(stats.rows <= 1001, `an append reloaded ${stats.rows} rows`)
      // A query with nothing changed refreshes nothing.
      await v.sql('SELECT 1')
      assert.equal((await refreshStats(v)).rows, stats.rows)
      await preds.append({ model: 'x', fold: 'not a number', score: 1 })
      assert.deepEqual(rows(await v.sql("SELECT typeof(fold) AS t, count(*) AS n FROM items.preds GROUP BY 1")), [{ t: 'VARCHAR', n: 21_001 }])
      assert.deepEqual(rows(await v.sql("SELECT fold FROM items.preds WHERE model = 'x'")), [{ fold: 'not a number' }])
    } finally {
      await v.close()
    }
  })

  test("a change event names the tables whose rows were rewritten, not those that only gained rows", async () => {
    const v = await openVault('sql-rewritten', { storage: 'memory' })
    try {
      const list = await v.lists.create('notes', { type: 'document' })
      const seen: { tables: string[]; rewritten?: string[] }[] = []
      const stop = await v.watch({}, (c) => seen.push({ tables: c.tables, rewritten: c.rewritten }))
      await list.append('one')
      await v.kv().set('a', 1)
      await stop()
      assert.equal(seen.length, 2, JSON.stringify(seen))
      const [append, set] = seen
      assert.ok(append!.tables.includes('items') && !append!.rewritten!.includes('items'), `an append only adds rows: ${JSON.stringify(append)}`)
      assert.ok(set!.tables.includes('kv') && set!.rewritten!.includes('kv'), `INSERT OR REPLACE rewrites: ${JSON.stringify(set)}`)
    } finally {
      await v.close()
    }
  })

  test('store predictions and logs refresh by appending new rows; an upsert or a delete reloads them whole', async () => {
    const v = await openVault('sql-store-incremental', { storage: 'memory' })
    try {
      const s = v.store
      const runId = await s.beginRun('sweep', {}, [])
      const pid = await s.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'wheat' })
      const chainId = await s.saveChain(pid, { steps: [], modelStepIdx: 0, modelClass: 'PLS', foldArtifacts: {} })
      const preds = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({
        pipelineId: pid, chainId, datasetName: 'wheat', modelName: `m${from + i}`, modelClass: (from + i) % 2 ? 'PLS' : 'RF', foldId: 'f0', partition: 'val', valScore: (from + i) / 10_000, metric: 'rmse',
      }))
      const ids = await s.savePredictions(preds(0, 3000))
      await s.logStep(pid, { event: 'fit', message: 'first' })
      const count = async () => rows(await v.sql('SELECT count(*) AS n, sum(val_score) AS s FROM predictions'))[0]!
      assert.deepEqual(await count(), { n: 3000, s: preds(0, 3000).reduce((a, p) => a + p.valScore, 0) })
      // New predictions and a log line: only they are loaded.
      await s.savePredictions(preds(3000, 200))
      await s.logStep(pid, { event: 'fit', message: 'second' })
      assert.equal((await count()).n, 3200)
      const appended = await refreshStats(v)
      assert.equal(appended.rows, 201, 'the 200 new predictions and the new log line, not the 3000 before')
      assert.deepEqual(rows(await v.sql('SELECT message FROM logs ORDER BY log_id')), [{ message: 'first' }, { message: 'second' }])
      // An upsert rewrites a row: the relation is reloaded whole and shows the new score.
      await s.savePrediction({ ...preds(0, 1)[0]!, valScore: 99 })
      assert.deepEqual(rows(await v.sql("SELECT val_score, count(*) OVER () AS n FROM predictions WHERE model_name = 'm0'")), [{ val_score: 99, n: 1 }])
      assert.equal((await refreshStats(v)).rows, 3200)
      // A deleted prediction is gone; predictions saved after it are all there.
      assert.equal(await s.deletePrediction(ids[1]!), true)
      await s.savePredictions(preds(5000, 10))
      assert.deepEqual(rows(await v.sql("SELECT count(*) AS n, count(*) FILTER (model_name = 'm1') AS gone FROM predictions")), [{ n: 3209, gone: 0 }])
      await s.savePredictions(preds(6000, 5))
      assert.equal((await count()).n, 3214)
      assert.equal((await refreshStats(v)).rows, 5)
    } finally {
      await v.close()
    }
  })

  test("another process's acknowledged writes are seen by the next query", async () => {
    const v = await openVault('sql-shared', { storage: 'fs', path: dir })
    const child = startChild({ dir, name: 'sql-shared', action: 'set' })
    try {
      await v.kv().set('mine', 0)
      assert.deepEqual(rows(await v.sql('SELECT key FROM kv ORDER BY key')), [{ key: 'mine' }])
      await child.next('open')
      for (let i = 1; i <= 3; i++) {
        child.send(JSON.stringify([`theirs${i}`, i]))
        await child.next('set')
        const keys = rows(await v.sql('SELECT key, value FROM kv ORDER BY key'))
        assert.deepEqual(keys, [{ key: 'mine', value: '0' }, ...Array.from({ length: i }, (_, j) => ({ key: `theirs${j + 1}`, value: String(j + 1) }))])
      }
      child.send('quit')
      await child.exited
    } finally {
      await v.close()
    }
  })

  test('a reopened vault answers from its files; a write in a transaction is seen once committed', async () => {
    let v = await openVault('sql-reopen', { storage: 'fs', path: dir })
    await v.kv().set('a', 1)
    await v.close()
    v = await openVault('sql-reopen', { storage: 'fs', path: dir })
    try {
      assert.deepEqual(rows(await v.sql('SELECT key, value FROM kv')), [{ key: 'a', value: '1' }])
      await v.transaction(async (tx) => {
        await tx.kv().set('b', 2)
      })
      assert.deepEqual(rows(await v.sql('SELECT key FROM kv ORDER BY key')), [{ key: 'a' }, { key: 'b' }])
      await assert.rejects(
        v.transaction(async (tx) => {
          await tx.kv().set('c', 3)
          throw new Error('rolled back')
        }),
      )
      assert.deepEqual(rows(await v.sql('SELECT key FROM kv ORDER BY key')), [{ key: 'a' }, { key: 'b' }])
    } finally {
      await v.close()
    }
  })
})

describe('cache file (Node)', () => {
  const sum = 4999 * 2500
  const count = async (v: Vault) => rows(await v.sql('SELECT count(*) AS n, sum(x) AS s FROM items.nums'))[0]
  const open = () => openVault('sql-node-cache', { storage: 'fs', path: dir })

  test('a file beside the vault keeps the relations: a reopen derives nothing unchanged, a stale file refreshes, a damaged one is rebuilt', async () => {
    const file = nodeSqlCacheFile(dir, 'sql-node-cache')
    let v = await open()
    await (await v.lists.create('nums', { type: 'record', fields: ['x'] })).appendMany(Array.from({ length: 5000 }, (_, i) => ({ x: i })))
    assert.deepEqual(await count(v), { n: 5000, s: sum })
    assert.ok((await refreshStats(v)).rows >= 5000)
    await v.close()
    assert.ok(existsSync(file), 'written when the vault closed')
    assert.ok(!(await listVaults({ storage: 'fs', path: dir })).some((n) => n.includes('labvault-sql')), 'the cache folder is not a vault')
    // Reopened: the relations come from the file, nothing is derived from the vault.
    v = await open()
    assert.deepEqual(await count(v), { n: 5000, s: sum })
    assert.deepEqual({ ...(await refreshStats(v)), start: undefined }, { providers: 0, rows: 0, ms: 0, cache: { outcome: 'restored' }, start: undefined })
    await v.close()
    // Changed while closed (no SQL ran): the file is behind; only the new row is loaded.
    v = await open()
    await (await v.lists.get('nums')).appendMany([{ x: 100_000 }] as never)
    await v.close()
    v = await open()
    assert.deepEqual(await count(v), { n: 5001, s: sum + 100_000 })
    const stale = await refreshStats(v)
    assert.ok(stale.rows > 0 && stale.rows < 100, `a stale file reloaded ${stale.rows} rows`)
    assert.deepEqual(stale.cache, { outcome: 'behind' })
    await v.close()
    // Damaged: a flipped byte fails its checksum; the relations are derived again and the file rewritten.
    const bytes = readFileSync(file)
    bytes[bytes.length >> 1] ^= 0xff
    writeFileSync(file, bytes)
    v = await open()
    assert.deepEqual(await count(v), { n: 5001, s: sum + 100_000 })
    assert.ok((await refreshStats(v)).rows >= 5001)
    await v.close()
    v = await open()
    assert.deepEqual(await count(v), { n: 5001, s: sum + 100_000 })
    assert.equal((await refreshStats(v)).rows, 0, 'the rebuilt file is read back')
    await v.close()
    // Garbage, or a file cut short: the same.
    writeFileSync(file, readFileSync(file).subarray(0, 100))
    v = await open()
    assert.deepEqual(await count(v), { n: 5001, s: sum + 100_000 })
    await v.close()
  })

  test("several processes: one holds the file, the others keep their relations in memory; a killed holder's lock is taken over", async () => {
    const fixture = fileURLToPath(new URL('./fixtures/sql-child.ts', import.meta.url))
    const child = startEventChild(fixture, { dir, name: 'sql-node-cache' }, { stdin: true, timeoutMs: 60_000 })
    assert.deepEqual(await child.next('queried'), { event: 'queried', n: 5001 })
    const lock = `${nodeSqlCacheFile(dir, 'sql-node-cache')}.lock`
    assert.equal(readFileSync(lock, 'utf8'), String(child.proc.pid), 'the child holds the file')
    const before = readFileSync(nodeSqlCacheFile(dir, 'sql-node-cache'))
    let v = await open()
    assert.deepEqual(await count(v), { n: 5001, s: sum + 100_000 })
    const derived = await refreshStats(v)
    assert.ok(derived.rows >= 5001, 'this process could not have the file: it derived the relations')
    assert.deepEqual(derived.cache, { outcome: 'none' })
    await (await v.lists.get('nums')).appendMany([{ x: 1 }] as never)
    assert.deepEqual(await count(v), { n: 5002, s: sum + 100_001 })
    await v.close()
    assert.deepEqual(readFileSync(nodeSqlCacheFile(dir, 'sql-node-cache')), before, 'a process without the lock never writes the file')
    // The holder dies without closing: its lock names a process that is gone, and is taken over.
    child.proc.kill('SIGKILL')
    await child.exited
    v = await open()
    assert.deepEqual(await count(v), { n: 5002, s: sum + 100_001 })
    const stats = await refreshStats(v)
    assert.ok(stats.rows > 0 && stats.rows < 100, `the file was used (${stats.rows} rows refreshed)`)
    assert.deepEqual(stats.cache, { outcome: 'behind' })
    await v.close()
    assert.equal(existsSync(lock), false, 'released at close')
    await deleteVault('sql-node-cache', { storage: 'fs', path: dir })
    assert.equal(existsSync(nodeSqlCacheFile(dir, 'sql-node-cache')), false, 'deleteVault deletes the cache file')
  })
})
