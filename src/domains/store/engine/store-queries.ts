import { InvalidArgumentError } from '../../../errors/errors.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import { GROUP_COLUMNS, METRIC_COLUMNS, type GroupColumn, type MetricColumn, type PredictionFilter, type TopOptions } from '../shared/store-types.js'
import { rowsToIpc, type ResultColumn } from './arrow-ipc.js'
import { PREDICTION_COLUMNS, PREDICTION_FIELDS, checkId, checkText, optInt, optionsOf } from './store-rows.js'

// The store's queries returning Arrow (IPC bytes; the client reads them with tableFromIPC). No SQL
// is ever built from a caller's string: filters are bound parameters, and the only column names a
// caller picks (a metric, a group) are looked up in fixed tables of known columns.

const PREDICTION_RESULT: ResultColumn[] = PREDICTION_FIELDS.map(([, name, type]) => ({ name, type }))

/** SQL column of each column `topPredictions` may rank or group by (the only names a caller picks). */
const SQL_COLUMN: Record<MetricColumn | GroupColumn, string> = {
  valScore: 'val_score', testScore: 'test_score', trainScore: 'train_score',
  modelClass: 'model_class', modelName: 'model_name', datasetName: 'dataset_name', pipelineId: 'pipeline_id', chainId: 'chain_id',
  foldId: 'fold_id', partition: 'partition', branchId: 'branch_id', branchName: 'branch_name', taskType: 'task_type',
  preprocessings: 'preprocessings', metric: 'metric',
}

function limitOf(v: unknown, what: string, fallback: number): number {
  if (v === undefined || v === null) return fallback
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`${what} must be a whole number ≥ 0, got ${String(v)}`)
  return v
}

export const RUN_RESULT: ResultColumn[] = [
  { name: 'runId', type: 'utf8' }, { name: 'name', type: 'utf8' }, { name: 'status', type: 'utf8' }, { name: 'config', type: 'json' },
  { name: 'datasets', type: 'json' }, { name: 'summary', type: 'json' }, { name: 'error', type: 'utf8' }, { name: 'projectId', type: 'utf8' },
  { name: 'createdAt', type: 'date' }, { name: 'completedAt', type: 'date' },
]

/** Runs, newest first: status, a dataset name among the run's datasets, limit (100) and offset. */
export function listRuns(db: SqliteDatabase, filter: unknown): Uint8Array {
  const f = optionsOf<{ status: string; dataset: string; limit: number; offset: number }>(filter, 'the filter', ['status', 'dataset', 'limit', 'offset'])
  const where: string[] = []
  const params: SqlValue[] = []
  if (f.status !== undefined) {
    if (f.status !== 'running' && f.status !== 'completed' && f.status !== 'failed') throw new InvalidArgumentError(`status must be running, completed or failed, got ${String(f.status)}`)
    where.push('status = ?')
    params.push(f.status)
  }
  if (f.dataset !== undefined) {
    checkText(f.dataset, 'dataset')
    // A dataset entry is an object with a name, or the name itself.
    where.push(`EXISTS (SELECT 1 FROM json_each(datasets) j WHERE (j.type = 'object' AND json_extract(j.value, '$.name') = ?) OR (j.type = 'text' AND j.value = ?))`)
    params.push(f.dataset, f.dataset)
  }
  params.push(limitOf(f.limit, 'limit', 100), limitOf(f.offset, 'offset', 0))
  const sql = `SELECT run_id, name, status, config, datasets, summary, error, project_id, created_at, completed_at FROM store_runs
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, run_id LIMIT ? OFFSET ?`
  return rowsToIpc(RUN_RESULT, db.all(sql, params))
}

