/**
 * The SQL conformance suite: `vault.sql` and `vault.databaseClient()` through the public API, the
 * same cases in Node (memory, fs) and in Chromium through the worker (OPFS, IndexedDB). Each case
 * starts DuckDB in its vault's engine, so the suite keeps to a few cases that each check much.
 */
import { check, equal, rejects } from './assert.js'
import type { VaultConformanceCase } from './vault-conformance.js'

/** Rows of an Arrow table as plain objects. */
function rows(table: { toArray(): { toJSON(): Record<string, unknown> }[] }): Record<string, unknown>[] {
  return table.toArray().map((r) => ({ ...r.toJSON() }))
}

export const sqlConformanceCases: VaultConformanceCase[] = [
  {
    name: 'relations follow every acknowledged write; parameters are bound, never spliced; types map to numbers, bigints and epoch ms',
    async run(t) {
      const v = await t.open()
      await v.kv().set('lr', 0.001)
      await v.kv('runs').set('best', { model: 'rf', score: 0.9 })
      const preds = await v.lists.create('preds', { type: 'record', fields: ['model', 'fold', 'score'] })
      await preds.appendMany([
        { model: 'rf', fold: 0, score: 0.5 },
        { model: 'svm', fold: 0, score: 0.7 },
      ])
      equal(rows(await v.sql('SELECT namespace, key, value, kind FROM kv ORDER BY namespace, key')), [
        { namespace: 'default', key: 'lr', value: '0.001', kind: 'value' },
        { namespace: 'runs', key: 'best', value: '{"model":"rf","score":0.9}', kind: 'value' },
      ], 'kv relation')
      // Writes after a query are seen by the next one (the list grows: appended, not reloaded).
      for (let round = 1; round <= 3; round++) {
        await preds.appendMany([{ model: 'rf', fold: round, score: round / 10 }])
        await v.kv().set('lr', round)
        const n = rows(await v.sql('SELECT count(*) AS n, max(fold) AS f FROM items.preds'))[0]!
        equal(n, { n: 2 + round, f: round }, `round ${round}: count and max of the list (numbers, not bigints)`)
        equal(rows(await v.sql`SELECT value FROM kv WHERE key = ${'lr'}`), [{ value: String(round) }], `round ${round}: kv`)
      }
      equal(rows(await v.sql('SELECT name, type, length FROM lists')), [{ name: 'preds', type: 'record', length: 5 }], 'lists relation')
      // Bytes written as a stream (chunks in the blob store) are raw bytes with their size, no JSON.
      await v.kv('blobs').setStream('weights', [new Uint8Array(5 << 20), new Uint8Array(7)])
      await v.kv('blobs').set('small', new Uint8Array([1, 2, 3]))
      equal(rows(await v.sql("SELECT key, value, kind, size FROM kv WHERE namespace = 'blobs' ORDER BY key")), [
        { key: 'small', value: null, kind: 'bytes', size: 3 },
        { key: 'weights', value: null, kind: 'bytes', size: (5 << 20) + 7 },
      ], 'streamed and plain bytes in the kv relation')
      // A tagged template's value is a parameter: quotes in it are data.
      const hostile = "x' OR 1=1; DROP TABLE kv; --"
      equal(rows(await v.sql`SELECT ${hostile} AS s, ${3n} AS b, ${2 ** 60} AS d`), [{ s: hostile, b: 3, d: 2 ** 60 }], 'tagged template values bound as they are')
      equal(rows(await v.sql('SELECT count(*) AS n FROM items.preds WHERE model = ?', { params: [hostile] })), [{ n: 0 }], 'a hostile parameter matches nothing')
      const big = rows(await v.sql('SELECT 9007199254740993::BIGINT AS big, sum(fold) AS s, 1.25::DECIMAL(5,2) AS d, TIMESTAMP \'2024-01-02 03:04:05\' AS ts FROM items.preds'))[0]!
      equal(big, { big: 9007199254740993n, s: 6, d: 1.25, ts: Date.UTC(2024, 0, 2, 3, 4, 5) }, 'BIGINT beyond 2^53 is a bigint; sum and DECIMAL are numbers; timestamps epoch ms')
      // Appends at an explicit index: a replaced item is seen (once the relation kept the old one,
      // having only appended past its length), and a gap has no row (a record gap once failed every
      // query with a TypeError; rows up to an item at 2^40 would never end).
      await preds.append({ model: 'knn', fold: 9, score: 1 }, { index: 1 })
      equal(rows(await v.sql('SELECT idx, model FROM items.preds ORDER BY idx')).map((r) => r.model), ['rf', 'knn', 'rf', 'rf', 'rf'], 'a replaced record')
      await preds.append({ model: 'far', fold: 10, score: 0 }, { index: 2 ** 40 })
      equal(rows(await v.sql('SELECT count(*) AS n, max(idx) AS m FROM items.preds')), [{ n: 6, m: 2 ** 40 }], 'records: the written items only')
      const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
      await emb.appendMany([[1, 0], [0, 1]])
      equal(rows(await v.sql('SELECT count(*) AS n FROM items.emb')), [{ n: 2 }], 'vectors before the gap')
      await emb.append([3, 3], { index: 2 ** 40 })
      await emb.append([2, 2], { index: 0 })
      equal(rows(await v.sql('SELECT idx, embedding[1] AS x FROM items.emb ORDER BY idx')), [{ idx: 0, x: 2 }, { idx: 1, x: 0 }, { idx: 2 ** 40, x: 3 }], 'vectors: written ones, the replaced one as replaced')
      const docs = await v.lists.create('docs', { type: 'document' })
      await docs.appendMany(['a ', 'b '])
      equal(rows(await v.sql('SELECT text FROM items.docs ORDER BY idx')).map((r) => r.text), ['a ', 'b '], 'documents')
      await docs.append('B ', { index: 1, start: 2 })
      await docs.append('z', { index: 5, start: 9 })
      equal(rows(await v.sql('SELECT idx, text FROM items.docs ORDER BY idx')), [{ idx: 0, text: 'a ' }, { idx: 1, text: 'B ' }, { idx: 5, text: 'z' }], 'documents: replaced and after a gap')
    },
  },
  {
    name: 'bad queries fail at once with typed errors and change nothing; timeoutMs and signal interrupt a long query, a wait for its turn and a wait for DuckDB to start',
    async run(t) {
      const v = await t.open()
      await v.kv().set('k', 1)
      const { InvalidArgumentError, UnsupportedError, StoppedError } = t.lib
      // The vault's first query waits for DuckDB to start (a second or more: its wasm is instantiated);
      // its timeoutMs stops the wait, and the start goes on for the next query.
      await rejects(v.sql('SELECT 1', { timeoutMs: 300 }), StoppedError, 'timeoutMs while DuckDB starts', /timeoutMs \(300 ms\), while DuckDB was starting/)
      await rejects(v.sql('SELEC 1'), InvalidArgumentError, 'a syntax error', /Parser Error/)
      await rejects(v.sql('SELECT * FROM no_such_relation'), InvalidArgumentError, 'an unknown relation', /no_such_relation/)
      // (WebKit: a text that failed to bind once left DuckDB's transaction open, failing every later query.)
      equal(rows(await v.sql('SELECT 1 AS one')), [{ one: 1 }], 'a query after one that failed to bind')
      for (const write of ['DELETE FROM kv', 'CREATE TABLE t AS SELECT 1', 'DROP TABLE kv', "COPY kv TO 'x.csv'", 'SELECT 1; DELETE FROM kv', 'ATTACH \'x.db\'', 'INSTALL parquet']) {
        await rejects(v.sql(write), InvalidArgumentError, `write statement ${write}`)
      }
      await rejects(v.sql("SELECT * FROM read_parquet('x.parquet')"), UnsupportedError, 'a query that needs an extension', /parquet/)
      await rejects(v.sql('SELECT ? AS x', { params: [{ a: 1 }] as never }), InvalidArgumentError, 'an object parameter', /params\[0\]/)
      await rejects(v.sql('SELECT 1', { timeoutMs: -1 }), InvalidArgumentError, 'a negative timeout', /timeoutMs/)
      await rejects(v.sql(''), InvalidArgumentError, 'an empty query')
      const long = 'SELECT count(*) FROM range(1000000000) a, range(1000) b'
      await rejects(v.sql(long, { timeoutMs: 50 }), StoppedError, 'timeoutMs', /timeoutMs/)
      const ac = new AbortController()
      const running = v.sql(long, { signal: ac.signal })
      setTimeout(() => ac.abort(), 50)
      await rejects(running, StoppedError, 'an aborted signal', /cancelled/)
      // A query waiting for its turn behind a long one: its signal stops the wait, the long one runs on.
      const holder = new AbortController()
      let longSettled = false
      const longRun = v.sql(long, { signal: holder.signal, timeoutMs: 30_000 }).finally(() => (longSettled = true))
      const waiter = new AbortController()
      const queued = v.sql('SELECT 1', { signal: waiter.signal })
      setTimeout(() => waiter.abort(), 50)
      await rejects(queued, StoppedError, 'an aborted signal while waiting for its turn', /cancelled/)
      check(!longSettled, 'the queued query was stopped while the query before it still ran')
      holder.abort()
      await rejects(longRun, StoppedError, 'the long query, aborted after', /cancelled/)
      equal(rows(await v.sql('SELECT count(*) AS n FROM kv')), [{ n: 1 }], 'the vault still answers, unchanged')
      equal(await v.kv().get('k'), 1, 'kv unchanged')
    },
  },
  {
    name: 'databaseClient answers as Observable SQL cells and Inputs.table call it',
    async run(t) {
      const v = await t.open()
      const docs = await v.lists.create('notes', { type: 'document' })
      await docs.appendMany(['alpha', 'beta', 'gamma'])
      const db = v.databaseClient()
      const [text, params] = db.queryTag`SELECT idx, text FROM items.notes WHERE idx >= ${1} ORDER BY idx`
      const result = await db.query(text, params, { signal: new AbortController().signal })
      equal([...result], [{ idx: 1, text: 'beta' }, { idx: 2, text: 'gamma' }], 'query rows')
      equal(result.columns, ['idx', 'text'], 'query columns')
      equal(result.schema.map((c) => c.type), ['number', 'string'], 'query schema types (BIGINT within 2^53 arrives as numbers)')
      equal(await db.queryRow('SELECT max(idx) AS m FROM items.notes'), { m: 2 }, 'queryRow')
      equal(await db.queryRow('SELECT * FROM items.notes WHERE idx > 10'), null, 'queryRow of no rows')
      const stream = await db.queryStream('SELECT idx FROM items.notes ORDER BY idx')
      equal(stream.schema.map((c) => c.name), ['idx'], 'queryStream schema')
      const streamed: unknown[] = []
      for await (const row of stream) streamed.push(row)
      equal(streamed, [{ idx: 0 }, { idx: 1 }, { idx: 2 }], 'queryStream rows')
      equal([...(await db.sql`SELECT text FROM items.notes WHERE text = ${'alpha'}`)], [{ text: 'alpha' }], 'sql tagged template')
      const tables = await db.describeTables()
      for (const name of ['kv', 'lists', 'lineage', 'sessions', 'cells', 'processes', 'columns']) check(tables.some((x) => x.name === name && x.schema === undefined), `describeTables lists ${name}`)
      check(tables.some((x) => x.name === 'notes' && x.schema === 'items'), 'describeTables lists items.notes')
      equal((await db.describeColumns({ table: 'notes', schema: 'items' })).map((c) => [c.name, c.type]), [['idx', 'integer'], ['text', 'string']], 'describeColumns')
      const when = await db.queryRow("SELECT TIMESTAMP '2024-05-06 07:08:09' AS at")
      check(when!.at instanceof Date && (when!.at as Date).getTime() === Date.UTC(2024, 4, 6, 7, 8, 9), 'timestamps are Dates in rows')
    },
  },

  {
    name: 'exportParquet writes a query or a relation as Parquet; importParquet brings it back as a table instance or records',
    async run(t) {
      const v = await t.open()
      const preds = await v.lists.create('preds', { type: 'record', fields: ['model', 'score'] })
      await preds.appendMany([{ model: 'rf', score: 0.5 }, { model: 'svm', score: 0.75 }])
      const bytes = await v.exportParquet('SELECT model, score * 2 AS doubled FROM items.preds ORDER BY model')
      equal(Array.from(bytes.subarray(0, 4)), [0x50, 0x41, 0x52, 0x31], 'a Parquet file (PAR1)')
      const r = await v.importParquet('copied', bytes)
      equal(r.rows, 2, 'rows imported')
      const { table } = await v.tables.get('copied')
      equal(table.toArray().map((row) => row.toJSON()), [{ model: 'rf', doubled: 1 }, { model: 'svm', doubled: 1.5 }], 'the instance holds the query result')
      await v.importParquet('again', await v.exportParquet('items."preds"'), { into: 'records' })
      equal(await (await v.lists.get('again')).slice(0), [{ idx: 0, model: 'rf', score: 0.5 }, { idx: 1, model: 'svm', score: 0.75 }], 'a relation exported whole (its idx column too), imported as records')
      await rejects(v.exportParquet('items."missing"'), t.lib.NotFoundError, 'an unknown relation')
    },
  },

  {
    name: 'relations of versioned tables (latest instance, any instance by id) and of the experiment store',
    async run(t) {
      const v = await t.open()
      equal(rows(await v.sql('SELECT count(*) AS n FROM predictions')), [{ n: 0 }], 'the store relations exist before the store is used')
      await v.tables.create('scores')
      const first = await v.tables.write('scores', { id: [1, 2], score: [0.5, 0.25], tag: ['a', 'b'] }, { dtypes: { id: 'i32' } })
      const second = await v.tables.write('scores', { id: [1, 2, 3], score: [0.75, 0.5, 0.125], tag: ['a', 'b', 'c'] }, { dtypes: { id: 'i32' } })
      equal(rows(await v.sql('SELECT id, score, tag FROM tables.scores ORDER BY id')), [
        { id: 1, score: 0.75, tag: 'a' }, { id: 2, score: 0.5, tag: 'b' }, { id: 3, score: 0.125, tag: 'c' },
      ], 'tables."<table>" is the latest instance')
      equal(rows(await v.sql(`SELECT sum(score) AS s FROM instances."${first.instanceId}"`)), [{ s: 0.75 }], 'instances."<id>" is any instance')
      equal(rows(await v.sql("SELECT instance_id FROM table_instances WHERE table_name = 'scores' ORDER BY materialized_at, instance_id")).length, 2, 'table_instances lists both')
      equal(rows(await v.sql('SELECT name, latest_instance FROM tables')), [{ name: 'scores', latest_instance: second.instanceId }], 'tables lists the latest')
      const s = v.store
      const runId = await s.beginRun('sweep', { cv: 2 }, [])
      const pid = await s.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'wheat' })
      const chainId = await s.saveChain(pid, { steps: [], modelStepIdx: 0, modelClass: 'PLS', foldArtifacts: {} })
      for (const [model, val] of [['PLS', 0.3], ['RF', 0.2], ['PLS', 0.1]] as const) {
        await s.savePrediction({ pipelineId: pid, chainId, datasetName: 'wheat', modelName: `${model}-${val}`, modelClass: model, foldId: 'f0', partition: 'val', valScore: val, metric: 'rmse' })
      }
      equal(rows(await v.sql('SELECT model_class, min(val_score) AS best, count(*) AS n FROM predictions GROUP BY 1 ORDER BY 1')), [
        { model_class: 'PLS', best: 0.1, n: 2 }, { model_class: 'RF', best: 0.2, n: 1 },
      ], 'predictions, grouped')
      equal(rows(await v.sql('SELECT r.name, count(*) AS n FROM runs r JOIN predictions p USING (run_id) GROUP BY 1')), [{ name: 'sweep', n: 3 }], 'runs join predictions')
    },
  },
]
