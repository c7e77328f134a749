import { ConflictError, InvalidArgumentError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import { ARRAY_KINDS, type WireArrays, type WirePrediction } from '../shared/store-wire.js'
import type { PredictionArrays } from '../shared/store-types.js'
import { putSegment, recordSegment } from './array-store.js'
import { checkId, checkText, jsonText, newId, notFound, nowIso, optInt32, optNumber, optText } from './store-rows.js'

// savePredictions: check every record, settle each one's id (its own, the id already stored under
// its natural key, or a new one), write one segment per dataset with the arrays, then one write
// that upserts the rows and records the segments. A prediction and its arrays commit together.

/** A record checked and in SQL form. */
interface CheckedPrediction {
  givenId: string | null
  pipelineId: string
  chainId: string
  datasetName: string
  /** Values for the scalar columns after the key, in UPDATE_COLUMNS order. */
  values: SqlValue[]
  modelName: string
  foldId: string
  partition: string
  branchId: number | null
  arrays: WireArrays | null
}

const UPDATE_COLUMNS = [
  'dataset_name', 'model_class', 'val_score', 'test_score', 'train_score', 'metric', 'task_type', 'n_samples', 'n_features', 'scores', 'best_params',
  'branch_name', 'exclusion_count', 'exclusion_rate', 'preprocessings',
]

const NATURAL_KEY_SQL = 'SELECT prediction_id FROM store_predictions WHERE pipeline_id = ? AND chain_id = ? AND fold_id = ? AND partition = ? AND model_name = ? AND branch_id IS ?'

function checkArrays(a: unknown, what: string): WireArrays | null {
  if (a === undefined || a === null) return null
  if (typeof a !== 'object') throw new InvalidArgumentError(`${what} must be an object`)
  const out = {} as Record<string, Float64Array | Int32Array | null>
  for (const k of ARRAY_KINDS) {
    const v = (a as Record<string, unknown>)[k]
    const int = k === 'sampleIndices' || k === 'yProbaShape'
    if (v === undefined || v === null) out[k] = null
    else if (int ? v instanceof Int32Array : v instanceof Float64Array) out[k] = v as Float64Array | Int32Array
    else throw new InvalidArgumentError(`${what}.${k} must be ${int ? 'an Int32Array' : 'a Float64Array'} here (the client converts arrays)`)
  }
  return out as unknown as WireArrays
}

/** A record checked; errors name the record (`predictions[i].field …`). */
function checkRecord(r: unknown, i: number): CheckedPrediction {
  try {
    return checkFields(r)
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`predictions[${i}].${err.message}`)
    throw err
  }
}

/** The fields a saved prediction may have (savePrediction's PredictionInput). */
const PREDICTION_INPUT: readonly string[] = [
  'predictionId', 'pipelineId', 'chainId', 'datasetName', 'modelName', 'modelClass', 'foldId', 'partition', 'valScore', 'testScore', 'trainScore', 'metric',
  'taskType', 'nSamples', 'nFeatures', 'scores', 'bestParams', 'branchId', 'branchName', 'exclusionCount', 'exclusionRate', 'preprocessings', 'arrays',
]