const PIPELINE_RESULT: ResultColumn[] = [
  { name: 'pipelineId', type: 'utf8' }, { name: 'runId', type: 'utf8' }, { name: 'name', type: 'utf8' }, { name: 'status', type: 'utf8' },
  { name: 'expandedConfig', type: 'json' }, { name: 'generatorChoices', type: 'json' }, { name: 'datasetName', type: 'utf8' },
  { name: 'datasetHash', type: 'utf8' }, { name: 'bestVal', type: 'f64' }, { name: 'bestTest', type: 'f64' }, { name: 'metric', type: 'utf8' },
  { name: 'durationMs', type: 'f64' }, { name: 'error', type: 'utf8' }, { name: 'createdAt', type: 'date' }, { name: 'completedAt', type: 'date' },
]

/** Pipelines, oldest first, of a run and/or a dataset. */
export function listPipelines(db: SqliteDatabase, filter: unknown): Uint8Array {
  const f = optionsOf<{ runId: string; datasetName: string }>(filter, 'the filter', ['runId', 'datasetName'])
  const where: string[] = []
  const params: SqlValue[] = []
  if (f.runId !== undefined) {
    checkId(f.runId, 'runId')
    where.push('run_id = ?')
    params.push(f.runId)
  }
  if (f.datasetName !== undefined) {
    checkText(f.datasetName, 'datasetName')
    where.push('dataset_name = ?')
    params.push(f.datasetName)
  }
  const sql = `SELECT pipeline_id, run_id, name, status, expanded_config, generator_choices, dataset_name, dataset_hash, best_val, best_test, metric, duration_ms, error, created_at, completed_at
    FROM store_pipelines ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, pipeline_id`
  return rowsToIpc(PIPELINE_RESULT, db.all(sql, params))
}

const CHAIN_RESULT: ResultColumn[] = [
  { name: 'chainId', type: 'utf8' }, { name: 'pipelineId', type: 'utf8' }, { name: 'runId', type: 'utf8' }, { name: 'datasetName', type: 'utf8' },
  { name: 'modelClass', type: 'utf8' }, { name: 'preprocessings', type: 'utf8' }, { name: 'foldStrategy', type: 'utf8' }, { name: 'modelStepIdx', type: 'i32' },
  { name: 'steps', type: 'json' }, { name: 'foldArtifacts', type: 'json' }, { name: 'sharedArtifacts', type: 'json' }, { name: 'branchPath', type: 'json' },
  { name: 'sourceIndex', type: 'i32' }, { name: 'createdAt', type: 'date' },
  { name: 'foldCount', type: 'i32' }, { name: 'cvValScore', type: 'f64' }, { name: 'cvTestScore', type: 'f64' }, { name: 'cvTrainScore', type: 'f64' },
  { name: 'finalTestScore', type: 'f64' }, { name: 'predictionCount', type: 'i32' },
]

/**
 * Chains with their CV averages: over the chain's fold predictions (fold ids other than
 * `fold_final`, `final` and `avg`), the mean val score on partition `val`, test score on `test`,
 * train score on `train`; the refit model's test score; counts of folds and predictions.
 */
const CHAIN_SUMMARY_SQL = `
  SELECT c.chain_id, c.pipeline_id, pl.run_id, pl.dataset_name, c.model_class, c.preprocessings, c.fold_strategy, c.model_step_idx,
    c.steps, c.fold_artifacts, c.shared_artifacts, c.branch_path, c.source_index, c.created_at,
    (SELECT count(DISTINCT fold_id) FROM store_predictions p WHERE p.chain_id = c.chain_id AND p.fold_id NOT IN ('fold_final', 'final', 'avg', 'w_avg')),
    (SELECT avg(val_score) FROM store_predictions p WHERE p.chain_id = c.chain_id AND p.partition = 'val' AND p.fold_id NOT IN ('fold_final', 'final', 'avg', 'w_avg')),
    (SELECT avg(test_score) FROM store_predictions p WHERE p.chain_id = c.chain_id AND p.partition = 'test' AND p.fold_id NOT IN ('fold_final', 'final', 'avg', 'w_avg')),
    (SELECT avg(train_score) FROM store_predictions p WHERE p.chain_id = c.chain_id AND p.partition = 'train' AND p.fold_id NOT IN ('fold_final', 'final', 'avg', 'w_avg')),
    (SELECT test_score FROM store_predictions p WHERE p.chain_id = c.chain_id AND p.partition = 'test' AND p.fold_id IN ('fold_final', 'final') LIMIT 1),
    (SELECT count(*) FROM store_predictions p WHERE p.chain_id = c.chain_id)
  FROM store_chains c LEFT JOIN store_pipelines pl ON pl.pipeline_id = c.pipeline_id`

