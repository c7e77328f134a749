import { tableFromIPC, type Table } from 'apache-arrow'
import { ConflictError, InvalidArgumentError } from '../../../errors/errors.js'
import type { DomainCaller } from '../../../protocol/domain-caller.js'
import { fieldsSnapshot, jsonSnapshot, toWireArrays, wireTransfer, type WirePrediction } from '../shared/store-wire.js'
import type {
  ArrayLoadOptions, ArrayStats, ArtifactMeta, ArtifactOptions, Chain, ChainInput, CompactResult, DeleteRunOptions, GcReport, JsonValue,
  LogEntry, LogStepInput, Pipeline, PipelineFilter, PipelineResult, PipelineStart, Prediction, PredictionArrays, PredictionFilter,
  PredictionInput, Project, ProjectInput, Run, RunFilter, RunLogSummary, TopOptions, VacuumReport,
} from '../shared/store-types.js'

import { exportChainBytes, exportPipelineConfigText, exportPredictionsParquetBytes, exportRunText, type PredictionsParquetOptions } from './store-exports.js'
import { exportPath, writeExport, type ExportToPath } from './store-files.js'
import { replayWalk, type ReplayOptions, type ReplayRow } from './store-replay.js'

export type * from '../shared/store-types.js'
export type { PredictionsParquetOptions } from './store-exports.js'
export type { ExportToPath } from './store-files.js'
export type { ReplayOperator, ReplayOperators, ReplayOptions, ReplayRow } from './store-replay.js'

/** How a Store hands its sub-objects out (a vault guards them like itself), and runs `vault.optimize`. */
export interface StoreWiring {
  /** Wrap a sub-object (`arrays`, `projects`) as the vault wraps its own accessors (closed-vault checks). */
  guard<T extends object>(obj: T): T
  /** `vault.optimize()`; absent inside a transaction. */
  optimize?: () => Promise<{ bytesBefore: number; bytesAfter: number }>
}

/** Bytes of a Uint8Array, ArrayBuffer or Blob, copied now. */
/** The bytes of `data`, copied now (a promise only for a Blob, which must be read). */
function bytesOf(data: Uint8Array | ArrayBuffer | Blob, what: string): Uint8Array | Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data.slice()
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0))
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.arrayBuffer().then((b) => new Uint8Array(b))
  throw new InvalidArgumentError(`${what} must be a Uint8Array, an ArrayBuffer or a Blob`)
}

/**
 * `vault.store`: nirs4all's WorkspaceStore in the vault. Runs → pipelines → chains → predictions
 * with their arrays, content-addressed artifacts, logs and projects. Everything one call writes
 * commits at once (a prediction and its arrays together or not at all); inside
 * `vault.transaction`, `tx.store` joins the transaction. Tabular results are Arrow tables.
 *
 * Exports and replay (exportChain, exportPipelineConfig, exportRun, exportPredictionsParquet,
 * replayChain) live in ./store-exports.ts.
 */
export class Store {
  /** Prediction arrays: load, compact, stats. */
  readonly arrays: StoreArrays
  /** Projects: named groups of runs. */
  readonly projects: StoreProjects

  /** @internal Use `vault.store`. */
  constructor(
    private readonly caller: DomainCaller,
    private readonly wiring: StoreWiring = { guard: (o) => o },
  ) {
    this.arrays = wiring.guard(new StoreArrays(this))
    this.projects = wiring.guard(new StoreProjects(this))
  }

  /** Resolves once every call that waits for its arguments (a Blob being read) has gone out. */
  private gate: Promise<void> | undefined
  /** A call waiting at the gate is going out now: the engine call it makes goes out at once. */
  private issuing = false

  /**
   * @internal Call the store's engine half. Calls go out in the order they are made: at once, or
   * after an earlier call still reading its arguments (see {@link afterRead}).
   */
  _call<T>(method: string, args: unknown[], transfer?: Transferable[]): Promise<T> {
    if (this.gate === undefined || this.issuing) return this.caller.call('store', method, args, transfer) as Promise<T>
    return this.afterRead(Promise.resolve(), () => this.caller.call('store', method, args, transfer) as Promise<T>)
  }

