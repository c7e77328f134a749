import type { DomainSchema } from '../../../engine/context.js'

/**
 * The store's schema version, in `schema_versions` under `store`. A vault whose store is newer is
 * refused at open by the engine (like any domain's newer data), and every store call checks it
 * again; an older one (or a vault made before the store existed) gets the missing tables when it opens.
 */
export const STORE_SCHEMA_VERSION = 1

/**
 * The experiment store's tables (docs/format.md, "Experiment store"). Run → pipelines → chains →
 * predictions; logs hang off pipelines. JSON fields are JSON text; times are ISO 8601 text made in
 * JS. No foreign keys: cascades are done by the engine inside one write, in reverse order.
 *
 * Arrays do not live here: each call that saves arrays writes one columnar segment (an Arrow IPC
 * file) to the blob store, and `store_array_rows` says where each prediction's arrays are; a delete
 * marks its row as a tombstone, compaction rewrites a dataset's segments without them.
 */
export const storeSchema: DomainSchema = {
  // Only the tables garbage collection asks about exist from the start: every table or index costs
  // an image page (16 KiB) in each vault, used or not; the others come with the first store call.
  schema: `
    CREATE TABLE IF NOT EXISTS store_artifacts (
      artifact_id TEXT PRIMARY KEY, operator_class TEXT NOT NULL, artifact_type TEXT NOT NULL, format TEXT NOT NULL,
      size INTEGER NOT NULL, ref_count INTEGER NOT NULL, chain_hash TEXT, data_hash TEXT, dataset_hash TEXT,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS store_array_segments (
      hash TEXT PRIMARY KEY, dataset_name TEXT NOT NULL, rows INTEGER NOT NULL, bytes INTEGER NOT NULL
    );`,
  // Artifacts are blobs named by their SHA-256, which is their id; segments are blobs too.
  blobReferences: ['SELECT artifact_id FROM store_artifacts', 'SELECT hash FROM store_array_segments'],
}

/** The rest of the store's tables and indexes, created (idempotently) by its first call in a vault. */
export const STORE_TABLES = `
    CREATE TABLE IF NOT EXISTS store_runs (
      run_id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, config TEXT, datasets TEXT,
      summary TEXT, error TEXT, project_id TEXT, created_at TEXT NOT NULL, completed_at TEXT
    );
    CREATE INDEX IF NOT EXISTS store_runs_created ON store_runs (created_at);
    CREATE TABLE IF NOT EXISTS store_pipelines (
      pipeline_id TEXT PRIMARY KEY, run_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
      expanded_config TEXT, generator_choices TEXT, dataset_name TEXT NOT NULL, dataset_hash TEXT,
      original_template TEXT, best_val REAL, best_test REAL, metric TEXT, duration_ms REAL, error TEXT,
      created_at TEXT NOT NULL, completed_at TEXT
    );
    CREATE INDEX IF NOT EXISTS store_pipelines_run ON store_pipelines (run_id);
    CREATE TABLE IF NOT EXISTS store_chains (
      chain_id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL, steps TEXT NOT NULL, model_step_idx INTEGER,
      model_class TEXT NOT NULL, preprocessings TEXT NOT NULL, fold_strategy TEXT NOT NULL,
      fold_artifacts TEXT NOT NULL, shared_artifacts TEXT NOT NULL, branch_path TEXT, source_index INTEGER,
      created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS store_chains_pipeline ON store_chains (pipeline_id);
    CREATE TABLE IF NOT EXISTS store_predictions (
      prediction_id TEXT PRIMARY KEY, pipeline_id TEXT NOT NULL, chain_id TEXT NOT NULL, run_id TEXT NOT NULL,
      dataset_name TEXT NOT NULL, model_name TEXT NOT NULL, model_class TEXT NOT NULL, fold_id TEXT NOT NULL,
      partition TEXT NOT NULL, val_score REAL, test_score REAL, train_score REAL, metric TEXT, task_type TEXT,
      n_samples INTEGER, n_features INTEGER, scores TEXT, best_params TEXT, branch_id INTEGER, branch_name TEXT,
      exclusion_count INTEGER, exclusion_rate REAL, preprocessings TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS store_predictions_natural ON store_predictions (pipeline_id, chain_id, fold_id, partition, model_name, branch_id);
    CREATE INDEX IF NOT EXISTS store_predictions_chain ON store_predictions (chain_id);
    CREATE INDEX IF NOT EXISTS store_predictions_run ON store_predictions (run_id);
    CREATE INDEX IF NOT EXISTS store_predictions_dataset ON store_predictions (dataset_name, partition);
    CREATE INDEX IF NOT EXISTS store_predictions_top ON store_predictions (partition, val_score);
    CREATE INDEX IF NOT EXISTS store_predictions_top_class ON store_predictions (partition, model_class, val_score);
    CREATE INDEX IF NOT EXISTS store_artifacts_cache ON store_artifacts (chain_hash, data_hash);
    CREATE INDEX IF NOT EXISTS store_artifacts_dataset ON store_artifacts (dataset_hash);
    CREATE TABLE IF NOT EXISTS store_logs (
      log_id INTEGER PRIMARY KEY, pipeline_id TEXT NOT NULL, step_idx INTEGER, operator_class TEXT, event TEXT NOT NULL,
      duration_ms REAL, message TEXT, details TEXT, level TEXT NOT NULL, created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS store_logs_pipeline ON store_logs (pipeline_id);
    CREATE TABLE IF NOT EXISTS store_projects (
      project_id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL, meta TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS store_array_datasets (dataset_name TEXT PRIMARY KEY, generation INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS store_array_segments_dataset ON store_array_segments (dataset_name);
    CREATE TABLE IF NOT EXISTS store_array_rows (
      segment TEXT NOT NULL, row_idx INTEGER NOT NULL, prediction_id TEXT NOT NULL, dataset_name TEXT NOT NULL,
      tomb INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (segment, row_idx)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS store_array_rows_prediction ON store_array_rows (prediction_id, tomb);
    CREATE INDEX IF NOT EXISTS store_array_rows_dataset ON store_array_rows (dataset_name, tomb);`

/** True when the vault has the tables of {@link STORE_TABLES} (the last one created). */
export const STORE_TABLES_PRESENT = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'store_array_rows_dataset'"
