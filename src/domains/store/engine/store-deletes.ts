import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import { parseJson } from './store-rows.js'
import { inChunks, tombstonePredictions } from './array-store.js'

// Cascades, run inside one write (so a crash leaves all of a delete or none of it): predictions
// first (their arrays tombstoned in the same write), then chains left without predictions (their
// artifact references released), then pipelines left empty (with their logs). nirs4all's
// test_delete_ordering_crash guarded an order across two files; here it cannot go wrong: one commit.

function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(', ')
}

/** What a cascade deleted. */
export interface DeleteTally {
  rows: number
  /** Datasets whose arrays got tombstones (candidates for auto-compaction). */
  datasets: Set<string>
}

export function emptyTally(): DeleteTally {
  return { rows: 0, datasets: new Set() }
}

/** The artifact ids a chain refers to (steps, fold models, shared step artifacts), each once. */
export function chainArtifactIds(steps: unknown, foldArtifacts: unknown, sharedArtifacts: unknown): Set<string> {
  const out = new Set<string>()
  if (Array.isArray(steps)) for (const s of steps) if (s && typeof s === 'object' && typeof (s as { artifactId?: unknown }).artifactId === 'string') out.add((s as { artifactId: string }).artifactId)
  if (foldArtifacts && typeof foldArtifacts === 'object') for (const v of Object.values(foldArtifacts)) if (typeof v === 'string') out.add(v)
  if (sharedArtifacts && typeof sharedArtifacts === 'object') {
    for (const v of Object.values(sharedArtifacts)) {
      if (typeof v === 'string') out.add(v)
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') out.add(x)
    }
  }
  return out
}

/**
 * Lower the reference count of each artifact by one (never below 0); with `remove`, delete those
 * left at 0 (their bytes go at the next checkpoint, once no row refers to them). Returns rows removed.
 */
export function releaseArtifacts(db: SqliteDatabase, ids: Iterable<string>, remove: boolean): number {
  let removed = 0
  for (const id of ids) {
    db.run('UPDATE store_artifacts SET ref_count = max(ref_count - 1, 0) WHERE artifact_id = ?', [id])
    if (remove) removed += db.run('DELETE FROM store_artifacts WHERE artifact_id = ? AND ref_count <= 0', [id])
  }
  return removed
}

/** Delete chains (not their predictions: callers delete those first). Returns the artifacts they held, one entry per chain and artifact. */
export function deleteChains(db: SqliteDatabase, chainIds: readonly string[], tally: DeleteTally): string[] {
  const released: string[] = []
  inChunks(chainIds, (chunk) => {
    for (const r of db.all(`SELECT steps, fold_artifacts, shared_artifacts FROM store_chains WHERE chain_id IN (${placeholders(chunk.length)})`, chunk)) {
      released.push(...chainArtifactIds(parseJson(r[0]!), parseJson(r[1]!), parseJson(r[2]!)))
    }
    tally.rows += db.run(`DELETE FROM store_chains WHERE chain_id IN (${placeholders(chunk.length)})`, chunk)
  })
  return released
}

/**
 * Delete the predictions `where` selects (a condition on store_predictions with its parameters),
 * tombstoning their arrays. Returns the chains and pipelines they belonged to.
 */
export function deletePredictionsWhere(db: SqliteDatabase, where: string, params: (string | number)[], tally: DeleteTally): { chains: Set<string>; pipelines: Set<string> } {
  const ids: string[] = []
  const chains = new Set<string>()
  const pipelines = new Set<string>()
  db.each(`SELECT prediction_id, chain_id, pipeline_id FROM store_predictions WHERE ${where}`, params, (r) => {
    ids.push(r[0] as string)
    chains.add(r[1] as string)
    pipelines.add(r[2] as string)
  })
  for (const d of tombstonePredictions(db, ids)) tally.datasets.add(d)
  inChunks(ids, (chunk) => {
    tally.rows += db.run(`DELETE FROM store_predictions WHERE prediction_id IN (${placeholders(chunk.length)})`, chunk)
  })
  return { chains, pipelines }
}

/**
 * After predictions were deleted: chains of `chains` left without predictions go (their artifacts
 * released, and removed at 0 when `removeArtifacts`), then pipelines of `pipelines` left without
 * chains or predictions go with their logs.
 */
export function pruneEmptied(db: SqliteDatabase, chains: Iterable<string>, pipelines: Iterable<string>, removeArtifacts: boolean, tally: DeleteTally): void {
  const emptyChains = [...chains].filter((c) => !db.get('SELECT 1 FROM store_predictions WHERE chain_id = ? LIMIT 1', [c]))
  releaseArtifacts(db, deleteChains(db, emptyChains, tally), removeArtifacts)
  for (const p of pipelines) {
    if (db.get('SELECT 1 FROM store_chains WHERE pipeline_id = ? LIMIT 1', [p])) continue
    if (db.get('SELECT 1 FROM store_predictions WHERE pipeline_id = ? LIMIT 1', [p])) continue
    tally.rows += db.run('DELETE FROM store_logs WHERE pipeline_id = ?', [p])
    tally.rows += db.run('DELETE FROM store_pipelines WHERE pipeline_id = ?', [p])
  }
}

/** Everything of a pipeline but its row and logs: predictions (arrays tombstoned), then chains. */
export function clearPipeline(db: SqliteDatabase, pipelineId: string, removeArtifacts: boolean, tally: DeleteTally): void {
  deletePredictionsWhere(db, 'pipeline_id = ?', [pipelineId], tally)
  const chains = db.all('SELECT chain_id FROM store_chains WHERE pipeline_id = ?', [pipelineId]).map((r) => r[0] as string)
  releaseArtifacts(db, deleteChains(db, chains, tally), removeArtifacts)
}

/** A run and everything under it. */
export function deleteRunCascade(db: SqliteDatabase, runId: string, removeArtifacts: boolean, tally: DeleteTally): void {
  const pipelines = db.all('SELECT pipeline_id FROM store_pipelines WHERE run_id = ?', [runId]).map((r) => r[0] as string)
  // Predictions by run (also those whose pipeline row is somehow gone).
  deletePredictionsWhere(db, 'run_id = ?', [runId], tally)
  for (const p of pipelines) {
    clearPipeline(db, p, removeArtifacts, tally)
    tally.rows += db.run('DELETE FROM store_logs WHERE pipeline_id = ?', [p])
    tally.rows += db.run('DELETE FROM store_pipelines WHERE pipeline_id = ?', [p])
  }
  tally.rows += db.run('DELETE FROM store_runs WHERE run_id = ?', [runId])
}
