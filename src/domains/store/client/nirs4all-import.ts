// importNirs4allWorkspace (Node): a nirs4all workspace — store.sqlite, arrays/*.parquet,
// artifacts/ — moved into a vault's store in one transaction: all of it arrives, or nothing does.
// Exported from labvault's Node entry only (it reads files).
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import initSqlJs from 'sql.js'
import { CorruptionError, NotFoundError, UnsupportedError } from '../../../errors/errors.js'
import type { ChainStep, JsonValue, PredictionInput } from '../shared/store-types.js'
import { checkFolder, json, logLevel, num, readSidecars, tableRows, text, type Row } from './nirs4all-rows.js'
import type { Store } from './store.js'

/** What the import needs of a vault: a transaction whose `store` commits atomically. */
export interface ImportTarget {
  /** Run `fn` as one transaction (a Vault's `transaction`): the whole import commits, or nothing. */
  transaction<T>(fn: (tx: { readonly store: Store }) => Promise<T>): Promise<T>
}

/** What `importNirs4allWorkspace` brought in, and how nirs4all's ids map to the vault's. */
export interface Nirs4allImportReport {
  /** `PRAGMA user_version` of the workspace's store.sqlite. */
  schemaVersion: number
  /** How many of each kind of record were imported. */
  counts: { runs: number; pipelines: number; chains: number; predictions: number; arrays: number; artifacts: number; logs: number; projects: number }
  /** nirs4all id → vault id (runs, pipelines and chains get new ids; prediction ids are kept; artifact ids become SHA-256s). */
  ids: { runs: Record<string, string>; pipelines: Record<string, string>; chains: Record<string, string>; artifacts: Record<string, string>; projects: Record<string, string> }
  /** What was left out and why (array rows of deleted predictions, predictions without a chain, …). */
  skipped: string[]
}

const SCHEMA_VERSIONS_KNOWN = 5

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false)
}

/** The bytes of an artifact row: at its artifact_path (relative to the workspace or to artifacts/), else found by content hash. */
async function artifactBytes(folder: string, row: Row): Promise<Uint8Array | undefined> {
  const path = text(row, 'artifact_path')
  const hash = text(row, 'content_hash')
  const candidates = path ? [join(folder, path), join(folder, 'artifacts', path)] : []
  for (const p of candidates) if (await exists(p)) return new Uint8Array(await readFile(p))
  if (hash && /^[0-9a-f]{4,}$/i.test(hash)) {
    const shard = join(folder, 'artifacts', hash.slice(0, 2))
    const names = await readdir(shard).catch(() => [] as string[])
    const name = names.find((n) => n === hash || n.startsWith(`${hash}.`))
    if (name) return new Uint8Array(await readFile(join(shard, name)))
  }
  return undefined
}

function mapId(map: Record<string, string>, id: unknown, what: string): string {
  const mapped = typeof id === 'string' ? map[id] : undefined
  if (mapped === undefined) throw new CorruptionError(`${what} names artifact ${JSON.stringify(id)}, which the workspace's artifacts table does not hold`)
  return mapped
}

/**
 * Imports a nirs4all workspace folder into `vault.store`, in one transaction. Runs, pipelines,
 * chains, logs and projects get new ids (returned in the report's `ids`); predictions keep theirs;
 * artifacts become content-addressed (their SHA-256) with nirs4all's reference counts; arrays come
 * from the Parquet sidecars (rows of deleted predictions are left out). Statuses, configs, scores
 * and JSON fields arrive as they were; creation times are those of the import.
 * NotFoundError when the folder has no store.sqlite; UnsupportedError for a workspace still open
 * in nirs4all (a non-empty write-ahead log) or a DuckDB-era one (store.duckdb only).
 */
