// The store's exports, made on demand on the calling side from what the store returns: a chain as an
// `.n4a` bundle (nirs4all's zip layout), a pipeline's configuration as JSON, a run as YAML, and
// predictions as a Parquet file. The zip, YAML and Parquet code is loaded by dynamic import on first
// use, so a page that never exports does not download it. Layouts: docs/store.md.
import { Field, Float64, Int32, List, Table, vectorFromArray, type Vector } from 'apache-arrow'
import { InvalidArgumentError } from '../../../errors/errors.js'
import { writeParquet, type ParquetWriteOptions } from '../../../codec/parquet.js'
import type { ArtifactMeta, Chain, JsonValue, Pipeline, PredictionArrays, PredictionFilter, Run } from '../shared/store-types.js'

/** The store calls the exports use (a `Store` has them all). */
export interface ExportSource {
  getRun(runId: string): Promise<Run>
  getPipeline(pipelineId: string): Promise<Pipeline>
  listPipelines(filter: { runId?: string }): Promise<Table>
  getChain(chainId: string): Promise<Chain>
  chainsForPipeline(pipelineId: string): Promise<Table>
  getArtifact(artifactId: string): Promise<ArtifactMeta>
  loadArtifact(artifactId: string): Promise<Uint8Array>
  queryPredictions(filter: PredictionFilter): Promise<Table>
  readonly arrays: { load(ids: string[]): Promise<Map<string, PredictionArrays>> }
}

/** Fold keys of a refit model: nirs4all's canonical `fold_final`, and the legacy `final`. */
export const REFIT_FOLD_KEYS = ['fold_final', 'final'] as const

/** The refit key of a chain's fold artifacts, if it has one. */
export function refitKey(foldArtifacts: Record<string, string>): string | undefined {
  return REFIT_FOLD_KEYS.find((k) => typeof foldArtifacts[k] === 'string' && foldArtifacts[k] !== '')
}

/** Artifact ids of a step's shared artifacts, in order (a single id or a list). */
export function sharedIds(value: string | string[] | undefined): string[] {
  if (value === undefined) return []
  return (Array.isArray(value) ? value : [value]).filter((id) => typeof id === 'string' && id !== '')
}

/** A file extension for an artifact's serialisation format. */
export function artifactExtension(format: string): string {
  const known: Record<string, string> = { joblib: 'joblib', pickle: 'pkl', cloudpickle: 'pkl', pkl: 'pkl', json: 'json', onnx: 'onnx', npy: 'npy', npz: 'npz', keras: 'keras', pt: 'pt', torch: 'pt', safetensors: 'safetensors' }
  const f = format.toLowerCase()
  return known[f] ?? (/^[a-z0-9]{1,16}$/.test(f) ? f : 'bin')
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString())

function stepsJson(chain: Chain): JsonValue[] {
  return chain.steps.map((s) => ({
    step_idx: s.stepIdx,
    operator_class: s.operatorClass,
    params: s.params ?? {},
    artifact_id: s.artifactId ?? null,
    stateless: s.stateless ?? false,
  }))
}

/**
 * The files of a chain's `.n4a` bundle: `manifest.json`, `chain.json` and `artifacts/<sha256>.<ext>`.
 * With a refit model (`fold_final`), only that model is bundled and the fold strategy is
 * `single_refit`, as nirs4all does.
 */
export async function chainBundleFiles(source: ExportSource, chainId: string, now = new Date()): Promise<Record<string, Uint8Array>> {
  const chain = await source.getChain(chainId)
  const refit = refitKey(chain.foldArtifacts)
  const foldArtifacts: Record<string, string> = refit ? { fold_final: chain.foldArtifacts[refit]! } : { ...chain.foldArtifacts }
  const ids = new Set<string>()
  for (const id of Object.values(foldArtifacts)) if (id) ids.add(id)
  for (const value of Object.values(chain.sharedArtifacts)) for (const id of sharedIds(value)) ids.add(id)
  const files: Record<string, Uint8Array> = {}
  const artifactFiles: Record<string, JsonValue> = {}
  for (const id of [...ids].sort()) {
    const [meta, bytes] = await Promise.all([source.getArtifact(id), source.loadArtifact(id)])
    const file = `artifacts/${id}.${artifactExtension(meta.format)}`
    files[file] = bytes
    artifactFiles[id] = { file, operator_class: meta.operatorClass, artifact_type: meta.artifactType, format: meta.format, size: meta.size }
  }
  const encoder = new TextEncoder()
  const manifest = {
    chain_id: chain.chainId,
    model_class: chain.modelClass,
    model_step_index: chain.modelStepIdx,
    preprocessings: chain.preprocessings,
    fold_strategy: refit ? 'single_refit' : chain.foldStrategy,
    has_refit: refit !== undefined,
    exported_at: now.toISOString(),
    pipeline_id: chain.pipelineId,
    branch_path: chain.branchPath,
    source_index: chain.sourceIndex,
    artifacts: artifactFiles,
    producer: 'labvault',
  }
  const chainJson = {
    steps: stepsJson(chain),
    model_step_idx: chain.modelStepIdx,
    fold_artifacts: foldArtifacts,
    shared_artifacts: chain.sharedArtifacts,
  }
  files['manifest.json'] = encoder.encode(JSON.stringify(manifest, null, 2))
  files['chain.json'] = encoder.encode(JSON.stringify(chainJson, null, 2))
  return files
}

