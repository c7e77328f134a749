/**
 * The experiment store's public types (`vault.store`): runs → pipelines → chains → predictions, their
 * arrays, content-addressed artifacts, logs and projects, as nirs4all's WorkspaceStore keeps them.
 * Shared by the client and the engine halves (no code here, only shapes).
 */

/** A value that survives JSON: what config, summary, params, details and metadata may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue }

/** Where a run or a pipeline is in its life. */
export type StoreStatus = 'running' | 'completed' | 'failed'

/** One run: a user's call that expands into pipelines over datasets. */
export interface Run {
  runId: string
  name: string
  status: StoreStatus
  /** The run-level configuration, as given to `beginRun`. */
  config: JsonValue
  /** Metadata of the datasets the run covers (name, path, hash, …). */
  datasets: JsonValue[]
  /** What `completeRun` recorded (null until then). */
  summary: JsonValue
  /** The message given to `failRun` (null otherwise). */
  error: string | null
  /** The project the run belongs to (`projects.setRunProject`), or null. */
  projectId: string | null
  createdAt: Date
  /** When the run completed or failed; null while it runs. */
  completedAt: Date | null
}

/** What `beginPipeline` records. */
export interface PipelineStart {
  /** Pipeline name, e.g. `0001_pls_abc123`. */
  name: string
  /** The fully resolved pipeline configuration. */
  expandedConfig: JsonValue
  /** The generator choices that led to this expansion. */
  generatorChoices?: JsonValue[]
  datasetName: string
  datasetHash?: string | null
  /** The template the pipeline was expanded from, if any. */
  originalTemplate?: JsonValue
}

/** What `completePipeline` records. */
export interface PipelineResult {
  bestVal?: number | null
  bestTest?: number | null
  metric?: string | null
  durationMs?: number | null
}

/** One pipeline: an expansion of a run's template on one dataset. */
export interface Pipeline {
  pipelineId: string
  runId: string
  name: string
  status: StoreStatus
  expandedConfig: JsonValue
  generatorChoices: JsonValue[]
  datasetName: string
  datasetHash: string | null
  originalTemplate: JsonValue
  bestVal: number | null
  bestTest: number | null
  metric: string | null
  durationMs: number | null
  error: string | null
  createdAt: Date
  completedAt: Date | null
}

/** One step of a chain. */
export interface ChainStep {
  stepIdx: number
  operatorClass: string
  params?: JsonValue
  /** The fitted artifact of this step, if it has one. */
  artifactId?: string | null
  /** True for steps with nothing fitted. */
  stateless?: boolean
}

/** What `saveChain` records: the fitted sequence of preprocessing steps and a model. */
export interface ChainInput {
  steps: ChainStep[]
  /** Index (a `stepIdx`) of the model step; -1 or null when the chain has none. */
  modelStepIdx: number | null
  modelClass: string
  /** Display string, e.g. `SNV>Detr>MinMax`. */
  preprocessings?: string
  /** `per_fold`, `shared`, `single_refit`, … */
  foldStrategy?: string
  /** Model artifact per fold id (`fold_0`, …, and `fold_final` for the refit model). */
  foldArtifacts?: Record<string, string>
  /** Artifacts of the non-model steps, by step index (as a string): one id or several, applied in order. */
  sharedArtifacts?: Record<string, string | string[]>
  branchPath?: number[] | null
  sourceIndex?: number | null
}

/** A stored chain. */
export interface Chain extends Required<Omit<ChainInput, 'branchPath' | 'sourceIndex'>> {
  chainId: string
  pipelineId: string
  branchPath: number[] | null
  sourceIndex: number | null
  createdAt: Date
}

/** A numeric array as a caller may give it. */
export type NumericInput = ArrayLike<number> | Float64Array | Float32Array | Int32Array

