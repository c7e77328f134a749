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
  /** The run's id (made by `beginRun`). */
  runId: string
  /** The name given to `beginRun`. */
  name: string
  /** Running until `completeRun` or `failRun`. */
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
  /** When `beginRun` was called. */
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
  /** The dataset the pipeline runs on. */
  datasetName: string
  /** A hash of that dataset's content, when known (cache keys use it). */
  datasetHash?: string | null
  /** The template the pipeline was expanded from, if any. */
  originalTemplate?: JsonValue
}

/** What `completePipeline` records. */
export interface PipelineResult {
  /** The best validation score reached. */
  bestVal?: number | null
  /** The test score of that best model. */
  bestTest?: number | null
  /** The metric the scores are in (e.g. `rmse`). */
  metric?: string | null
  /** How long the pipeline ran, in ms. */
  durationMs?: number | null
}

/** One pipeline: an expansion of a run's template on one dataset. */
export interface Pipeline {
  /** The pipeline's id (made by `beginPipeline`). */
  pipelineId: string
  /** The run it belongs to. */
  runId: string
  /** Its name, e.g. `0001_pls_abc123`. */
  name: string
  /** Running until `completePipeline` or `failPipeline`. */
  status: StoreStatus
  /** The fully resolved configuration it ran. */
  expandedConfig: JsonValue
  /** The generator choices that led to it (empty when none). */
  generatorChoices: JsonValue[]
  /** The dataset it ran on. */
  datasetName: string
  /** A hash of that dataset's content, or null. */
  datasetHash: string | null
  /** The template it was expanded from, or null. */
  originalTemplate: JsonValue
  /** The best validation score (`completePipeline`), or null. */
  bestVal: number | null
  /** The test score of that best model, or null. */
  bestTest: number | null
  /** The metric of the scores, or null. */
  metric: string | null
  /** How long it ran in ms, or null. */
  durationMs: number | null
  /** The message given to `failPipeline`, or null. */
  error: string | null
  /** When `beginPipeline` was called. */
  createdAt: Date
  /** When it completed or failed; null while it runs. */
  completedAt: Date | null
}

/** One step of a chain. */
export interface ChainStep {
  /** The step's position in the pipeline. */
  stepIdx: number
  /** The operator's class name, e.g. `SNV` or `PLSRegression`. */
  operatorClass: string
  /** The operator's parameters. */
  params?: JsonValue
  /** The fitted artifact of this step, if it has one. */
  artifactId?: string | null
  /** True for steps with nothing fitted. */
  stateless?: boolean
}

/** What `saveChain` records: the fitted sequence of preprocessing steps and a model. */
export interface ChainInput {
  /** The steps in order. */
  steps: ChainStep[]
  /** Index (a `stepIdx`) of the model step; -1 or null when the chain has none. */
  modelStepIdx: number | null
  /** The model's class name. */
  modelClass: string
  /** Display string, e.g. `SNV>Detr>MinMax`. */
  preprocessings?: string
  /** `per_fold`, `shared`, `single_refit`, … */
  foldStrategy?: string
  /** Model artifact per fold id (`fold_0`, …, and `fold_final` for the refit model). */
  foldArtifacts?: Record<string, string>
  /** Artifacts of the non-model steps, by step index (as a string): one id or several, applied in order. */
  sharedArtifacts?: Record<string, string | string[]>
  /** The branch indices leading to this chain in a branching pipeline, or null. */
  branchPath?: number[] | null
  /** The data source it was fitted on (multi-source datasets), or null. */
  sourceIndex?: number | null
}

/** A stored chain. */
export interface Chain extends Required<Omit<ChainInput, 'branchPath' | 'sourceIndex'>> {
  /** The chain's id (made by `saveChain`). */
  chainId: string
  /** The pipeline it belongs to. */
  pipelineId: string
  /** As saved, or null. */
  branchPath: number[] | null
  /** As saved, or null. */
  sourceIndex: number | null
  /** When it was saved. */
  createdAt: Date
}

/** A numeric array as a caller may give it. */
export type NumericInput = ArrayLike<number> | Float64Array | Float32Array | Int32Array

