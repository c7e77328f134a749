import { ConflictError, InvalidArgumentError, NotFoundError, UnsupportedError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import { CallTurns } from '../../../engine/call-turns.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import type { ArrayStats, Chain, CompactResult, GcReport, LogEntry, Pipeline, Prediction, PredictionArrays, Project, Run, RunLogSummary, ArtifactMeta } from '../shared/store-types.js'
import { ArrayStore, arrayStats, datasetsToCompact } from './array-store.js'
import * as catalog from './store-catalog.js'
import { chainArtifactIds, clearPipeline, deletePredictionsWhere, deleteRunCascade, emptyTally, pruneEmptied, type DeleteTally } from './store-deletes.js'
import { savePredictions } from './store-predictions.js'
import * as queries from './store-queries.js'
import {
  CHAIN_COLUMNS, LOG_COLUMNS, PIPELINE_COLUMNS, PREDICTION_COLUMNS, RUN_COLUMNS, checkId, checkText, errorText, jsonText, newId, notFound, nowIso, optBool, optInt, optInt32, optNumber,
  optText, optionsOf, toChain, toLog, toPipeline, toPrediction, toRun,
} from './store-rows.js'
import { STORE_SCHEMA_VERSION, STORE_TABLES, STORE_TABLES_PRESENT } from './store-schema.js'

// The method surface of `vault.store` on the engine side. The parts: store-schema.ts (tables),
// store-rows.ts (rows and checks), store-predictions.ts (upserts with arrays), array-store.ts and
// array-segments.ts (arrays), store-deletes.ts (cascades), store-queries.ts (Arrow results),
// store-catalog.ts (artifacts, logs, projects).

/** The engine side of `vault.store`. */
export class StoreEngine {
  private readonly arrays = new ArrayStore()

  /**
   * Every call first: a store newer than this build is refused (nothing is touched); a vault whose
   * store was never used gets the rest of its tables now, in a write of their own (a read then sees
   * them empty; on a read-only handle there is nothing to read: NotFoundError).
   */
  private async open(ctx: CallContext): Promise<void> {
    this.guard(ctx.db)
    if (ctx.db.get(STORE_TABLES_PRESENT)) return
    try {
      await ctx.write(() => ctx.db.execScript(STORE_TABLES))
    } catch (err) {
      if (err instanceof UnsupportedError) throw new NotFoundError('this vault has no experiment store yet (this handle is read-only)', { cause: err })
      throw err
    }
  }

  private guard(db: SqliteDatabase): void {
    const v = (db.get("SELECT version FROM schema_versions WHERE domain = 'store'")?.[0] as number | undefined) ?? 0
    if (v > STORE_SCHEMA_VERSION) throw new UnsupportedError(`this vault's experiment store has schema version ${v}, newer than ${STORE_SCHEMA_VERSION} (the newest this build of labvault knows): upgrade labvault`)
  }

  async schemaVersion(ctx: CallContext): Promise<{ stored: number; supported: number }> {
    const v = (ctx.db.get("SELECT version FROM schema_versions WHERE domain = 'store'")?.[0] as number | undefined) ?? 0
    return { stored: v, supported: STORE_SCHEMA_VERSION }
  }

  // ---- runs ----------------------------------------------------------------------------------

  async beginRun(ctx: CallContext, name: unknown, config: unknown, datasets: unknown): Promise<string> {
    await this.open(ctx)
    checkText(name, 'name')
    if (datasets !== undefined && !Array.isArray(datasets)) throw new InvalidArgumentError('datasets must be an array')
    const values = [jsonText(config ?? {}, 'config'), jsonText(datasets ?? [], 'datasets')]
    const id = newId()
    await ctx.write(() => ctx.db.run('INSERT INTO store_runs (run_id, name, status, config, datasets, created_at) VALUES (?, ?, ?, ?, ?, ?)', [id, name, 'running', ...values, nowIso()]))
    return id
  }

  private async finishRun(ctx: CallContext, runId: unknown, status: 'completed' | 'failed', summary: string | null, error: string | null): Promise<void> {
    await this.open(ctx)
    checkId(runId, 'runId')
    await ctx.write(() => {
      if (!ctx.db.get('SELECT 1 FROM store_runs WHERE run_id = ?', [runId])) throw notFound('run', runId)
      ctx.db.run('UPDATE store_runs SET status = ?, summary = coalesce(?, summary), error = ?, completed_at = ? WHERE run_id = ?', [status, summary, error, nowIso(), runId])
    })
  }

  async completeRun(ctx: CallContext, runId: unknown, summary: unknown): Promise<void> {
    await this.finishRun(ctx, runId, 'completed', jsonText(summary ?? {}, 'summary'), null)
  }

  async failRun(ctx: CallContext, runId: unknown, error: unknown): Promise<void> {
    await this.finishRun(ctx, runId, 'failed', null, errorText(error))
  }

  async getRun(ctx: CallContext, runId: unknown): Promise<Run> {
    await this.open(ctx)
    checkId(runId, 'runId')
    const r = ctx.db.get(`SELECT ${RUN_COLUMNS} FROM store_runs WHERE run_id = ?`, [runId])
    if (!r) throw notFound('run', runId)
    return toRun(r)
  }

  async listRuns(ctx: CallContext, filter: unknown): Promise<Uint8Array> {
    await this.open(ctx)
    return queries.listRuns(ctx.db, filter)
  }

  // ---- pipelines -----------------------------------------------------------------------------

  async beginPipeline(ctx: CallContext, runId: unknown, start: unknown): Promise<string> {
    await this.open(ctx)
    checkId(runId, 'runId')
    const s = optionsOf<{ name: string; expandedConfig: unknown; generatorChoices: unknown; datasetName: string; datasetHash: string; originalTemplate: unknown }>(start, 'the pipeline', ['name', 'expandedConfig', 'generatorChoices', 'datasetName', 'datasetHash', 'originalTemplate'])
    checkText(s.name, 'name')
    checkText(s.datasetName, 'datasetName')
    if (s.generatorChoices !== undefined && s.generatorChoices !== null && !Array.isArray(s.generatorChoices)) throw new InvalidArgumentError('generatorChoices must be an array')
    const id = newId()
    const values = [id, runId, s.name, 'running', jsonText(s.expandedConfig ?? {}, 'expandedConfig'), jsonText(s.generatorChoices ?? [], 'generatorChoices'), s.datasetName, optText(s.datasetHash, 'datasetHash'), jsonText(s.originalTemplate ?? null, 'originalTemplate'), nowIso()]
    await ctx.write(() => {
      if (!ctx.db.get('SELECT 1 FROM store_runs WHERE run_id = ?', [runId])) throw notFound('run', runId)
      ctx.db.run('INSERT INTO store_pipelines (pipeline_id, run_id, name, status, expanded_config, generator_choices, dataset_name, dataset_hash, original_template, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', values)
    })
    return id
  }

  async completePipeline(ctx: CallContext, pipelineId: unknown, result: unknown): Promise<void> {
    await this.open(ctx)
    checkId(pipelineId, 'pipelineId')
    const r = optionsOf<{ bestVal: number; bestTest: number; metric: string; durationMs: number }>(result, 'the result', ['bestVal', 'bestTest', 'metric', 'durationMs'])
    const values = [optNumber(r.bestVal, 'bestVal'), optNumber(r.bestTest, 'bestTest'), optText(r.metric, 'metric'), optNumber(r.durationMs, 'durationMs'), nowIso()]
    await ctx.write(() => {
      if (!ctx.db.get('SELECT 1 FROM store_pipelines WHERE pipeline_id = ?', [pipelineId])) throw notFound('pipeline', pipelineId)
      ctx.db.run("UPDATE store_pipelines SET status = 'completed', best_val = ?, best_test = ?, metric = ?, duration_ms = ?, completed_at = ? WHERE pipeline_id = ?", [...values, pipelineId])
    })
  }

  /** Failed: its chains, predictions (arrays tombstoned) go in the same write; its logs stay. */
  async failPipeline(ctx: CallContext, pipelineId: unknown, error: unknown): Promise<void> {
    await this.open(ctx)
    checkId(pipelineId, 'pipelineId')
    const message = errorText(error)
    const tally = emptyTally()
    await ctx.write(() => {
      if (!ctx.db.get('SELECT 1 FROM store_pipelines WHERE pipeline_id = ?', [pipelineId])) throw notFound('pipeline', pipelineId)
      clearPipeline(ctx.db, pipelineId, true, tally)
      ctx.db.run("UPDATE store_pipelines SET status = 'failed', error = ?, completed_at = ? WHERE pipeline_id = ?", [message, nowIso(), pipelineId])
    })
    await this.autoCompactAfter(ctx, tally)
  }

  async getPipeline(ctx: CallContext, pipelineId: unknown): Promise<Pipeline> {
    await this.open(ctx)
    checkId(pipelineId, 'pipelineId')
    const r = ctx.db.get(`SELECT ${PIPELINE_COLUMNS} FROM store_pipelines WHERE pipeline_id = ?`, [pipelineId])
    if (!r) throw notFound('pipeline', pipelineId)
    return toPipeline(r)
  }

  async listPipelines(ctx: CallContext, filter: unknown): Promise<Uint8Array> {
    await this.open(ctx)
    return queries.listPipelines(ctx.db, filter)
  }

  // ---- chains --------------------------------------------------------------------------------

  async saveChain(ctx: CallContext, pipelineId: unknown, chain: unknown): Promise<string> {
    await this.open(ctx)
    checkId(pipelineId, 'pipelineId')
    const c = optionsOf<Record<string, unknown>>(chain, 'the chain', ['steps', 'modelStepIdx', 'modelClass', 'preprocessings', 'foldStrategy', 'foldArtifacts', 'sharedArtifacts', 'branchPath', 'sourceIndex'])
    if (!Array.isArray(c.steps)) throw new InvalidArgumentError('steps must be an array')
    c.steps.forEach((s: unknown, i) => {
      const step = optionsOf<{ stepIdx: number; operatorClass: string; artifactId: string; params: unknown; stateless: boolean }>(s, `steps[${i}]`, ['stepIdx', 'operatorClass', 'params', 'artifactId', 'stateless'])
      optInt(step.stepIdx, `steps[${i}].stepIdx`)
      checkText(step.operatorClass, `steps[${i}].operatorClass`)
      if (step.artifactId !== undefined && step.artifactId !== null) checkId(step.artifactId, `steps[${i}].artifactId`)
    })
    checkText(c.modelClass, 'modelClass', true)
    const foldArtifacts = optionsOf<Record<string, unknown>>(c.foldArtifacts, 'foldArtifacts')
    for (const [k, v] of Object.entries(foldArtifacts)) checkId(v, `foldArtifacts.${k}`)
    const sharedArtifacts = optionsOf<Record<string, unknown>>(c.sharedArtifacts, 'sharedArtifacts')
    for (const [k, v] of Object.entries(sharedArtifacts)) {
      if (Array.isArray(v)) v.forEach((x, i) => checkId(x, `sharedArtifacts.${k}[${i}]`))
      else checkId(v, `sharedArtifacts.${k}`)
    }
    if (c.branchPath !== undefined && c.branchPath !== null && (!Array.isArray(c.branchPath) || !c.branchPath.every((x) => Number.isSafeInteger(x)))) {
      throw new InvalidArgumentError('branchPath must be an array of whole numbers')
    }
    const id = newId()
    const values = [
      id, pipelineId, jsonText(c.steps, 'steps'), optInt32(c.modelStepIdx, 'modelStepIdx'), c.modelClass, optText(c.preprocessings, 'preprocessings') ?? '',
      optText(c.foldStrategy, 'foldStrategy') ?? 'per_fold', jsonText(foldArtifacts, 'foldArtifacts'), jsonText(sharedArtifacts, 'sharedArtifacts'),
      c.branchPath === undefined || c.branchPath === null ? null : jsonText(c.branchPath, 'branchPath'), optInt32(c.sourceIndex, 'sourceIndex'), nowIso(),
    ]
    await ctx.write(() => {
      if (!ctx.db.get('SELECT 1 FROM store_pipelines WHERE pipeline_id = ?', [pipelineId])) throw notFound('pipeline', pipelineId)
      for (const a of chainArtifactIds(c.steps, foldArtifacts, sharedArtifacts)) {
        if (!ctx.db.get('SELECT 1 FROM store_artifacts WHERE artifact_id = ?', [a])) throw notFound('artifact', a)
      }
      ctx.db.run(`INSERT INTO store_chains (${CHAIN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, values)
    })
    return id
  }

  async getChain(ctx: CallContext, chainId: unknown): Promise<Chain> {
    await this.open(ctx)
    checkId(chainId, 'chainId')
    const r = ctx.db.get(`SELECT ${CHAIN_COLUMNS} FROM store_chains WHERE chain_id = ?`, [chainId])
    if (!r) throw notFound('chain', chainId)
    return toChain(r)
  }

  async chainsForPipeline(ctx: CallContext, pipelineId: unknown): Promise<Uint8Array> {
    await this.open(ctx)
    checkId(pipelineId, 'pipelineId')
    return queries.chainsForPipeline(ctx.db, pipelineId)
  }

  async chainSummaries(ctx: CallContext, filter: unknown): Promise<Uint8Array> {
    await this.open(ctx)
    return queries.chainSummaries(ctx.db, filter)
  }

  // ---- predictions ---------------------------------------------------------------------------

  async savePredictions(ctx: CallContext, records: unknown): Promise<string[]> {
    await this.open(ctx)
    return savePredictions(ctx, records, (ids) => this.arrays.load(ctx, ids, null))
  }

  async getPrediction(ctx: CallContext, predictionId: unknown, options: unknown): Promise<Prediction> {
    await this.open(ctx)
    checkId(predictionId, 'predictionId')
    const o = optionsOf<{ arrays: boolean }>(options, 'options', ['arrays'])
    const withArrays = optBool(o.arrays, 'arrays', false)
    const r = ctx.db.get(`SELECT ${PREDICTION_COLUMNS} FROM store_predictions WHERE prediction_id = ?`, [predictionId])
    if (!r) throw notFound('prediction', predictionId)
    const p = toPrediction(r)
    if (withArrays) p.arrays = (await this.arrays.load(ctx, [predictionId], null)).get(predictionId) ?? null
    return p
  }

  async queryPredictions(ctx: CallContext, filter: unknown): Promise<Uint8Array> {
    await this.open(ctx)
    return queries.queryPredictions(ctx.db, filter)
  }

  async topPredictions(ctx: CallContext, n: unknown, options: unknown): Promise<Uint8Array> {
    await this.open(ctx)
    return queries.topPredictions(ctx.db, n, options)
  }

  async deletePrediction(ctx: CallContext, predictionId: unknown): Promise<boolean> {
    await this.open(ctx)
    checkId(predictionId, 'predictionId')
    const tally = emptyTally()
    const deleted = await ctx.write(() => {
      const { chains, pipelines } = deletePredictionsWhere(ctx.db, 'prediction_id = ?', [predictionId], tally)
      pruneEmptied(ctx.db, chains, pipelines, true, tally)
      return tally.rows > 0
    })
    await this.autoCompactAfter(ctx, tally)
    return deleted
  }

  async deleteDatasetPredictions(ctx: CallContext, datasetName: unknown): Promise<number> {
    await this.open(ctx)
    checkText(datasetName, 'datasetName')
    const tally = emptyTally()
    const count = await ctx.write(() => {
      const before = tally.rows
      const { chains, pipelines } = deletePredictionsWhere(ctx.db, 'dataset_name = ?', [datasetName], tally)
      const n = tally.rows - before
      pruneEmptied(ctx.db, chains, pipelines, true, tally)
      return n
    })
    await this.autoCompactAfter(ctx, tally)
    return count
  }

  async deleteRun(ctx: CallContext, runId: unknown, options: unknown): Promise<number> {
    await this.open(ctx)
    checkId(runId, 'runId')
    const o = optionsOf<{ deleteArtifacts: boolean }>(options, 'options', ['deleteArtifacts'])
    const deleteArtifacts = optBool(o.deleteArtifacts, 'deleteArtifacts', true)
    const tally = emptyTally()
    await ctx.write(() => {
      if (!ctx.db.get('SELECT 1 FROM store_runs WHERE run_id = ?', [runId])) throw notFound('run', runId)
      deleteRunCascade(ctx.db, runId, deleteArtifacts, tally)
    })
    await this.autoCompactAfter(ctx, tally)
    return tally.rows
  }

  /**
   * After a committed delete: compact the datasets it left with too many tombstones. Never inside a
   * transaction (the transaction may still roll back); a failure only leaves the tombstones.
   */
  private async autoCompactAfter(ctx: CallContext, tally: DeleteTally): Promise<void> {
    if (ctx.inTransaction || tally.datasets.size === 0) return
    for (const d of datasetsToCompact(ctx.db, tally.datasets)) await this.arrays.compact(ctx, d).catch(() => {})
  }

  // ---- arrays --------------------------------------------------------------------------------

  async arraysLoad(ctx: CallContext, ids: unknown, options: unknown): Promise<Map<string, PredictionArrays>> {
    await this.open(ctx)
    if (!Array.isArray(ids)) throw new InvalidArgumentError('predictionIds must be an array')
    ids.forEach((id, i) => checkId(id, `predictionIds[${i}]`))
    const o = optionsOf<{ datasetName: string }>(options, 'options', ['datasetName'])
    if (o.datasetName !== undefined) checkText(o.datasetName, 'datasetName')
    return this.arrays.load(ctx, ids as string[], o.datasetName ?? null)
  }

  async arraysCompact(ctx: CallContext, options: unknown): Promise<Record<string, CompactResult>> {
    await this.open(ctx)
    if (ctx.inTransaction) throw new ConflictError('arrays cannot be compacted inside a transaction')
    const o = optionsOf<{ datasetName: string }>(options, 'options', ['datasetName'])
    if (o.datasetName !== undefined) checkText(o.datasetName, 'datasetName')
    // Every dataset with rows or segments: in a vault written before segments carried their
    // dataset, a dataset's rows can all be in a segment filed under another (array-store.ts).
    const datasets = o.datasetName !== undefined ? [o.datasetName] : ctx.db.all('SELECT dataset_name FROM store_array_segments UNION SELECT dataset_name FROM store_array_rows ORDER BY 1').map((r) => r[0] as string)
    const out: Record<string, CompactResult> = {}
    // Defined, not assigned: a dataset named "__proto__" would otherwise set the object's prototype
    // and be missing from the report (found by a probe).
    for (const d of datasets) Object.defineProperty(out, d, { value: await this.arrays.compact(ctx, d), enumerable: true, writable: true, configurable: true })
    return out
  }

  async arraysStats(ctx: CallContext): Promise<ArrayStats> {
    await this.open(ctx)
    return arrayStats(ctx.db)
  }

  async arraysDatasets(ctx: CallContext): Promise<string[]> {
    await this.open(ctx)
    return ctx.db.all('SELECT DISTINCT dataset_name FROM store_array_rows WHERE tomb = 0 ORDER BY 1').map((r) => r[0] as string)
  }

  // ---- artifacts -----------------------------------------------------------------------------

  async saveArtifact(ctx: CallContext, bytes: unknown, options: unknown): Promise<string> {
    await this.open(ctx)
    return catalog.saveArtifact(ctx, bytes, options)
  }

  async loadArtifact(ctx: CallContext, artifactId: unknown): Promise<Uint8Array> {
    await this.open(ctx)
    const a = catalog.artifactRow(ctx.db, artifactId)
    return ctx.blobs.get(a.artifactId)
  }

  async getArtifact(ctx: CallContext, artifactId: unknown): Promise<ArtifactMeta> {
    await this.open(ctx)
    return catalog.artifactRow(ctx.db, artifactId)
  }

  async listArtifacts(ctx: CallContext): Promise<ArtifactMeta[]> {
    await this.open(ctx)
    return catalog.listArtifacts(ctx.db)
  }

  async gcArtifacts(ctx: CallContext, options: unknown): Promise<GcReport> {
    await this.open(ctx)
    return catalog.gcArtifacts(ctx, options)
  }

  async findCachedArtifact(ctx: CallContext, chainHash: unknown, dataHash: unknown): Promise<string | undefined> {
    await this.open(ctx)
    return catalog.findCachedArtifact(ctx.db, chainHash, dataHash)
  }

  async setArtifactCacheKey(ctx: CallContext, artifactId: unknown, key: unknown): Promise<void> {
    await this.open(ctx)
    await catalog.setArtifactCacheKey(ctx, artifactId, key)
  }

  async invalidateDatasetCache(ctx: CallContext, datasetHash: unknown): Promise<number> {
    await this.open(ctx)
    return catalog.invalidateDatasetCache(ctx, datasetHash)
  }

  // ---- logs ----------------------------------------------------------------------------------

  async logStep(ctx: CallContext, pipelineId: unknown, entry: unknown): Promise<void> {
    await this.open(ctx)
    await catalog.logStep(ctx, pipelineId, entry)
  }

  async pipelineLog(ctx: CallContext, pipelineId: unknown): Promise<LogEntry[]> {
    await this.open(ctx)
    checkId(pipelineId, 'pipelineId')
    if (!ctx.db.get('SELECT 1 FROM store_pipelines WHERE pipeline_id = ?', [pipelineId])) throw notFound('pipeline', pipelineId)
    return ctx.db.all(`SELECT ${LOG_COLUMNS} FROM store_logs WHERE pipeline_id = ? ORDER BY log_id`, [pipelineId]).map(toLog)
  }

  async runLogSummary(ctx: CallContext, runId: unknown): Promise<RunLogSummary> {
    await this.open(ctx)
    checkId(runId, 'runId')
    if (!ctx.db.get('SELECT 1 FROM store_runs WHERE run_id = ?', [runId])) throw notFound('run', runId)
    return catalog.runLogSummary(ctx.db, runId)
  }

  // ---- projects ------------------------------------------------------------------------------

  async projectCreate(ctx: CallContext, name: unknown, input: unknown): Promise<string> {
    await this.open(ctx)
    return catalog.projectCreate(ctx, name, input)
  }

  async projectList(ctx: CallContext): Promise<Project[]> {
    await this.open(ctx)
    return catalog.projectList(ctx.db)
  }

  async projectGet(ctx: CallContext, id: unknown): Promise<Project> {
    await this.open(ctx)
    return catalog.projectGet(ctx.db, id)
  }

  async projectGetByName(ctx: CallContext, name: unknown): Promise<Project | undefined> {
    await this.open(ctx)
    return catalog.projectByName(ctx.db, name)
  }

  async projectGetOrCreate(ctx: CallContext, name: unknown, input: unknown): Promise<Project> {
    await this.open(ctx)
    return catalog.projectGetOrCreate(ctx, name, input)
  }

  async projectUpdate(ctx: CallContext, id: unknown, changes: unknown): Promise<void> {
    await this.open(ctx)
    await catalog.projectUpdate(ctx, id, changes)
  }

  async projectDelete(ctx: CallContext, id: unknown): Promise<boolean> {
    await this.open(ctx)
    return catalog.projectDelete(ctx, id)
  }

  async setRunProject(ctx: CallContext, runId: unknown, projectId: unknown): Promise<void> {
    await this.open(ctx)
    await catalog.setRunProject(ctx, runId, projectId)
  }
}

/**
 * Calls run in arrival order (src/engine/call-turns.ts): every store call awaits before its SQL
 * (the store's tables on first use, arrays and artifacts to the blob store, compaction after a
 * delete), so each one takes a turn and the calls that arrive after it wait until it has settled:
 * a read sees every call made before it, and none after. Calls of a user transaction are ordered
 * by the transaction (a turn there could wait for a call that waits for the transaction's end).
 */
const turns = new WeakMap<StoreEngine, CallTurns>()
let ordered = false

/**
 * Put the store's served methods (`names`: its method table's, passed in by the domain's record:
 * imported here, the table would tie the page build's chunks together) in turns, once.
 */
export function orderStoreCalls(names: readonly string[]): void {
  if (ordered) return
  ordered = true
  for (const name of names) orderStoreCall(name)
}

function orderStoreCall(name: string): void {
  const proto = StoreEngine.prototype as unknown as Record<string, (this: StoreEngine, ...args: unknown[]) => Promise<unknown>>
  const method = proto[name]!
  proto[name] = function (this: StoreEngine, ...args: unknown[]) {
    const ctx = args[0] as CallContext
    if (ctx.inTransaction) return method.apply(this, args)
    let own = turns.get(this)
    if (!own) turns.set(this, (own = new CallTurns()))
    return own.after(undefined, () => method.apply(this, args), true)
  }
}