export async function importNirs4allWorkspace(vault: ImportTarget, folder: string): Promise<Nirs4allImportReport> {
  checkFolder(folder)
  const dbPath = join(folder, 'store.sqlite')
  if (!(await exists(dbPath))) {
    if (await exists(join(folder, 'store.duckdb'))) throw new UnsupportedError(`${folder} is a DuckDB-era nirs4all workspace (store.duckdb): open it once with a current nirs4all, which migrates it to store.sqlite, then import`)
    throw new NotFoundError(`${folder} is not a nirs4all workspace: it has no store.sqlite`)
  }
  const wal = await stat(`${dbPath}-wal`).catch(() => undefined)
  if (wal && wal.size > 0) throw new UnsupportedError(`${dbPath}-wal is not empty: the workspace is open in nirs4all (or was not closed); close it there, then import`)
  const SQL = await initSqlJs()
  const db = new SQL.Database(new Uint8Array(await readFile(dbPath)))
  try {
    const schemaVersion = Number(db.exec('PRAGMA user_version')[0]?.values[0]?.[0] ?? 0)
    if (schemaVersion > SCHEMA_VERSIONS_KNOWN) throw new UnsupportedError(`store.sqlite has schema version ${schemaVersion}; this labvault reads nirs4all workspaces up to version ${SCHEMA_VERSIONS_KNOWN}`)
    const rows = {
      projects: tableRows(db, 'projects'),
      runs: tableRows(db, 'runs', 'created_at, rowid'),
      pipelines: tableRows(db, 'pipelines', 'created_at, rowid'),
      chains: tableRows(db, 'chains', 'created_at, rowid'),
      predictions: tableRows(db, 'predictions', 'created_at, rowid'),
      artifacts: tableRows(db, 'artifacts', 'created_at, rowid'),
      logs: tableRows(db, 'logs', 'created_at, rowid'),
    }
    const arrayFiles: { name: string; bytes: Uint8Array }[] = []
    const arraysDir = join(folder, 'arrays')
    for (const name of (await readdir(arraysDir).catch(() => [] as string[])).filter((n) => n.endsWith('.parquet')).sort()) arrayFiles.push({ name, bytes: new Uint8Array(await readFile(join(arraysDir, name))) })
    const sidecars = await readSidecars(arrayFiles)

    // Every referenced artifact's bytes, read before the transaction starts.
    const referenced = new Set<string>()
    for (const c of rows.chains) {
      for (const s of (json(c, 'steps', 'chains') ?? []) as { artifact_id?: unknown }[]) if (typeof s?.artifact_id === 'string' && s.artifact_id) referenced.add(s.artifact_id)
      for (const id of Object.values((json(c, 'fold_artifacts', 'chains') ?? {}) as Record<string, unknown>)) if (typeof id === 'string' && id) referenced.add(id)
      for (const [k, v] of Object.entries((json(c, 'shared_artifacts', 'chains') ?? {}) as Record<string, unknown>)) if (!k.startsWith('_')) for (const id of [v].flat()) if (typeof id === 'string' && id) referenced.add(id)
    }
    const skipped: string[] = []
    const artifacts: { row: Row; bytes: Uint8Array }[] = []
    for (const row of rows.artifacts) {
      const id = String(row.artifact_id)
      const bytes = await artifactBytes(folder, row)
      const refs = num(row, 'ref_count') ?? 1
      if (!bytes) {
        if (referenced.has(id)) throw new NotFoundError(`artifact ${id} is used by a chain but its file (${text(row, 'artifact_path') ?? 'no path'}) is not in ${join(folder, 'artifacts')}`)
        skipped.push(`artifact ${id}: no file, and no chain uses it`)
        continue
      }
      if (refs <= 0 && !referenced.has(id)) {
        skipped.push(`artifact ${id}: reference count 0 (garbage nirs4all had not collected yet)`)
        continue
      }
      artifacts.push({ row, bytes })
    }

    return await vault.transaction(async (tx) => {
      const s = tx.store
      const ids: Nirs4allImportReport['ids'] = { runs: {}, pipelines: {}, chains: {}, artifacts: {}, projects: {} }
      const counts = { runs: 0, pipelines: 0, chains: 0, predictions: 0, arrays: 0, artifacts: 0, logs: 0, projects: 0 }
      for (const p of rows.projects) {
        const color = text(p, 'color')
        const project = await s.projects.getOrCreate(String(p.name), { description: text(p, 'description') ?? '', meta: color ? { color } : {} })
        ids.projects[String(p.project_id)] = project.projectId
        counts.projects++
      }
      for (const { row, bytes } of artifacts) {
        const options = {
          operatorClass: text(row, 'operator_class') ?? '', artifactType: text(row, 'artifact_type') ?? '', format: text(row, 'format') ?? 'joblib',
          ...(text(row, 'chain_path_hash') && text(row, 'input_data_hash') ? { chainHash: text(row, 'chain_path_hash')!, dataHash: text(row, 'input_data_hash')! } : {}),
          ...(text(row, 'dataset_hash') ? { datasetHash: text(row, 'dataset_hash')! } : {}),
        }
        // labvault counts references by saves, as nirs4all does: save as many times as it counted.
        const times = Math.max(1, num(row, 'ref_count') ?? 1)
        let id = ''
        for (let i = 0; i < times; i++) id = await s.saveArtifact(bytes, options)
        ids.artifacts[String(row.artifact_id)] = id
        counts.artifacts++
      }
      for (const r of rows.runs) {
        const runId = await s.beginRun(String(r.name), json(r, 'config', 'runs', skipped) ?? {}, (json(r, 'datasets', 'runs', skipped) ?? []) as JsonValue[])
        ids.runs[String(r.run_id)] = runId
        const project = text(r, 'project_id')
        if (project && ids.projects[project]) await s.projects.setRunProject(runId, ids.projects[project]!)
        counts.runs++
      }
      const pipelineStatus: [string, Row][] = []
      for (const p of rows.pipelines) {
        const runId = ids.runs[String(p.run_id)]
        if (!runId) throw new CorruptionError(`pipeline ${String(p.pipeline_id)} belongs to run ${String(p.run_id)}, which the runs table does not hold`)
        const original = json(p, 'original_template', 'pipelines', skipped)
        const pid = await s.beginPipeline(runId, {
          name: String(p.name), expandedConfig: json(p, 'expanded_config', 'pipelines', skipped), generatorChoices: (json(p, 'generator_choices', 'pipelines', skipped) ?? []) as JsonValue[],
          datasetName: String(p.dataset_name), datasetHash: text(p, 'dataset_hash'), ...(original !== null ? { originalTemplate: original } : {}),
        })
        ids.pipelines[String(p.pipeline_id)] = pid
        pipelineStatus.push([pid, p])
        counts.pipelines++
      }
      for (const c of rows.chains) {
        const pid = ids.pipelines[String(c.pipeline_id)]
        if (!pid) throw new CorruptionError(`chain ${String(c.chain_id)} belongs to pipeline ${String(c.pipeline_id)}, which the pipelines table does not hold`)
        const where = `chain ${String(c.chain_id)}`
        const steps = ((json(c, 'steps', 'chains', skipped) ?? []) as Record<string, JsonValue>[]).map((st): ChainStep => ({
          stepIdx: Number(st.step_idx), operatorClass: String(st.operator_class ?? ''), params: st.params ?? {},
          artifactId: typeof st.artifact_id === 'string' && st.artifact_id ? mapId(ids.artifacts, st.artifact_id, where) : null, stateless: st.stateless === true,
        }))
        const foldArtifacts: Record<string, string> = {}
        for (const [k, v] of Object.entries((json(c, 'fold_artifacts', 'chains', skipped) ?? {}) as Record<string, unknown>)) if (typeof v === 'string' && v) foldArtifacts[k] = mapId(ids.artifacts, v, where)
        const sharedArtifacts: Record<string, string | string[]> = {}
        for (const [k, v] of Object.entries((json(c, 'shared_artifacts', 'chains', skipped) ?? {}) as Record<string, unknown>)) {
          if (k.startsWith('_')) {
            skipped.push(`${where}: shared_artifacts.${k} (nirs4all metadata, not an artifact)`)
            continue
          }
          sharedArtifacts[k] = Array.isArray(v) ? v.filter((x) => typeof x === 'string' && x).map((x) => mapId(ids.artifacts, x, where)) : mapId(ids.artifacts, v, where)
        }
        const modelStepIdx = num(c, 'model_step_idx')
        const chainId = await s.saveChain(pid, {
          steps, modelStepIdx: modelStepIdx === null || modelStepIdx < 0 ? null : modelStepIdx, modelClass: text(c, 'model_class') ?? '',
          preprocessings: text(c, 'preprocessings') ?? '', foldStrategy: text(c, 'fold_strategy') ?? 'per_fold', foldArtifacts, sharedArtifacts,
          branchPath: (json(c, 'branch_path', 'chains', skipped) as number[] | null) ?? null, sourceIndex: num(c, 'source_index'),
        })
        ids.chains[String(c.chain_id)] = chainId
        counts.chains++
      }
      const batch: PredictionInput[] = []
      const flush = async () => {
        if (batch.length) await s.savePredictions(batch.splice(0))
      }
      const imported = new Set<string>()
      for (const p of rows.predictions) {
        const predictionId = String(p.prediction_id)
        const chainId = text(p, 'chain_id') ? ids.chains[String(p.chain_id)] : undefined
        const pipelineId = ids.pipelines[String(p.pipeline_id)]
        if (!pipelineId || !chainId) {
          skipped.push(`prediction ${predictionId}: ${pipelineId ? `its chain ${JSON.stringify(p.chain_id)} is not in the workspace` : `its pipeline ${String(p.pipeline_id)} is not in the workspace`}`)
          continue
        }
        const sidecar = sidecars.get(predictionId)
        const { datasetFile: _file, ...arrays } = sidecar ?? { datasetFile: '' }
        batch.push({
          predictionId, pipelineId, chainId, datasetName: String(p.dataset_name), modelName: String(p.model_name ?? ''), modelClass: String(p.model_class ?? ''),
          foldId: String(p.fold_id ?? ''), partition: String(p.partition ?? ''), valScore: num(p, 'val_score'), testScore: num(p, 'test_score'), trainScore: num(p, 'train_score'),
          metric: text(p, 'metric'), taskType: text(p, 'task_type'), nSamples: num(p, 'n_samples'), nFeatures: num(p, 'n_features'),
          scores: json(p, 'scores', 'predictions', skipped), bestParams: json(p, 'best_params', 'predictions', skipped), branchId: num(p, 'branch_id'), branchName: text(p, 'branch_name'),
          exclusionCount: num(p, 'exclusion_count'), exclusionRate: num(p, 'exclusion_rate'), preprocessings: text(p, 'preprocessings'),
          ...(sidecar ? { arrays } : {}),
        })
        imported.add(predictionId)
        counts.predictions++
        if (sidecar) counts.arrays++
        if (batch.length >= 500) await flush()
      }
      await flush()
      const known = new Set(rows.predictions.map((p) => String(p.prediction_id)))
      for (const id of sidecars.keys()) if (!known.has(id)) skipped.push(`arrays of ${id} (arrays/${sidecars.get(id)!.datasetFile}): no such prediction (deleted in nirs4all, awaiting compaction)`)
      for (const l of rows.logs) {
        const pid = ids.pipelines[String(l.pipeline_id)]
        if (!pid) {
          skipped.push(`log ${String(l.log_id)}: its pipeline ${String(l.pipeline_id)} is not in the workspace`)
          continue
        }
        await s.logStep(pid, { stepIdx: num(l, 'step_idx'), operatorClass: text(l, 'operator_class'), event: String(l.event ?? ''), durationMs: num(l, 'duration_ms'), message: text(l, 'message'), details: json(l, 'details', 'logs', skipped), level: logLevel(text(l, 'level')) })
        counts.logs++
      }
      // Statuses last: failing a pipeline rolls its children back, as nirs4all's fail_pipeline does.
      for (const [pid, p] of pipelineStatus) {
        if (p.status === 'completed') await s.completePipeline(pid, { bestVal: num(p, 'best_val'), bestTest: num(p, 'best_test'), metric: text(p, 'metric'), durationMs: num(p, 'duration_ms') })
        else if (p.status === 'failed') await s.failPipeline(pid, text(p, 'error') ?? 'failed')
      }
      for (const r of rows.runs) {
        const runId = ids.runs[String(r.run_id)]!
        if (r.status === 'completed') await s.completeRun(runId, json(r, 'summary', 'runs', skipped) ?? {})
        else if (r.status === 'failed') await s.failRun(runId, text(r, 'error') ?? 'failed')
      }
      return { schemaVersion, counts, ids, skipped }
    })
  } finally {
    db.close()
  }
}