  /**
   * Issue `issue` once `read` (the call's arguments, read now: a Blob's bytes) has resolved and
   * every call made before it has gone out; the calls made meanwhile wait until it has gone out.
   * A failed read fails this call only.
   */
  private afterRead<W, T>(read: Promise<W>, issue: (value: W) => Promise<T>): Promise<T> {
    let result!: Promise<T>
    const gone: Promise<void> = Promise.all([this.gate, read]).then(
      ([, value]) => {
        this.issuing = true
        try {
          result = issue(value)
        } catch (err) {
          result = Promise.reject(err)
        } finally {
          this.issuing = false
        }
      },
      (err: unknown) => {
        result = Promise.reject(err)
      },
    )
    this.gate = gone
    void gone.then(() => {
      if (this.gate === gone) this.gate = undefined
    })
    return gone.then(() => result)
  }

  /** @internal An Arrow table from the engine's IPC bytes. */
  async _table(method: string, args: unknown[]): Promise<Table> {
    return tableFromIPC(await this._call<Uint8Array>(method, args))
  }

  // ---- runs ----------------------------------------------------------------------------------

  /** Start a run (status `running`); returns its id. */
  async beginRun(name: string, config: JsonValue = {}, datasets: JsonValue[] = []): Promise<string> {
    return this._call('beginRun', [name, jsonSnapshot(config, 'config'), jsonSnapshot(datasets, 'datasets')])
  }

  /** The run completed: status `completed`, `completedAt` set, `summary` recorded. */
  async completeRun(runId: string, summary: JsonValue = {}): Promise<void> {
    await this._call('completeRun', [runId, jsonSnapshot(summary, 'summary')])
  }

  /** The run failed: status `failed` with the error's message. */
  async failRun(runId: string, error: unknown): Promise<void> {
    await this._call('failRun', [runId, messageOf(error)])
  }

  /** A run (NotFoundError when unknown). */
  getRun(runId: string): Promise<Run> {
    return this._call('getRun', [runId])
  }

  /** Runs, newest first, as an Arrow table (JSON fields as JSON text). */
  listRuns(filter: RunFilter = {}): Promise<Table> {
    return this._table('listRuns', [filter])
  }

  // ---- pipelines -----------------------------------------------------------------------------

  /** Start a pipeline of a run; returns its id. */
  async beginPipeline(runId: string, start: PipelineStart): Promise<string> {
    return this._call('beginPipeline', [runId, fieldsSnapshot(start, 'the pipeline')])
  }

  /** The pipeline completed with its best scores. */
  async completePipeline(pipelineId: string, result: PipelineResult = {}): Promise<void> {
    await this._call('completePipeline', [pipelineId, fieldsSnapshot(result, 'the result')])
  }

  /** The pipeline failed: its chains, predictions and arrays are rolled back (its logs stay). */
  async failPipeline(pipelineId: string, error: unknown): Promise<void> {
    await this._call('failPipeline', [pipelineId, messageOf(error)])
  }

  /** A pipeline (NotFoundError when unknown). */
  getPipeline(pipelineId: string): Promise<Pipeline> {
    return this._call('getPipeline', [pipelineId])
  }

  /** Pipelines, oldest first, as an Arrow table. */
  listPipelines(filter: PipelineFilter = {}): Promise<Table> {
    return this._table('listPipelines', [filter])
  }

  // ---- chains --------------------------------------------------------------------------------

  /** Store a fitted chain of a pipeline; returns its id. The artifacts it names must exist. */
  async saveChain(pipelineId: string, chain: ChainInput): Promise<string> {
    return this._call('saveChain', [pipelineId, fieldsSnapshot(chain, 'the chain')])
  }

  /** A chain (NotFoundError when unknown). */
  getChain(chainId: string): Promise<Chain> {
    return this._call('getChain', [chainId])
  }

  /** The chains of a pipeline as an Arrow table, with their CV averages. */
  chainsForPipeline(pipelineId: string): Promise<Table> {
    return this._table('chainsForPipeline', [pipelineId])
  }

  /** Chain summaries with CV averages (mean score over the fold predictions per partition). */
  chainSummaries(filter: { runId?: string; pipelineId?: string; datasetName?: string; modelClass?: string } = {}): Promise<Table> {
    return this._table('chainSummaries', [filter])
  }

