// Node experiment-store benchmark (issue 11): the built package on the fs adapter, side by side
// with what nirs4all does (scalars in SQLite through better-sqlite3, arrays kept in memory and
// written once to Parquet at the end, here with parquet-wasm, zstd) and with native DuckDB
// (@duckdb/node-api) for the top-N query. Saves: two runs each, alternated; queries: medians.
//
// Sizes: 100k predictions × 2 × 200 floats (320 MB of arrays) saved, 10k artifacts; the top-N
// query and the compaction run over 200k rows by default, because filling a store with 1M rows takes
// minutes (sql.js inserts ~3-5k predictions per second with the store's indexes): set
// STORE_BENCH_FULL=1 for the 1M. STORE_BENCH_SCALE (default 1) scales everything down for a
// quick look (e.g. 0.05).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { DuckDBInstance } from '@duckdb/node-api'
import { Field, Float64, List, Table, Utf8, makeData, makeVector, tableToIPC, vectorFromArray } from 'apache-arrow'
import { Compression, Table as ParquetTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm/node'
import { deleteVault, openVault } from '../../dist/node/node.js'
import { median, rng } from '../lib/stats.mjs'

const SCALE = Number(process.env.STORE_BENCH_SCALE ?? 1)
const SAVE_N = Math.round(100_000 * SCALE)
const SAVE_LEN = 200
// nirs4all flushes a pipeline's arrays at once: one commit per pipeline of ~1000 predictions (e.g.
// 5 folds × 3 partitions × a sweep of models). Smaller commits of 100 are measured too.
const SAVE_BATCH = 1000
const SMALL_BATCH = 100
const LARGE = process.env.STORE_BENCH_FULL === '1' ? 1_000_000 : 200_000
const TOP_N = Math.round(LARGE * SCALE)
const ARTIFACTS = Math.round(10_000 * SCALE)
const COMPACT_N = Math.round(LARGE * SCALE)
const CLASSES = ['PLSRegression', 'RandomForestRegressor', 'SVR', 'XGBRegressor', 'Ridge', 'Lasso', 'KNeighborsRegressor', 'MLPRegressor', 'GaussianProcess', 'ElasticNet']

/** The arrays of prediction i: 200 floats each, different per prediction (no free compression). */
function arrays(i, len) {
  const yTrue = new Float64Array(len)
  const yPred = new Float64Array(len)
  for (let j = 0; j < len; j++) {
    yTrue[j] = ((i * 7919 + j * 104729) % 100003) / 1000
    yPred[j] = yTrue[j] + ((j % 13) - 6) / 100
  }
  return { yTrue, yPred }
}

function record(scaffold, i, extra = {}) {
  return {
    pipelineId: scaffold.pipelineId, chainId: scaffold.chainId, datasetName: 'wheat', modelName: `m${i % 50}`, modelClass: CLASSES[i % CLASSES.length],
    foldId: `fold_${i}`, partition: i % 3 === 0 ? 'test' : 'val', valScore: ((i * 2654435761) % 1000003) / 1000003, testScore: (i % 997) / 997,
    metric: 'rmse', taskType: 'regression', nSamples: SAVE_LEN, nFeatures: 1000, ...extra,
  }
}

async function scaffold(store) {
  const runId = await store.beginRun('bench', { n: 1 }, [{ name: 'wheat' }])
  const pipelineId = await store.beginPipeline(runId, { name: 'p', expandedConfig: {}, datasetName: 'wheat' })
  const chainId = await store.saveChain(pipelineId, { steps: [], modelStepIdx: null, modelClass: 'PLS' })
  return { runId, pipelineId, chainId }
}

/** nirs4all on Node: better-sqlite3 (WAL, its default synchronous FULL) per batch, one Parquet at the end. */
function nirs4allSave(dir, batchSize) {
  const db = new Database(join(dir, 'store.sqlite'))
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  db.exec(`CREATE TABLE predictions (prediction_id TEXT PRIMARY KEY, pipeline_id TEXT, chain_id TEXT, dataset_name TEXT, model_name TEXT, model_class TEXT, fold_id TEXT,
    partition TEXT, val_score REAL, test_score REAL, metric TEXT, task_type TEXT, n_samples INTEGER, n_features INTEGER, created_at TEXT)`)
  const insert = db.prepare('INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
  const ids = []
  const yTrue = new Float64Array(SAVE_N * SAVE_LEN)
  const yPred = new Float64Array(SAVE_N * SAVE_LEN)
  const s = { pipelineId: 'p', chainId: 'c' }
  for (let b = 0; b < SAVE_N; b += batchSize) {
    db.transaction(() => {
      for (let i = b; i < Math.min(SAVE_N, b + batchSize); i++) {
        const r = record(s, i)
        const id = crypto.randomUUID()
        ids.push(id)
        insert.run(id, r.pipelineId, r.chainId, r.datasetName, r.modelName, r.modelClass, r.foldId, r.partition, r.valScore, r.testScore, r.metric, r.taskType, r.nSamples, r.nFeatures, new Date().toISOString())
        const a = arrays(i, SAVE_LEN)
        yTrue.set(a.yTrue, i * SAVE_LEN)
        yPred.set(a.yPred, i * SAVE_LEN)
      }
    })()
  }
  const offsets = Int32Array.from({ length: SAVE_N + 1 }, (_, i) => i * SAVE_LEN)
  const list = (values) => makeVector(makeData({ type: new List(new Field('item', new Float64(), false)), length: SAVE_N, valueOffsets: offsets, child: makeData({ type: new Float64(), length: values.length, data: values }) }))
  const table = new Table({ prediction_id: vectorFromArray(ids, new Utf8()), y_true: list(yTrue), y_pred: list(yPred) })
  const parquet = writeParquet(ParquetTable.fromIPCStream(tableToIPC(table, 'stream')), new WriterPropertiesBuilder().setCompression(Compression.ZSTD).build())
  db.close()
  return parquet.byteLength
}

async function time(fn) {
  const t = performance.now()
  const out = await fn()
  return [performance.now() - t, out]
}

export default async function runNodeStoreBench() {
  const dir = mkdtempSync(join(tmpdir(), 'labvault-bench-store-'))
  const log = (m) => console.log(`  ${m}`)
  const results = {}
  const checks = []
  try {
    // 1. Saving predictions with arrays, batched as a training loop would.
    const labSave = async (batchSize) => {
      const [ms] = await time(async () => {
        const v = await openVault('save', { path: dir })
        const s = await scaffold(v.store)
        for (let b = 0; b < SAVE_N; b += batchSize) {
          const batch = []
          for (let i = b; i < Math.min(SAVE_N, b + batchSize); i++) batch.push(record(s, i, { arrays: arrays(i, SAVE_LEN) }))
          await v.store.savePredictions(batch)
        }
        await v.close()
      })
      await deleteVault('save', { path: dir })
      return ms
    }
    const baseSave = async (batchSize) => {
      const baseDir = mkdtempSync(join(dir, 'nirs4all-'))
      const [ms, parquetBytes] = await time(() => nirs4allSave(baseDir, batchSize))
      rmSync(baseDir, { recursive: true, force: true })
      log(`better-sqlite3 + one Parquet (parquet-wasm), commits of ${batchSize}: ${ms.toFixed(0)} ms (${(parquetBytes / 2 ** 20).toFixed(0)} MiB)`)
      return ms
    }
    // Alternated, twice each: on a shared machine the load changes from one minute to the next.
    for (const batchSize of [SAVE_BATCH, SMALL_BATCH]) {
      const labRuns = []
      const baseRuns = []
      for (let round = 0; round < 2; round++) {
        labRuns.push(await labSave(batchSize))
        log(`labvault save ${SAVE_N} predictions, commits of ${batchSize}: ${labRuns[round].toFixed(0)} ms`)
        baseRuns.push(await baseSave(batchSize))
      }
      const labMs = median(labRuns)
      const baseMs = median(baseRuns)
      results[`labvault savePredictions ×${SAVE_N / 1000}k (2×${SAVE_LEN} floats, commits of ${batchSize}, strict)`] = { median: labMs, runs: labRuns }
      results[`better-sqlite3 commits of ${batchSize} + one Parquet write at the end (nirs4all)`] = { median: baseMs, runs: baseRuns }
      const ratio = labMs / baseMs
      const figure = `save ${SAVE_N / 1000}k predictions with arrays, commits of ${batchSize}: labvault / better-sqlite3 + Parquet`
      checks.push(batchSize === SAVE_BATCH ? { figure, value: ratio, bar: '≤ 2', pass: ratio <= 2 } : { figure, value: ratio, bar: '(reported)', pass: true })
      checks.push({ figure: `predictions saved per second (labvault, commits of ${batchSize}, each crash-safe)`, value: SAVE_N / (labMs / 1000), bar: '(reported)', pass: true })
    }

    // 2. topPredictions(10, groupBy modelClass) over TOP_N predictions vs native DuckDB.
    const v = await openVault('top', { storage: 'memory' })
    const s = await scaffold(v.store)
    const [fillMs] = await time(async () => {
      for (let b = 0; b < TOP_N; b += 10_000) await v.store.savePredictions(Array.from({ length: Math.min(10_000, TOP_N - b) }, (_, k) => record(s, b + k)))
    })
    log(`labvault: ${TOP_N} predictions saved in ${fillMs.toFixed(0)} ms`)
    const labTimes = []
    let labRows = 0
    for (let r = 0; r < 6; r++) {
      const [ms, t] = await time(() => v.store.topPredictions(10, { groupBy: 'modelClass' }))
      if (r > 0) labTimes.push(ms)
      labRows = t.numRows
    }
    const duck = await DuckDBInstance.create(':memory:')
    const con = await duck.connect()
    await con.run('CREATE TABLE predictions (prediction_id VARCHAR, model_class VARCHAR, partition VARCHAR, val_score DOUBLE, test_score DOUBLE, dataset_name VARCHAR, fold_id VARCHAR)')
    const app = await con.createAppender('predictions')
    for (let i = 0; i < TOP_N; i++) {
      const r = record(s, i)
      app.appendVarchar(`id-${i}`)
      app.appendVarchar(r.modelClass)
      app.appendVarchar(r.partition)
      app.appendDouble(r.valScore)
      app.appendDouble(r.testScore)
      app.appendVarchar(r.datasetName)
      app.appendVarchar(r.foldId)
      app.endRow()
    }
    app.closeSync()
    const duckTimes = []
    let duckRows = 0
    const sql = `SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY model_class ORDER BY val_score ASC, prediction_id) AS rn FROM predictions
      WHERE partition = 'val' AND val_score IS NOT NULL) WHERE rn <= 10 ORDER BY model_class, rn`
    for (let r = 0; r < 6; r++) {
      const [ms, res] = await time(() => con.runAndReadAll(sql))
      if (r > 0) duckTimes.push(ms)
      duckRows = res.currentRowCount
    }
    if (labRows !== duckRows) throw new Error(`top-N: labvault gave ${labRows} rows, DuckDB ${duckRows}`)
    // queryPredictions of 100k rows as Arrow (every column), beside native DuckDB reading the same
    // rows (its fewer columns) into JS: the cost of a large listing.
    const QUERY_N = Math.min(100_000, TOP_N)
    const queryTimes = []
    const duckQueryTimes = []
    for (let r = 0; r < 4; r++) {
      const [ms, t] = await time(() => v.store.queryPredictions({ limit: QUERY_N }))
      if (t.numRows !== QUERY_N) throw new Error(`queryPredictions gave ${t.numRows} rows, not ${QUERY_N}`)
      if (r > 0) queryTimes.push(ms)
      const [dms] = await time(async () => (await con.runAndReadAll(`SELECT * FROM predictions LIMIT ${QUERY_N}`)).getRowObjects())
      if (r > 0) duckQueryTimes.push(dms)
    }
    results[`labvault queryPredictions of ${QUERY_N / 1000}k predictions (Arrow, every column)`] = { median: median(queryTimes), runs: queryTimes }
    results[`native DuckDB, ${QUERY_N / 1000}k rows of its 7 columns read as JS objects`] = { median: median(duckQueryTimes), runs: duckQueryTimes }
    con.closeSync()
    await v.close()
    await deleteVault('top', { storage: 'memory' })
    results[`labvault topPredictions(10, groupBy modelClass) over ${TOP_N / 1e6}M`] = { median: median(labTimes), runs: labTimes }
    results[`native DuckDB window query, same rows`] = { median: median(duckTimes), runs: duckTimes }
    const topRatio = median(labTimes) / median(duckTimes)
    checks.push({ figure: `topPredictions over ${TOP_N / 1e6}M: labvault / native DuckDB (Node)`, value: topRatio, bar: '≤ 3', pass: topRatio <= 3 })

    // 3. saveArtifact dedup: ARTIFACTS saves, half of them bytes seen before.
    const va = await openVault('artifacts', { path: dir })
    const random = rng(7)
    const distinct = Array.from({ length: ARTIFACTS / 2 }, () => Uint8Array.from({ length: 4096 }, () => Math.floor(random() * 256)))
    const [artMs] = await time(async () => {
      for (let i = 0; i < ARTIFACTS; i++) await va.store.saveArtifact(distinct[i % distinct.length], { operatorClass: 'StandardScaler', artifactType: 'transformer', format: 'joblib' })
    })
    const listed = await va.store.listArtifacts()
    if (listed.length !== distinct.length || listed.some((a) => a.refCount !== 2)) throw new Error('artifact dedup went wrong')
    await va.close()
    results[`labvault saveArtifact ×${ARTIFACTS / 1000}k (4 KiB, half duplicates, awaited one by one)`] = { median: artMs, runs: [artMs] }
    checks.push({ figure: 'artifacts saved per second (half deduplicated)', value: ARTIFACTS / (artMs / 1000), bar: '(reported)', pass: true })

    // 4. Compact a dataset of COMPACT_N array rows (10 + 10 floats) plus a quarter more, tombstoned.
    const vc = await openVault('compact', { path: dir })
    const sc = await scaffold(vc.store)
    const ids = []
    for (let b = 0; b < COMPACT_N; b += 10_000) {
      ids.push(...(await vc.store.savePredictions(Array.from({ length: Math.min(10_000, COMPACT_N - b) }, (_, k) => record(sc, b + k, { arrays: arrays(b + k, 10) })))))
    }
    // Saving a quarter again with new arrays (an upsert) turns their old array rows into tombstones.
    for (let b = 0; b < COMPACT_N; b += 40_000) {
      const again = []
      for (let i = b; i < Math.min(COMPACT_N, b + 40_000); i += 4) again.push(record(sc, i, { arrays: arrays(i + 1, 10) }))
      await vc.store.savePredictions(again)
    }
    const [compactMs, report] = await time(() => vc.store.arrays.compact({ datasetName: 'wheat' }))
    const r = report.wheat
    log(`compact: ${r.rowsBefore} → ${r.rowsAfter} rows, ${(r.bytesBefore / 2 ** 20).toFixed(0)} → ${(r.bytesAfter / 2 ** 20).toFixed(0)} MiB in ${compactMs.toFixed(0)} ms`)
    await vc.close()
    results[`labvault arrays.compact of ${COMPACT_N / 1e6}M array rows (+ a quarter more tombstoned)`] = { median: compactMs, runs: [compactMs] }
    checks.push({ figure: `compacted array rows per second (${COMPACT_N / 1e6}M rows)`, value: r.rowsBefore / (compactMs / 1000), bar: '(reported)', pass: true })
    return { environment: 'node', results, checks }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