/** The chains of one pipeline, oldest first, with their CV averages. */
export function chainsForPipeline(db: SqliteDatabase, pipelineId: string): Uint8Array {
  return rowsToIpc(CHAIN_RESULT, db.all(`${CHAIN_SUMMARY_SQL} WHERE c.pipeline_id = ? ORDER BY c.created_at, c.chain_id`, [pipelineId]))
}

/** Chain summaries over the whole store or a run, pipeline, dataset or model class (a LIKE pattern). */
export function chainSummaries(db: SqliteDatabase, filter: unknown): Uint8Array {
  const f = optionsOf<{ runId: string; pipelineId: string; datasetName: string; modelClass: string }>(filter, 'the filter', ['runId', 'pipelineId', 'datasetName', 'modelClass'])
  const where: string[] = []
  const params: SqlValue[] = []
  if (f.runId !== undefined) (checkId(f.runId, 'runId'), where.push('pl.run_id = ?'), params.push(f.runId))
  if (f.pipelineId !== undefined) (checkId(f.pipelineId, 'pipelineId'), where.push('c.pipeline_id = ?'), params.push(f.pipelineId))
  if (f.datasetName !== undefined) (checkText(f.datasetName, 'datasetName'), where.push('pl.dataset_name = ?'), params.push(f.datasetName))
  if (f.modelClass !== undefined) (checkText(f.modelClass, 'modelClass'), where.push('c.model_class LIKE ?'), params.push(f.modelClass))
  return rowsToIpc(CHAIN_RESULT, db.all(`${CHAIN_SUMMARY_SQL} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY c.created_at, c.chain_id`, params))
}

/** The WHERE of a prediction filter (AND of the filters given), with its parameters. */
function predictionWhere(f: Partial<PredictionFilter>): [string, SqlValue[]] {
  const where: string[] = []
  const params: SqlValue[] = []
  const eq = (value: unknown, column: string, what: string, id = false) => {
    if (value === undefined) return
    if (id) checkId(value, what)
    else checkText(value, what, true)
    where.push(`${column} = ?`)
    params.push(value as string)
  }
  eq(f.datasetName, 'dataset_name', 'datasetName')
  eq(f.partition, 'partition', 'partition')
  eq(f.foldId, 'fold_id', 'foldId')
  eq(f.pipelineId, 'pipeline_id', 'pipelineId', true)
  eq(f.chainId, 'chain_id', 'chainId', true)
  eq(f.runId, 'run_id', 'runId', true)
  eq(f.taskType, 'task_type', 'taskType')
  if (f.modelClass !== undefined) {
    checkText(f.modelClass, 'modelClass', true)
    where.push('model_class LIKE ?')
    params.push(f.modelClass)
  }
  if (f.branchId !== undefined) {
    where.push('branch_id IS ?')
    params.push(optInt(f.branchId, 'branchId'))
  }
  return [where.length ? `WHERE ${where.join(' AND ')}` : '', params]
}

/** Predictions matching every filter given, oldest first, with limit and offset. */
export function queryPredictions(db: SqliteDatabase, filter: unknown): Uint8Array {
  const f = optionsOf<PredictionFilter>(filter, 'the filter')
  for (const k of Object.keys(f)) if (!FILTER_KEYS.has(k)) throw new InvalidArgumentError(`unknown prediction filter "${k}"`)
  const [where, params] = predictionWhere(f)
  const limit = f.limit === undefined ? -1 : limitOf(f.limit, 'limit', 0)
  params.push(limit, limitOf(f.offset, 'offset', 0))
  return rowsToIpc(PREDICTION_RESULT, db.all(`SELECT ${PREDICTION_COLUMNS} FROM store_predictions ${where} ORDER BY created_at, prediction_id LIMIT ? OFFSET ?`, params))
}

