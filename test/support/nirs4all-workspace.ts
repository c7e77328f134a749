// Builds a small nirs4all workspace the way nirs4all lays it out (SEMANTICS.md §4, store_schema.py
// schema version 5): store.sqlite written by better-sqlite3, arrays/<dataset>.parquet written by
// native DuckDB with zstd (as polars/pyarrow write them), artifacts/<sha[:2]>/<sha256>.<ext>.
import Database from 'better-sqlite3'
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { duckdbRun } from './duckdb-reader.js'

export const NIRS4ALL_DDL = `
CREATE TABLE projects (project_id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT DEFAULT '', color TEXT DEFAULT '#14b8a6', created_at TEXT, updated_at TEXT);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT, datasets TEXT, status TEXT DEFAULT 'running', created_at TEXT, completed_at TEXT, summary TEXT, error TEXT, project_id TEXT REFERENCES projects(project_id));
CREATE TABLE pipelines (pipeline_id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(run_id), name TEXT NOT NULL, expanded_config TEXT, generator_choices TEXT, dataset_name TEXT NOT NULL, dataset_hash TEXT, status TEXT DEFAULT 'running', created_at TEXT, completed_at TEXT, best_val REAL, best_test REAL, metric TEXT, duration_ms INTEGER, error TEXT);
CREATE TABLE chains (chain_id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL REFERENCES pipelines(pipeline_id), steps TEXT NOT NULL, model_step_idx INTEGER NOT NULL, model_class TEXT NOT NULL, preprocessings TEXT DEFAULT '', fold_strategy TEXT DEFAULT 'per_fold', fold_artifacts TEXT, shared_artifacts TEXT, branch_path TEXT, source_index INTEGER, model_name TEXT, metric TEXT, task_type TEXT, best_params TEXT, dataset_name TEXT, cv_val_score REAL, cv_test_score REAL, cv_train_score REAL, cv_fold_count INTEGER DEFAULT 0, cv_scores TEXT, final_test_score REAL, final_train_score REAL, final_scores TEXT, created_at TEXT);
CREATE TABLE predictions (prediction_id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL REFERENCES pipelines(pipeline_id), chain_id TEXT REFERENCES chains(chain_id), dataset_name TEXT NOT NULL, model_name TEXT NOT NULL, model_class TEXT NOT NULL, fold_id TEXT NOT NULL, partition TEXT NOT NULL, val_score REAL, test_score REAL, train_score REAL, metric TEXT NOT NULL, task_type TEXT NOT NULL, n_samples INTEGER, n_features INTEGER, scores TEXT, best_params TEXT, preprocessings TEXT DEFAULT '', branch_id INTEGER, branch_name TEXT, exclusion_count INTEGER DEFAULT 0, exclusion_rate REAL DEFAULT 0.0, refit_context TEXT DEFAULT NULL, created_at TEXT);
CREATE TABLE artifacts (artifact_id TEXT PRIMARY KEY, artifact_path TEXT NOT NULL, content_hash TEXT NOT NULL, operator_class TEXT, artifact_type TEXT, format TEXT DEFAULT 'joblib', size_bytes INTEGER, ref_count INTEGER DEFAULT 1, chain_path_hash TEXT, input_data_hash TEXT, dataset_hash TEXT, created_at TEXT);
CREATE TABLE logs (log_id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL REFERENCES pipelines(pipeline_id), step_idx INTEGER NOT NULL, operator_class TEXT, event TEXT NOT NULL, duration_ms INTEGER, message TEXT, details TEXT, level TEXT DEFAULT 'info', created_at TEXT);
`

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** One row of a Parquet sidecar, as nirs4all's ArrayStore writes it. */
export interface SidecarRow {
  prediction_id: string
  dataset_name: string
  model_name?: string
  fold_id?: string
  partition?: string
  metric?: string
  val_score?: number | null
  task_type?: string
  y_true?: number[] | null
  y_pred?: number[] | null
  y_proba?: number[] | null
  y_proba_shape?: number[] | null
  sample_indices?: number[] | null
  weights?: number[] | null
}

const sqlList = (v: number[] | null | undefined, type: string) => (v === null || v === undefined ? `NULL::${type}[]` : `[${v.map((x) => (Number.isInteger(x) && type === 'DOUBLE' ? `${x}.0` : String(x))).join(', ')}]::${type}[]`)
const sqlText = (v: string | undefined) => (v === undefined ? "''" : `'${v.replaceAll("'", "''")}'`)

/** Writes `arrays/<file>.parquet` with nirs4all's sidecar schema, zstd level 3, through native DuckDB. */
export async function writeSidecar(folder: string, file: string, rows: SidecarRow[]): Promise<void> {
  mkdirSync(join(folder, 'arrays'), { recursive: true })
  const values = rows.map((r) => `(${[sqlText(r.prediction_id), sqlText(r.dataset_name), sqlText(r.model_name), sqlText(r.fold_id), sqlText(r.partition), sqlText(r.metric), r.val_score ?? 'NULL', sqlText(r.task_type),
    sqlList(r.y_true, 'DOUBLE'), sqlList(r.y_pred, 'DOUBLE'), sqlList(r.y_proba, 'DOUBLE'), sqlList(r.y_proba_shape, 'INTEGER'), sqlList(r.sample_indices, 'INTEGER'), sqlList(r.weights, 'DOUBLE')].join(', ')})`)
  const columns = 'prediction_id, dataset_name, model_name, fold_id, partition, metric, val_score, task_type, y_true, y_pred, y_proba, y_proba_shape, sample_indices, weights'
  const path = join(folder, 'arrays', `${file}.parquet`).replaceAll("'", "''")
  await duckdbRun(`COPY (SELECT * FROM (VALUES ${values.join(', ')}) AS t(${columns})) TO '${path}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3)`)
}

/** Writes an artifact file where nirs4all keeps it; returns its row's path and hash. */
export function writeArtifact(folder: string, bytes: Uint8Array, ext: string): { path: string; hash: string } {
  const hash = sha256(bytes)
  mkdirSync(join(folder, 'artifacts', hash.slice(0, 2)), { recursive: true })
  writeFileSync(join(folder, 'artifacts', hash.slice(0, 2), `${hash}.${ext}`), bytes)
  return { path: `${hash.slice(0, 2)}/${hash}.${ext}`, hash }
}

/** A new store.sqlite with nirs4all's tables, stamped with `version`. The caller inserts and closes. */
export function createStore(folder: string, version = 5): Database.Database {
  mkdirSync(folder, { recursive: true })
  const db = new Database(join(folder, 'store.sqlite'))
  db.pragma('journal_mode = WAL')
  db.exec(NIRS4ALL_DDL)
  db.pragma(`user_version = ${version}`)
  return db
}

/** Inserts a row given as an object. */
export function insert(db: Database.Database, table: string, row: Record<string, unknown>): void {
  const cols = Object.keys(row)
  const values = cols.map((c) => {
    const v = row[c]
    return v !== null && typeof v === 'object' ? JSON.stringify(v) : typeof v === 'boolean' ? Number(v) : v
  })
  db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`).run(...values)
}