// Field names as messages start with them (checkRecord adds the record's index): built once, not per record.
function checkFields(r: unknown): CheckedPrediction {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new InvalidArgumentError('a prediction must be an object')
  const p = r as Partial<WirePrediction>
  for (const k of Object.keys(p)) if (!PREDICTION_INPUT.includes(k)) throw new InvalidArgumentError(`unknown field "${k}" (known: ${PREDICTION_INPUT.join(', ')})`)
  const givenId = p.predictionId === undefined ? null : (checkId(p.predictionId, 'predictionId'), p.predictionId)
  checkId(p.pipelineId, 'pipelineId')
  checkId(p.chainId, 'chainId')
  checkText(p.datasetName, 'datasetName')
  checkText(p.modelName, 'modelName')
  checkText(p.modelClass, 'modelClass')
  checkText(p.foldId, 'foldId')
  checkText(p.partition, 'partition')
  const branchId = optInt32(p.branchId, 'branchId')
  return {
    givenId,
    pipelineId: p.pipelineId,
    chainId: p.chainId,
    datasetName: p.datasetName,
    modelName: p.modelName,
    foldId: p.foldId,
    partition: p.partition,
    branchId,
    values: [
      p.datasetName, p.modelClass,
      optNumber(p.valScore, 'valScore'), optNumber(p.testScore, 'testScore'), optNumber(p.trainScore, 'trainScore'),
      optText(p.metric, 'metric'), optText(p.taskType, 'taskType'),
      optInt32(p.nSamples, 'nSamples'), optInt32(p.nFeatures, 'nFeatures'),
      jsonText(p.scores ?? {}, 'scores'), jsonText(p.bestParams ?? {}, 'bestParams'),
      optText(p.branchName, 'branchName'), optInt32(p.exclusionCount, 'exclusionCount'),
      optNumber(p.exclusionRate, 'exclusionRate'), optText(p.preprocessings, 'preprocessings') ?? '',
    ],
    arrays: checkArrays(p.arrays, 'arrays'),
  }
}

function naturalKey(c: CheckedPrediction): SqlValue[] {
  return [c.pipelineId, c.chainId, c.foldId, c.partition, c.modelName, c.branchId]
}

/**
 * The id each record gets: the one already stored under its natural key, else its own, else a
 * new one; a record repeating an earlier record's key in the same batch gets that record's id.
 * `fresh` supplies new ids (kept from a first attempt, so a retry writes the same segment).
 * Without `db`, only the batch itself is looked at (the optimistic first guess: new predictions).
 */
function settleIds(db: SqliteDatabase | null, records: CheckedPrediction[], fresh: string[]): string[] {
  const inBatch = new Map<string, string>()
  return records.map((c, i) => {
    // JSON of the key's fields, not the fields joined by NUL: names may hold NUL, and fold "a\0b" of
    // partition "c" and fold "a" of partition "b\0c" made one key, so the batch failed with a
    // ConflictError (found by a probe).
    const key = JSON.stringify(naturalKey(c))
    const stored = (db?.get(NATURAL_KEY_SQL, naturalKey(c))?.[0] as string | undefined) ?? inBatch.get(key)
    const id = stored ?? c.givenId ?? fresh[i]!
    inBatch.set(key, id)
    return id
  })
}