const FILTER_KEYS = new Set(['datasetName', 'modelClass', 'partition', 'foldId', 'branchId', 'pipelineId', 'chainId', 'runId', 'taskType', 'limit', 'offset'])

/**
 * The best `n` predictions by `metric` (lowest first when `ascending`), only those with a score,
 * within each value of `groupBy` when given (groups in order of their value, NULL last). Each group
 * is an index range scan (partition, model class, val score), so the cost grows with groups × n,
 * not with the number of predictions.
 */
export function topPredictions(db: SqliteDatabase, n: unknown, options: unknown): Uint8Array {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`n must be a whole number ≥ 1, got ${String(n)}`)
  const o = optionsOf<TopOptions>(options, 'the options', ['metric', 'ascending', 'partition', 'datasetName', 'taskType', 'groupBy'])
  const metric = o.metric ?? 'valScore'
  if (!(METRIC_COLUMNS as readonly string[]).includes(metric)) throw new InvalidArgumentError(`Invalid metric column "${String(metric)}": one of ${METRIC_COLUMNS.join(', ')}`)
  if (o.groupBy !== undefined && !(GROUP_COLUMNS as readonly string[]).includes(o.groupBy)) throw new InvalidArgumentError(`Invalid groupBy column "${String(o.groupBy)}": one of ${GROUP_COLUMNS.join(', ')}`)
  const ascending = o.ascending === undefined ? true : o.ascending
  if (typeof ascending !== 'boolean') throw new InvalidArgumentError('ascending must be a boolean')
  const m = SQL_COLUMN[metric]
  const where = [`${m} IS NOT NULL`]
  const params: SqlValue[] = []
  const partition = o.partition === undefined ? 'val' : o.partition
  if (partition !== null) (checkText(partition, 'partition'), where.unshift('partition = ?'), params.push(partition))
  if (o.datasetName !== undefined) (checkText(o.datasetName, 'datasetName'), where.push('dataset_name = ?'), params.push(o.datasetName))
  if (o.taskType !== undefined) (checkText(o.taskType, 'taskType'), where.push('task_type = ?'), params.push(o.taskType))
  const order = `${m} ${ascending ? 'ASC' : 'DESC'}, prediction_id`
  const select = `SELECT ${PREDICTION_COLUMNS} FROM store_predictions WHERE ${where.join(' AND ')}`
  if (o.groupBy === undefined) return rowsToIpc(PREDICTION_RESULT, db.all(`${select} ORDER BY ${order} LIMIT ?`, [...params, n]))
  const g = SQL_COLUMN[o.groupBy]
  // The groups, by skipping from one value to the next through an index (a loose index scan).
  const groups: SqlValue[] = []
  let last: SqlValue | undefined
  const next = `SELECT min(${g}) FROM store_predictions WHERE ${where.join(' AND ')} AND ${g} > ?`
  const first = `SELECT min(${g}) FROM store_predictions WHERE ${where.join(' AND ')} AND ${g} IS NOT NULL`
  for (;;) {
    const v = (last === undefined ? db.get(first, params) : db.get(next, [...params, last]))?.[0] ?? null
    if (v === null) break
    groups.push(v)
    last = v
  }
  const rows: SqlValue[][] = []
  for (const v of groups) rows.push(...db.all(`${select} AND ${g} = ? ORDER BY ${order} LIMIT ?`, [...params, v, n]))
  rows.push(...db.all(`${select} AND ${g} IS NULL ORDER BY ${order} LIMIT ?`, [...params, n]))
  return rowsToIpc(PREDICTION_RESULT, rows)
}