/** Arrays of one prediction as a caller gives them (every one optional). */
export interface PredictionArraysInput {
  /** The true values, one per sample. */
  yTrue?: NumericInput | null
  /** The predicted values, one per sample. */
  yPred?: NumericInput | null
  /** Class probabilities: row-major values with `yProbaShape`, or one array per sample. */
  yProba?: NumericInput | ArrayLike<number>[] | null
  /** Shape of `yProba` (e.g. `[nSamples, nClasses]`); inferred from rows or taken as `[length]`. */
  yProbaShape?: number[] | null
  /** The samples' indices in the dataset (stored as int32). */
  sampleIndices?: NumericInput | null
  /** Per-sample weights. */
  weights?: NumericInput | null
}

/** Arrays of one prediction as the store returns them (null: not stored). */
export interface PredictionArrays {
  /** The true values, or null. */
  yTrue: Float64Array | null
  /** The predicted values, or null. */
  yPred: Float64Array | null
  /** Row-major values; see `yProbaShape`. */
  yProba: Float64Array | null
  /** The shape of `yProba`, or null. */
  yProbaShape: number[] | null
  /** Indices of the samples, as int32. */
  sampleIndices: Int32Array | null
  /** Per-sample weights, or null. */
  weights: Float64Array | null
}

/** The scalar fields of a prediction. */
export interface PredictionFields {
  /** The pipeline that made it. */
  pipelineId: string
  /** The chain (fitted model) that made it. */
  chainId: string
  /** The dataset predicted. */
  datasetName: string
  /** The model's display name. */
  modelName: string
  /** The model's class name. */
  modelClass: string
  /** e.g. `fold_0`, `fold_final`, `avg`. */
  foldId: string
  /** `train`, `val` or `test`. */
  partition: string
  /** The validation score in `metric`. */
  valScore?: number | null
  /** The test score in `metric`. */
  testScore?: number | null
  /** The training score in `metric`. */
  trainScore?: number | null
  /** The metric of the scores, e.g. `rmse`. */
  metric?: string | null
  /** e.g. `regression`, `binary_classification`. */
  taskType?: string | null
  /** How many samples were predicted. */
  nSamples?: number | null
  /** How many features the model saw. */
  nFeatures?: number | null
  /** Every metric computed, e.g. `{ val: { rmse: 0.3, r2: 0.9 } }`. */
  scores?: JsonValue
  /** The hyper-parameters chosen, when tuned. */
  bestParams?: JsonValue
  /** The branch of a branching pipeline, or null. */
  branchId?: number | null
  /** That branch's name, or null. */
  branchName?: string | null
  /** How many samples were excluded (outliers), or null. */
  exclusionCount?: number | null
  /** The excluded fraction (0 … 1), or null. */
  exclusionRate?: number | null
  /** The preprocessing display string, e.g. `SNV>MinMax`. */
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
  /** The prediction's id. */
  predictionId: string
  /** The run of its pipeline. */
  runId: string
  /** When it was first saved. */
  createdAt: Date
  /** When it was last saved. */
  updatedAt: Date
  /** Present when asked for with `{ arrays: true }` (null when none were saved). */
  arrays?: PredictionArrays | null
}

/** Filters of `listRuns`. */
export interface RunFilter {
  /** Only runs with this status. */
  status?: StoreStatus
  /** Runs whose datasets include one with this name. */
  dataset?: string
  /** Default 100. */
  limit?: number
  /** Skip this many runs first (default 0). */
  offset?: number
}

/** Filters of `listPipelines`. */
export interface PipelineFilter {
  /** Only this run's pipelines. */
  runId?: string
  /** Only pipelines on this dataset. */
  datasetName?: string
}

/** Filters of `queryPredictions` (AND of those given). */
export interface PredictionFilter {
  /** Only predictions of this dataset. */
  datasetName?: string
  /** A SQL LIKE pattern (`%` any run, `_` one character), matched case-sensitively. */
  modelClass?: string
  /** `train`, `val` or `test`. */
  partition?: string
  /** e.g. `fold_0`, `avg`. */
  foldId?: string
  /** Only predictions of this branch. */
  branchId?: number | null
  /** Only this pipeline's. */
  pipelineId?: string
  /** Only this chain's. */
  chainId?: string
  /** Only this run's. */
  runId?: string
  /** Only this task type. */
  taskType?: string
  /** At most this many. */
  limit?: number
  /** Skip this many first. */
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
  /** Only predictions of this dataset. */
  datasetName?: string
  /** Only this task type. */
  taskType?: string
  /** Top `n` within each value of this column. */
  groupBy?: GroupColumn
}