/** Arrays of one prediction as a caller gives them (every one optional). */
export interface PredictionArraysInput {
  yTrue?: NumericInput | null
  yPred?: NumericInput | null
  /** Class probabilities: row-major values with `yProbaShape`, or one array per sample. */
  yProba?: NumericInput | ArrayLike<number>[] | null
  /** Shape of `yProba` (e.g. `[nSamples, nClasses]`); inferred from rows or taken as `[length]`. */
  yProbaShape?: number[] | null
  sampleIndices?: NumericInput | null
  weights?: NumericInput | null
}

/** Arrays of one prediction as the store returns them (null: not stored). */
export interface PredictionArrays {
  yTrue: Float64Array | null
  yPred: Float64Array | null
  /** Row-major values; see `yProbaShape`. */
  yProba: Float64Array | null
  yProbaShape: number[] | null
  /** Indices of the samples, as int32. */
  sampleIndices: Int32Array | null
  weights: Float64Array | null
}

/** The scalar fields of a prediction. */
export interface PredictionFields {
  pipelineId: string
  chainId: string
  datasetName: string
  modelName: string
  modelClass: string
  /** e.g. `fold_0`, `fold_final`, `avg`. */
  foldId: string
  /** `train`, `val` or `test`. */
  partition: string
  valScore?: number | null
  testScore?: number | null
  trainScore?: number | null
  metric?: string | null
  taskType?: string | null
  nSamples?: number | null
  nFeatures?: number | null
  /** Every metric computed, e.g. `{ val: { rmse: 0.3, r2: 0.9 } }`. */
  scores?: JsonValue
  bestParams?: JsonValue
  branchId?: number | null
  branchName?: string | null
  exclusionCount?: number | null
  exclusionRate?: number | null
  preprocessings?: string | null
}

/** What `savePrediction` takes. */
export interface PredictionInput extends PredictionFields {
  /** An id of your own (checked); a new one is made when absent. */
  predictionId?: string
  /** Arrays saved with the prediction, in the same commit. */
  arrays?: PredictionArraysInput | null
}

/** A stored prediction. */
export interface Prediction extends Required<PredictionFields> {
  predictionId: string
  /** The run of its pipeline. */
  runId: string
  createdAt: Date
  updatedAt: Date
  /** Present when asked for with `{ arrays: true }` (null when none were saved). */
  arrays?: PredictionArrays | null
}

/** Filters of `listRuns`. */
export interface RunFilter {
  status?: StoreStatus
  /** Runs whose datasets include one with this name. */
  dataset?: string
  /** Default 100. */
  limit?: number
  offset?: number
}

/** Filters of `listPipelines`. */
export interface PipelineFilter {
  runId?: string
  datasetName?: string
}

/** Filters of `queryPredictions` (AND of those given). */
export interface PredictionFilter {
  datasetName?: string
  /** A SQL LIKE pattern (`%` any run, `_` one character), matched case-sensitively. */
  modelClass?: string
  partition?: string
  foldId?: string
  branchId?: number | null
  pipelineId?: string
  chainId?: string
  runId?: string
  taskType?: string
  limit?: number
  offset?: number
}

/** Score columns `topPredictions` may rank by. */
export const METRIC_COLUMNS = ['valScore', 'testScore', 'trainScore'] as const
/** A score column `topPredictions` ranks by: one of {@link METRIC_COLUMNS}. */
export type MetricColumn = (typeof METRIC_COLUMNS)[number]

/** Columns `topPredictions` may group by. */
export const GROUP_COLUMNS = ['modelClass', 'modelName', 'datasetName', 'pipelineId', 'chainId', 'foldId', 'partition', 'branchId', 'branchName', 'taskType', 'preprocessings', 'metric'] as const
/** A column `topPredictions` groups by: one of {@link GROUP_COLUMNS}. */
export type GroupColumn = (typeof GROUP_COLUMNS)[number]