/** Save records (see the module comment); returns their ids in order. */
export async function savePredictions(ctx: CallContext, records: unknown, loadArrays: (ids: string[]) => Promise<Map<string, PredictionArrays>>): Promise<string[]> {
  if (!Array.isArray(records)) throw new InvalidArgumentError('predictions must be an array')
  const checked = records.map((r, i) => checkRecord(r, i))
  if (checked.length === 0) return []
  const runOf = new Map<string, string>()
  const chainOf = new Map<string, string>()
  for (const c of checked) {
    if (!runOf.has(c.pipelineId)) {
      const p = ctx.db.get('SELECT run_id FROM store_pipelines WHERE pipeline_id = ?', [c.pipelineId])
      if (!p) throw notFound('pipeline', c.pipelineId)
      runOf.set(c.pipelineId, p[0] as string)
    }
    if (!chainOf.has(c.chainId)) {
      const chain = ctx.db.get('SELECT pipeline_id FROM store_chains WHERE chain_id = ?', [c.chainId])
      if (!chain) throw notFound('chain', c.chainId)
      chainOf.set(c.chainId, chain[0] as string)
    }
    if (chainOf.get(c.chainId) !== c.pipelineId) throw new InvalidArgumentError(`chain "${c.chainId}" belongs to pipeline "${chainOf.get(c.chainId)!}", not "${c.pipelineId}"`)
  }
  const fresh = checked.map(() => newId())
  // Stored arrays that move with an upsert to another dataset (see strandedArrays), by prediction
  // id, with the live row they were read from (`segment:row`).
  const carried = new Map<string, { arrays: WireArrays; from: string }>()
  for (let attempt = 0; ; attempt++) {
    // The ids must be known before the segments are written (each row names its prediction). The
    // first guess takes every record as new; the write settles them against the store, and when a
    // record turns out to be an upsert the segments are written again with the stored ids.
    // Without arrays they are settled only inside the write.
    const anyArrays = carried.size > 0 || checked.some((c) => c.arrays)
    const ids = anyArrays ? settleIds(attempt === 0 ? null : ctx.db, checked, fresh) : []
    // One segment per dataset, written (and synced) before the write that records it.
    const byDataset = anyArrays ? fileArrays(checked, ids, carried) : new Map<string, Map<string, WireArrays>>()
    const segments: { dataset: string; hash: string; bytes: number; ids: string[] }[] = []
    let settled: string[] = []
    let moves: { id: string; from: string }[] = []
    try {
      for (const [dataset, g] of byDataset) {
        const rows = [...g].map(([predictionId, arrays]) => ({ predictionId, arrays }))
        segments.push({ dataset, ids: [...g.keys()], ...(await putSegment(ctx, dataset, rows)) })
      }
      const done = await ctx.write(() => {
        // Another tab or process may have deleted a parent since the check above.
        for (const pid of runOf.keys()) if (!ctx.db.get('SELECT 1 FROM store_pipelines WHERE pipeline_id = ?', [pid])) throw notFound('pipeline', pid)
        for (const c of new Set(checked.map((x) => x.chainId))) if (!ctx.db.get('SELECT 1 FROM store_chains WHERE chain_id = ?', [c])) throw notFound('chain', c)
        // Another writer may have stored one of these keys since: settle again, redo if it moved.
        const now = settleIds(ctx.db, checked, fresh)
        if (anyArrays && now.some((id, i) => id !== ids[i])) return false
        // Arrays carried along must still be the live ones (another writer may have replaced them).
        for (const [id, c] of carried) {
          if (liveRow(ctx.db, id)?.from !== c.from) {
            carried.clear()
            return false
          }
        }
        moves = strandedArrays(ctx.db, checked, now, fresh, carried)
        if (moves.length > 0) return false
        const at = nowIso()
        // Ids made here are new unless a record earlier in the batch took the same one.
        const seen = new Set<string>()
        checked.forEach((c, i) => writeRow(ctx.db, c, now[i]!, runOf.get(c.pipelineId)!, at, now[i] === fresh[i] && !seen.has(now[i]!), seen))
        settled = now
        for (const s of segments) recordSegment(ctx.db, s.dataset, s.hash, s.bytes, s.ids)
        return true
      })
      if (done) return settled
      if (attempt >= 4) throw new ConflictError('predictions kept being saved under the same keys by another writer; try again')
      if (moves.length > 0) {
        const loaded = await loadArrays(moves.map((m) => m.id))
        for (const m of moves) {
          const a = loaded.get(m.id)
          if (a) carried.set(m.id, { from: m.from, arrays: { ...a, yProbaShape: a.yProbaShape ? Int32Array.from(a.yProbaShape) : null } })
        }
      }
    } finally {
      for (const s of segments) ctx.blobs.unpin(s.hash)
    }
  }
}

/**
 * The arrays to write, by dataset then prediction id: each prediction's arrays go to the dataset of
 * its last record in the batch (the one its row keeps), whichever record gave them. Before, each
 * record's arrays went to its own record's dataset, so a batch saving one natural key under two
 * datasets could keep the earlier record's arrays (segments are recorded dataset by dataset, each
 * tombstoning the rows of its ids), or file them under a dataset the prediction was not in (found
 * by a probe). Arrays of the last record that has some win; without any, arrays `carried` from
 * the stored prediction's other dataset.
 */