/** What `saveArtifact` records with the bytes. */
export interface ArtifactOptions {
  /** The class of the operator it was fitted for. */
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
  /** As saved. */
  operatorClass: string
  /** As saved, e.g. `model`. */
  artifactType: string
  /** As saved, e.g. `joblib`. */
  format: string
  /** Its size in bytes. */
  size: number
  /** Saves minus releases by deleted chains; 0: `gcArtifacts` removes it. */
  refCount: number
  /** Its cross-run cache key's chain hash, or null. */
  chainHash: string | null
  /** Its cache key's data hash, or null. */
  dataHash: string | null
  /** The dataset whose change invalidates it, or null. */
  datasetHash: string | null
  /** When it was first saved. */
  createdAt: Date
}

/** What `gcArtifacts` removed (or, with `dryRun`, would remove). */
export interface GcReport {
  /** True when nothing was removed (only reported). */
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
  /** The step it is about, if any. */
  stepIdx?: number | null
  /** The operator it is about, if any. */
  operatorClass?: string | null
  /** e.g. `start`, `end`, `fit`, `skip`. */
  event: string
  /** How long the step took, in ms. */
  durationMs?: number | null
  /** Free text. */
  message?: string | null
  /** Anything else, as JSON. */
  details?: JsonValue
  /** Default `info`. */
  level?: LogLevel
}

/** One log entry. */
export interface LogEntry {
  /** The entry's number (increasing). */
  logId: number
  /** The pipeline it was logged for. */
  pipelineId: string
  /** As logged, or null. */
  stepIdx: number | null
  /** As logged, or null. */
  operatorClass: string | null
  /** As logged, e.g. `fit`. */
  event: string
  /** As logged (ms), or null. */
  durationMs: number | null
  /** As logged, or null. */
  message: string | null
  /** As logged (JSON), or null. */
  details: JsonValue
  /** Its severity. */
  level: LogLevel
  /** When it was logged. */
  createdAt: Date
}

/** `runLogSummary`: the logs of a run's pipelines, counted. */
export interface RunLogSummary {
  /** The run. */
  runId: string
  /** Entries logged by its pipelines. */
  logCount: number
  /** Of which at level `warning`. */
  warningCount: number
  /** Of which at level `error`. */
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
  /** Array rows before compaction (tombstones included). */
  rowsBefore: number
  /** Rows kept. */
  rowsAfter: number
  /** Rows removed. */
  rowsRemoved: number
  /** Bytes of the dataset's array segments before. */
  bytesBefore: number
  /** And after. */
  bytesAfter: number
}

/** `arrays.stats()`: array storage by dataset. */
export interface ArrayStats {
  /** Per dataset: rows, deleted rows not yet compacted away (tombstones), segment files and bytes. */
  datasets: { datasetName: string; rows: number; tombstones: number; segments: number; bytes: number }[]
  /** Rows over every dataset. */
  rows: number
  /** Deleted rows not yet compacted away, over every dataset. */
  tombstones: number
  /** Segment files, over every dataset. */
  segments: number
  /** Bytes of the segments, over every dataset. */
  bytes: number
}

/** A project: a named group of runs. */
export interface Project {
  /** The project's id. */
  projectId: string
  /** Its name. */
  name: string
  /** Its description (empty when none). */
  description: string
  /** Anything else (color, tags, …). */
  meta: JsonObject
  /** When it was created. */
  createdAt: Date
  /** When it last changed. */
  updatedAt: Date
}

/** What `projects.create` / `update` take. */
export interface ProjectInput {
  /** Free text about the project. */
  description?: string
  /** Anything else (color, tags, …), as a JSON object. */
  meta?: JsonObject
}

/** What `vacuum` reports: every dataset compacted, then the vault optimised (`vault.optimize()`). */
export interface VacuumReport {
  /** What compaction did, per dataset name. */
  arrays: Record<string, CompactResult>
  /** Bytes of the database image and log before and after. */
  bytesBefore: number
  /** See `bytesBefore`. */
  bytesAfter: number
}