  // ---- predictions ---------------------------------------------------------------------------

  /**
   * Save a prediction, with its arrays in the same commit. Upserts on the natural key (pipelineId,
   * chainId, foldId, partition, modelName, branchId): a second save returns the first id and
   * updates the scores (and the arrays, when given).
   */
  async savePrediction(prediction: PredictionInput): Promise<string> {
    return (await this.savePredictions([prediction]))[0]!
  }

  /** Save several predictions in one commit (what a training loop does per fold); ids in order. */
  async savePredictions(predictions: PredictionInput[]): Promise<string[]> {
    if (!Array.isArray(predictions)) throw new InvalidArgumentError('predictions must be an array')
    const wire: WirePrediction[] = predictions.map((p, i) => {
      if (!p || typeof p !== 'object') throw new InvalidArgumentError(`predictions[${i}] must be an object`)
      // Scalars are copied by the spread; only the JSON fields need a snapshot (cheaper than the whole record).
      const { arrays, scores, bestParams, ...fields } = p
      return {
        ...fields,
        scores: jsonSnapshot(scores, `predictions[${i}].scores`),
        bestParams: jsonSnapshot(bestParams, `predictions[${i}].bestParams`),
        arrays: toWireArrays(arrays, `predictions[${i}].arrays`),
      }
    })
    return this._call('savePredictions', [wire], wireTransfer(wire))
  }

  /** A prediction (NotFoundError when unknown); `{ arrays: true }` adds its arrays. */
  getPrediction(predictionId: string, options: { arrays?: boolean } = {}): Promise<Prediction> {
    return this._call('getPrediction', [predictionId, options])
  }

  /** Predictions matching every filter given, as an Arrow table. */
  queryPredictions(filter: PredictionFilter = {}): Promise<Table> {
    return this._table('queryPredictions', [filter])
  }

  /** The best `n` predictions by a score (within each group with `groupBy`), as an Arrow table. */
  topPredictions(n: number, options: TopOptions = {}): Promise<Table> {
    return this._table('topPredictions', [n, options])
  }

  /** Delete a prediction and its arrays; false when it did not exist. Emptied chains and pipelines go too. */
  deletePrediction(predictionId: string): Promise<boolean> {
    return this._call('deletePrediction', [predictionId])
  }

  /** Delete every prediction of a dataset; returns how many. */
  deleteDatasetPredictions(datasetName: string): Promise<number> {
    return this._call('deleteDatasetPredictions', [datasetName])
  }

  /** Delete a run and everything under it; returns the rows deleted. */
  deleteRun(runId: string, options: DeleteRunOptions = {}): Promise<number> {
    return this._call('deleteRun', [runId, options])
  }

  /**
   * Compact every dataset's arrays, then optimise the vault (`vault.optimize()`: VACUUM, checkpoint,
   * unreferenced blobs removed). Not inside a transaction (ConflictError).
   */
  async vacuum(): Promise<VacuumReport> {
    if (!this.wiring.optimize) throw new ConflictError('vacuum cannot run inside a transaction')
    const arrays = await this.arrays.compact()
    const { bytesBefore, bytesAfter } = await this.wiring.optimize()
    return { arrays, bytesBefore, bytesAfter }
  }

  // ---- artifacts -----------------------------------------------------------------------------

  /** Store bytes as an artifact; its id is their SHA-256. The same bytes again raise its reference count. */
  async saveArtifact(data: Uint8Array | ArrayBuffer | Blob, options: ArtifactOptions): Promise<string> {
    const snapshot = fieldsSnapshot(options, 'options')
    const send = (bytes: Uint8Array): Promise<string> => this._call('saveArtifact', [bytes, snapshot], [bytes.buffer as ArrayBuffer])
    const bytes = bytesOf(data, 'the artifact')
    // A Blob is read first: the calls made after this one wait until it has gone out.
    return bytes instanceof Promise ? this.afterRead(bytes, send) : send(bytes)
  }

  /** The bytes of an artifact (NotFoundError when unknown). */
  loadArtifact(artifactId: string): Promise<Uint8Array> {
    return this._call('loadArtifact', [artifactId])
  }