function fileArrays(checked: CheckedPrediction[], ids: string[], carried: Map<string, { arrays: WireArrays }>): Map<string, Map<string, WireArrays>> {
  const last = new Map<string, { dataset: string; arrays: WireArrays | null }>()
  checked.forEach((c, i) => {
    const prev = last.get(ids[i]!)
    // A later record with the same id takes its place last (and its row's dataset).
    last.delete(ids[i]!)
    last.set(ids[i]!, { dataset: c.datasetName, arrays: c.arrays ?? prev?.arrays ?? null })
  })
  const byDataset = new Map<string, Map<string, WireArrays>>()
  for (const [id, { dataset, arrays }] of last) {
    const a = arrays ?? carried.get(id)?.arrays
    if (!a) continue
    let g = byDataset.get(dataset)
    if (!g) byDataset.set(dataset, (g = new Map()))
    g.set(id, a)
  }
  return byDataset
}

/** The live array row of a prediction: its dataset and where it is (`segment:row`). */
function liveRow(db: SqliteDatabase, id: string): { dataset: string; from: string } | undefined {
  const r = db.get('SELECT dataset_name, segment, row_idx FROM store_array_rows WHERE prediction_id = ? AND tomb = 0', [id])
  return r ? { dataset: r[0] as string, from: `${r[1] as string}:${r[2] as number}` } : undefined
}

/**
 * Inside the write: stored predictions that this batch moves to another dataset without arrays of
 * their own, whose stored arrays are live in their old dataset. An upsert keeps the stored arrays
 * when it gives none (docs/store.md), so they must move along: left behind, they were filed under a
 * dataset the prediction is no longer in (`arrays.load(ids, { datasetName })` of its dataset missed
 * them, `arrays.datasets()` listed the old one; found by a probe).
 */
function strandedArrays(db: SqliteDatabase, checked: CheckedPrediction[], ids: string[], fresh: string[], carried: Map<string, unknown>): { id: string; from: string }[] {
  const last = new Map<string, { dataset: string; arrays: boolean }>()
  // A new prediction (its id made here) has no stored arrays: only upserts are looked up.
  checked.forEach((c, i) => ids[i] !== fresh[i] && last.set(ids[i]!, { dataset: c.datasetName, arrays: (last.get(ids[i]!)?.arrays ?? false) || c.arrays !== null }))
  const out: { id: string; from: string }[] = []
  for (const [id, { dataset, arrays }] of last) {
    if (arrays || carried.has(id)) continue
    const row = liveRow(db, id)
    if (row && row.dataset !== dataset) out.push({ id, from: row.from })
  }
  return out
}

function writeRow(db: SqliteDatabase, c: CheckedPrediction, id: string, runId: string, at: string, fresh: boolean, seen: Set<string>): void {
  seen.add(id)
  const existing = fresh ? undefined : db.get('SELECT pipeline_id, chain_id, fold_id, partition, model_name, branch_id FROM store_predictions WHERE prediction_id = ?', [id])
  if (existing) {
    if (JSON.stringify(existing) !== JSON.stringify(naturalKey(c))) throw new ConflictError(`prediction "${id}" exists with another natural key (pipeline, chain, fold, partition, model, branch)`)
    db.run(`UPDATE store_predictions SET ${UPDATE_COLUMNS.map((k) => `${k} = ?`).join(', ')}, updated_at = ? WHERE prediction_id = ?`, [...c.values, at, id])
    return
  }
  db.run(
    `INSERT INTO store_predictions (prediction_id, pipeline_id, chain_id, run_id, fold_id, partition, model_name, branch_id, ${UPDATE_COLUMNS.join(', ')}, created_at, updated_at)
     VALUES (${new Array(8 + UPDATE_COLUMNS.length + 2).fill('?').join(', ')})`,
    [id, c.pipelineId, c.chainId, runId, c.foldId, c.partition, c.modelName, c.branchId, ...c.values, at, at],
  )
}