/** A chain as an `.n4a` zip (see {@link chainBundleFiles}). */
export async function exportChainBytes(source: ExportSource, chainId: string): Promise<Uint8Array> {
  const files = await chainBundleFiles(source, chainId)
  const { zipSync } = await import('fflate')
  // Artifacts are often compressed already (joblib, onnx): store those, deflate the JSON.
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, [bytes, { level: name.endsWith('.json') ? 6 : 0 }]])))
}

/** A pipeline's expanded configuration as indented JSON text (what nirs4all re-runs). */
export async function exportPipelineConfigText(source: ExportSource, pipelineId: string): Promise<string> {
  const pipeline = await source.getPipeline(pipelineId)
  return `${JSON.stringify(pipeline.expandedConfig, null, 2)}\n`
}

function idsOf(table: Table, column: string): string[] {
  const vector = table.getChild(column)
  return vector ? (Array.from(vector.toArray()) as string[]) : []
}

/** The document `exportRun` writes: the run, its pipelines and their chains (no artifacts, no arrays). */
export async function runDocument(source: ExportSource, runId: string): Promise<Record<string, JsonValue>> {
  const run = await source.getRun(runId)
  const pipelines: JsonValue[] = []
  for (const pipelineId of idsOf(await source.listPipelines({ runId }), 'pipelineId')) {
    const p = await source.getPipeline(pipelineId)
    const chains: JsonValue[] = []
    for (const chainId of idsOf(await source.chainsForPipeline(pipelineId), 'chainId')) {
      const c = await source.getChain(chainId)
      chains.push({
        chain_id: c.chainId, model_class: c.modelClass, model_step_idx: c.modelStepIdx, preprocessings: c.preprocessings,
        fold_strategy: c.foldStrategy, steps: stepsJson(c), fold_artifacts: c.foldArtifacts, shared_artifacts: c.sharedArtifacts,
        branch_path: c.branchPath, source_index: c.sourceIndex, created_at: iso(c.createdAt),
      })
    }
    pipelines.push({
      pipeline_id: p.pipelineId, name: p.name, status: p.status, dataset_name: p.datasetName, dataset_hash: p.datasetHash,
      expanded_config: p.expandedConfig, generator_choices: p.generatorChoices, best_val: p.bestVal, best_test: p.bestTest,
      metric: p.metric, duration_ms: p.durationMs, error: p.error, created_at: iso(p.createdAt), completed_at: iso(p.completedAt), chains,
    })
  }
  return {
    run_id: run.runId, name: run.name, status: run.status, created_at: iso(run.createdAt), completed_at: iso(run.completedAt),
    config: run.config, datasets: run.datasets, summary: run.summary, error: run.error, project_id: run.projectId, pipelines,
  }
}

/** A run as YAML text (see {@link runDocument}). */
export async function exportRunText(source: ExportSource, runId: string): Promise<string> {
  const doc = await runDocument(source, runId)
  const { stringify } = await import('yaml')
  // No anchors/aliases: the same sub-object twice is written twice, as any reader expects.
  return stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 })
}

/** Options of `exportPredictionsParquet`. */
export interface PredictionsParquetOptions {
  /** Add each prediction's arrays as list columns (y_true, y_pred, y_proba, y_proba_shape, sample_indices, weights). Default false, as nirs4all. */
  arrays?: boolean
  /** Parquet writer options (compression, level, rowGroupSize, zstdWasm). */
  parquet?: ParquetWriteOptions
}

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

/**
 * The predictions matching `filter` as Parquet bytes: nirs4all's column names (snake_case), zstd
 * pages. No match is a valid file with the columns and no rows.
 */
export async function exportPredictionsParquetBytes(source: ExportSource, filter: PredictionFilter, options: PredictionsParquetOptions = {}): Promise<Uint8Array> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object')
  if (options.arrays !== undefined && typeof options.arrays !== 'boolean') throw new InvalidArgumentError(`options.arrays must be true or false, got ${String(options.arrays)}`)
  if (options.parquet !== undefined && (options.parquet === null || typeof options.parquet !== 'object')) throw new InvalidArgumentError('options.parquet must be an object of Parquet writer options')
  const table = await source.queryPredictions(filter)
  const columns: Record<string, Vector> = {}
  table.schema.fields.forEach((field, i) => {
    columns[snake(field.name)] = table.getChildAt(i)!
  })
  if (options.arrays) {
    const ids = idsOf(table, 'predictionId')
    const loaded = ids.length ? await source.arrays.load(ids) : new Map<string, PredictionArrays>()
    const list = (t: Float64 | Int32) => new List(new Field('element', t, true))
    const pick = (key: keyof PredictionArrays) => ids.map((id) => {
      const v = loaded.get(id)?.[key]
      return v === null || v === undefined ? null : Array.from(v as ArrayLike<number>)
    })
    columns.y_true = vectorFromArray(pick('yTrue'), list(new Float64()))
    columns.y_pred = vectorFromArray(pick('yPred'), list(new Float64()))
    columns.y_proba = vectorFromArray(pick('yProba'), list(new Float64()))
    columns.y_proba_shape = vectorFromArray(pick('yProbaShape'), list(new Int32()))
    columns.sample_indices = vectorFromArray(pick('sampleIndices'), list(new Int32()))
    columns.weights = vectorFromArray(pick('weights'), list(new Float64()))
  }
  return writeParquet(new Table(columns), { ...options.parquet, metadata: { producer: 'labvault', ...options.parquet?.metadata } })
}