  /** An artifact's metadata (NotFoundError when unknown). */
  getArtifact(artifactId: string): Promise<ArtifactMeta> {
    return this._call('getArtifact', [artifactId])
  }

  /** Every artifact's metadata. */
  listArtifacts(): Promise<ArtifactMeta[]> {
    return this._call('listArtifacts', [])
  }

  /** Remove artifacts nothing references (reference count 0); `dryRun` only reports them. */
  gcArtifacts(options: { dryRun?: boolean } = {}): Promise<GcReport> {
    return this._call('gcArtifacts', [options])
  }

  /** Cross-run cache: the artifact fitted for this chain prefix on this data, if any. */
  findCachedArtifact(chainHash: string, dataHash: string): Promise<string | undefined> {
    return this._call('findCachedArtifact', [chainHash, dataHash])
  }

  /** Cross-run cache: set an artifact's cache key. */
  async setArtifactCacheKey(artifactId: string, key: { chainHash: string; dataHash: string; datasetHash?: string }): Promise<void> {
    await this._call('setArtifactCacheKey', [artifactId, fieldsSnapshot(key, 'the cache key')])
  }

  /** Cross-run cache: forget the keys of every artifact fitted on a dataset (the artifacts stay); returns how many. */
  invalidateDatasetCache(datasetHash: string): Promise<number> {
    return this._call('invalidateDatasetCache', [datasetHash])
  }

  // ---- logs ----------------------------------------------------------------------------------

  /** Record a structured log entry for a step of a pipeline. */
  async logStep(pipelineId: string, entry: LogStepInput): Promise<void> {
    await this._call('logStep', [pipelineId, fieldsSnapshot(entry, 'the log entry')])
  }

  /** A pipeline's log entries in order. */
  pipelineLog(pipelineId: string): Promise<LogEntry[]> {
    return this._call('pipelineLog', [pipelineId])
  }

  /** Counts of a run's log entries (all, warnings, errors) and their total duration. */
  runLogSummary(runId: string): Promise<RunLogSummary> {
    return this._call('runLogSummary', [runId])
  }

  // ---- exports and replay (./store-exports.ts, ./store-replay.ts) ---------------------------

  /**
   * A chain as an `.n4a` bundle (nirs4all's zip: manifest.json, chain.json, artifacts/). With a
   * refit model (`fold_final`) only that model is bundled, with fold strategy `single_refit`.
   * Node: `{ path }` writes the file (`.n4a` added when the name has no extension) and returns its path.
   */
  exportChain(chainId: string): Promise<Uint8Array>
  exportChain(chainId: string, options: ExportToPath): Promise<string>
  async exportChain(chainId: string, options?: ExportToPath): Promise<Uint8Array | string> {
    const path = exportPath(options, '.n4a')
    const bytes = await exportChainBytes(this, chainId)
    return path === undefined ? bytes : writeExport(path, bytes)
  }

  /** A pipeline's expanded configuration as JSON text. Node: `{ path }` writes it (`.json`). */
  exportPipelineConfig(pipelineId: string): Promise<string>
  exportPipelineConfig(pipelineId: string, options: ExportToPath): Promise<string>
  async exportPipelineConfig(pipelineId: string, options?: ExportToPath): Promise<string> {
    const path = exportPath(options, '.json')
    const text = await exportPipelineConfigText(this, pipelineId)
    return path === undefined ? text : writeExport(path, text)
  }

  /** A run with its pipelines and chains as YAML text (no artifacts, no arrays). Node: `{ path }` writes it (`.yaml`). */
  exportRun(runId: string): Promise<string>
  exportRun(runId: string, options: ExportToPath): Promise<string>
  async exportRun(runId: string, options?: ExportToPath): Promise<string> {
    const path = exportPath(options, '.yaml')
    const text = await exportRunText(this, runId)
    return path === undefined ? text : writeExport(path, text)
  }