/** Options of `topPredictions`. */
export interface TopOptions {
  /** Default `valScore`. */
  metric?: MetricColumn
  /** Lowest first (default true: errors such as RMSE); false for scores such as R². */
  ascending?: boolean
  /** Default `val`; null for every partition. */
  partition?: string | null
  datasetName?: string
  taskType?: string
  /** Top `n` within each value of this column. */
  groupBy?: GroupColumn
}

/** What `saveArtifact` records with the bytes. */
export interface ArtifactOptions {
  operatorClass: string
  /** e.g. `model`, `transformer`, `scaler`. */
  artifactType: string
  /** How the bytes are serialised, e.g. `joblib`, `onnx`, `json`. */
  format: string
  /** Cross-run cache key: hash of the chain up to this step. */
  chainHash?: string
  /** Cross-run cache key: hash of the data the step was fitted on. */
  dataHash?: string
  /** The dataset whose change invalidates the cache key. */
  datasetHash?: string
}

/** A stored artifact (its bytes come from `loadArtifact`). */
export interface ArtifactMeta {
  /** The SHA-256 of its bytes (64 hex digits). */
  artifactId: string
  operatorClass: string
  artifactType: string
  format: string
  size: number
  /** Saves minus releases by deleted chains; 0: `gcArtifacts` removes it. */
  refCount: number
  chainHash: string | null
  dataHash: string | null
  datasetHash: string | null
  createdAt: Date
}

/** What `gcArtifacts` removed (or, with `dryRun`, would remove). */
export interface GcReport {
  dryRun: boolean
  /** Ids of the artifacts removed. */
  removed: string[]
  /** Their total size. */
  bytes: number
}

/** Severity of a log entry. */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error'

/** What `logStep` records. */
export interface LogStepInput {
  stepIdx?: number | null
  operatorClass?: string | null
  /** e.g. `start`, `end`, `fit`, `skip`. */
  event: string
  durationMs?: number | null
  message?: string | null
  details?: JsonValue
  /** Default `info`. */
  level?: LogLevel
}

/** One log entry. */
export interface LogEntry {
  logId: number
  pipelineId: string
  stepIdx: number | null
  operatorClass: string | null
  event: string
  durationMs: number | null
  message: string | null
  details: JsonValue
  level: LogLevel
  createdAt: Date
}

/** `runLogSummary`: the logs of a run's pipelines, counted. */
export interface RunLogSummary {
  runId: string
  logCount: number
  warningCount: number
  errorCount: number
  /** Sum of the entries' durations (ms). */
  totalDurationMs: number
}

/** Options of `deleteRun`. */
export interface DeleteRunOptions {
  /** Release the artifacts the run's chains hold and remove those left unreferenced (default true). */
  deleteArtifacts?: boolean
}

/** Options of `arrays.load`. */
export interface ArrayLoadOptions {
  /** Only predictions of this dataset. */
  datasetName?: string
}

/** What `arrays.compact` did to one dataset. */
export interface CompactResult {
  rowsBefore: number
  rowsAfter: number
  rowsRemoved: number
  bytesBefore: number
  bytesAfter: number
}

/** `arrays.stats()`: array storage by dataset. */
export interface ArrayStats {
  datasets: { datasetName: string; rows: number; tombstones: number; segments: number; bytes: number }[]
  rows: number
  tombstones: number
  segments: number
  bytes: number
}

/** A project: a named group of runs. */
export interface Project {
  projectId: string
  name: string
  description: string
  /** Anything else (color, tags, …). */
  meta: JsonObject
  createdAt: Date
  updatedAt: Date
}

/** What `projects.create` / `update` take. */
export interface ProjectInput {
  description?: string
  meta?: JsonObject
}

/** What `vacuum` reports: every dataset compacted, then the vault optimised (`vault.optimize()`). */
export interface VacuumReport {
  arrays: Record<string, CompactResult>
  /** Bytes of the database image and log before and after. */
  bytesBefore: number
  bytesAfter: number
}
