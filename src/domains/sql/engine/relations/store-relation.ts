import type { SqliteDatabase } from '../../../../sqlite/sqlite-database.js'
import { isoMs, type RelationDef, type RelationProvider, type SqlColumn, type SqlColumnType } from './relation.js'

// The experiment store (src/domains/store): one relation per table, named as nirs4all's users
// know them (`runs`, `pipelines`, `chains`, `predictions`, `logs`, `artifacts`, `projects`),
// columns as stored (snake_case). JSON fields are JSON text; times TIMESTAMPs. The store makes its
// tables on first use: before that, the relations exist with no rows.

type Spec = [name: string, type: SqlColumnType | 'ISO']

const T = (name: string): Spec => [name, 'ISO']
const V = (...names: string[]): Spec[] => names.map((n) => [n, 'VARCHAR'])
const B = (...names: string[]): Spec[] => names.map((n) => [n, 'BIGINT'])
const D = (...names: string[]): Spec[] => names.map((n) => [n, 'DOUBLE'])

/** relation name → [SQLite table, columns]. */
const STORE_RELATIONS: Record<string, [string, Spec[]]> = {
  runs: ['store_runs', [...V('run_id', 'name', 'status', 'config', 'datasets', 'summary', 'error', 'project_id'), T('created_at'), T('completed_at')]],
  pipelines: ['store_pipelines', [...V('pipeline_id', 'run_id', 'name', 'status', 'expanded_config', 'generator_choices', 'dataset_name', 'dataset_hash', 'original_template'), ...D('best_val', 'best_test'), ...V('metric'), ...D('duration_ms'), ...V('error'), T('created_at'), T('completed_at')]],
  chains: ['store_chains', [...V('chain_id', 'pipeline_id', 'steps'), ...B('model_step_idx'), ...V('model_class', 'preprocessings', 'fold_strategy', 'fold_artifacts', 'shared_artifacts', 'branch_path'), ...B('source_index'), T('created_at')]],
  predictions: ['store_predictions', [
    ...V('prediction_id', 'pipeline_id', 'chain_id', 'run_id', 'dataset_name', 'model_name', 'model_class', 'fold_id', 'partition'),
    ...D('val_score', 'test_score', 'train_score'), ...V('metric', 'task_type'), ...B('n_samples', 'n_features'), ...V('scores', 'best_params'),
    ...B('branch_id'), ...V('branch_name'), ...B('exclusion_count'), ...D('exclusion_rate'), ...V('preprocessings'), T('created_at'), T('updated_at'),
  ]],
  logs: ['store_logs', [...B('log_id'), ...V('pipeline_id'), ...B('step_idx'), ...V('operator_class', 'event'), ...D('duration_ms'), ...V('message', 'details', 'level'), T('created_at')]],
  artifacts: ['store_artifacts', [...V('artifact_id', 'operator_class', 'artifact_type', 'format'), ...B('size', 'ref_count'), ...V('chain_hash', 'data_hash', 'dataset_hash'), T('created_at')]],
  projects: ['store_projects', [...V('project_id', 'name', 'description', 'meta'), T('created_at'), T('updated_at')]],
}

function def(name: string, specs: Spec[]): RelationDef {
  return { schema: 'main', name, columns: specs.map(([n, t]): SqlColumn => ({ name: n, type: t === 'ISO' ? 'TIMESTAMP' : t })) }
}

function exists(db: SqliteDatabase, table: string): boolean {
  return db.get("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [table]) !== undefined
}

/** Where an append-only relation stands: the SQLite rowid of the last row it loaded. */
interface StoreState {
  rowid: number
}

/**
 * One provider per store table, so that a log line does not reload the predictions. Each loads its
 * table whole the first time, then only the rows added since (by SQLite rowid: with no row deleted
 * since the last load, a new row's rowid is above every older one). A commit that updated, deleted
 * or replaced rows of its table (an upserted prediction, a deleted run) drops its state first
 * (RelationProvider.appendsOnly): the next refresh reloads it whole.
 */
function storeProvider(name: string, table: string, specs: Spec[]): RelationProvider<StoreState> {
  const d = def(name, specs)
  const select = `SELECT rowid, ${specs.map(([n]) => n).join(', ')} FROM ${table}`
  return {
    name: `store.${name}`,
    tables: [table],
    appendsOnly: true,
    async sync(ctx, sink, state) {
      const rows = !exists(ctx.db, table) ? [] : ctx.db.all(state ? `${select} WHERE rowid > ? ORDER BY rowid` : `${select} ORDER BY rowid`, state ? [state.rowid] : [])
      const columns: Record<string, unknown[]> = {}
      specs.forEach(([n, t], i) => {
        columns[n] = t === 'ISO' ? rows.map((r) => isoMs(r[i + 1])) : rows.map((r) => r[i + 1])
      })
      if (state) sink.append(d, columns, rows.length)
      else sink.replace(d, columns, rows.length)
      const last = rows.length > 0 ? Number(rows[rows.length - 1]![0]) : (state?.rowid ?? 0)
      return { relations: [d], state: { rowid: last } }
    },
  }
}

/** The experiment store's tables, one provider each. */
export const storeRelations: RelationProvider<StoreState>[] = Object.entries(STORE_RELATIONS).map(([name, [table, specs]]) => storeProvider(name, table, specs))