  /**
   * The predictions matching `filter` (as `queryPredictions`) as a Parquet file (zstd), with
   * nirs4all's column names; `{ arrays: true }` adds the arrays as list columns. No match: a valid
   * file with no rows. Node: `{ path }` writes it (`.parquet`) and returns its path.
   */
  exportPredictionsParquet(filter?: PredictionFilter, options?: PredictionsParquetOptions): Promise<Uint8Array>
  exportPredictionsParquet(filter: PredictionFilter, options: PredictionsParquetOptions & ExportToPath): Promise<string>
  async exportPredictionsParquet(filter: PredictionFilter = {}, options: PredictionsParquetOptions & Partial<ExportToPath> = {}): Promise<Uint8Array | string> {
    const path = exportPath(options, '.parquet')
    const bytes = await exportPredictionsParquetBytes(this, filter, options)
    return path === undefined ? bytes : writeExport(path, bytes)
  }

  /**
   * Apply a stored chain to new rows: each step's fitted artifacts transform the rows in order, then
   * the refit model predicts (or the mean of the fold models' predictions). `operators` maps each
   * operator class to your implementation built from the artifact's bytes. One value per row.
   */
  async replayChain(chainId: string, X: ReplayRow[], options: ReplayOptions): Promise<Float64Array> {
    const chain = await this.getChain(chainId)
    return replayWalk(chain, X, options, (id) => this.loadArtifact(id))
  }

  /** The schema version of the store in this vault (and the newest this build knows). */
  schemaVersion(): Promise<{ stored: number; supported: number }> {
    return this._call('schemaVersion', [])
  }
}

/** `store.arrays`: the arrays of predictions, stored by dataset as columnar segments. */
export class StoreArrays {
  /** @internal */
  constructor(private readonly store: Store) {}

  /** Arrays of the given predictions, by id (ids without arrays are left out). */
  load(predictionIds: string[], options: ArrayLoadOptions = {}): Promise<Map<string, PredictionArrays>> {
    return this.store._call('arraysLoad', [predictionIds, options])
  }

  /**
   * Rewrite a dataset's segments (every dataset's without `datasetName`) without tombstoned rows;
   * reports rows and bytes before and after, by dataset. Not inside a transaction (ConflictError).
   */
  compact(options: { datasetName?: string } = {}): Promise<Record<string, CompactResult>> {
    return this.store._call('arraysCompact', [options])
  }

  /** Rows, tombstones, segments and bytes, by dataset and in all. */
  stats(): Promise<ArrayStats> {
    return this.store._call('arraysStats', [])
  }

  /** Names of the datasets that have arrays, sorted. */
  datasets(): Promise<string[]> {
    return this.store._call('arraysDatasets', [])
  }
}

/** `store.projects`: named groups of runs. */
export class StoreProjects {
  /** @internal */
  constructor(private readonly store: Store) {}

  /** Create a project (AlreadyExistsError when the name is taken); returns its id. */
  create(name: string, input: ProjectInput = {}): Promise<string> {
    return this.store._call('projectCreate', [name, fieldsSnapshot(input, 'the project')])
  }

  /** Every project, by name. */
  list(): Promise<Project[]> {
    return this.store._call('projectList', [])
  }

  /** A project (NotFoundError when unknown). */
  get(projectId: string): Promise<Project> {
    return this.store._call('projectGet', [projectId])
  }

  /** The project of that name, or undefined. */
  getByName(name: string): Promise<Project | undefined> {
    return this.store._call('projectGetByName', [name])
  }

  /** The project of that name, created when missing. */
  getOrCreate(name: string, input: ProjectInput = {}): Promise<Project> {
    return this.store._call('projectGetOrCreate', [name, fieldsSnapshot(input, 'the project')])
  }

  /** Rename a project or change its description or meta. */
  async update(projectId: string, changes: ProjectInput & { name?: string }): Promise<void> {
    await this.store._call('projectUpdate', [projectId, fieldsSnapshot(changes, 'the changes')])
  }

  /** Delete a project (its runs stay, without a project); false when it did not exist. */
  delete(projectId: string): Promise<boolean> {
    return this.store._call('projectDelete', [projectId])
  }

  /** Put a run in a project (null: in none). */
  async setRunProject(runId: string, projectId: string | null): Promise<void> {
    await this.store._call('setRunProject', [runId, projectId])
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return typeof error === 'string' ? error : String(error)
}
