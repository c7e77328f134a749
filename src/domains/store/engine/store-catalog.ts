import { AlreadyExistsError, InvalidArgumentError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import type { ArtifactMeta, GcReport, JsonObject, LogLevel, Project, RunLogSummary } from '../shared/store-types.js'
import { checkId, checkText, jsonText, newId, notFound, nowIso, optBool, optInt, optNumber, optText, optionsOf, parseJson, toDate } from './store-rows.js'

// Artifacts (content-addressed, counted references, the cross-run cache key), logs and projects.

const ARTIFACT_COLUMNS = 'artifact_id, operator_class, artifact_type, format, size, ref_count, chain_hash, data_hash, dataset_hash, created_at'

function toArtifact(r: SqlValue[]): ArtifactMeta {
  return {
    artifactId: r[0] as string,
    operatorClass: r[1] as string,
    artifactType: r[2] as string,
    format: r[3] as string,
    size: r[4] as number,
    refCount: r[5] as number,
    chainHash: r[6] as string | null,
    dataHash: r[7] as string | null,
    datasetHash: r[8] as string | null,
    createdAt: toDate(r[9]!)!,
  }
}

/** An artifact's row (NotFoundError when unknown). */
export function artifactRow(db: SqliteDatabase, id: unknown): ArtifactMeta {
  checkId(id, 'artifactId')
  const r = db.get(`SELECT ${ARTIFACT_COLUMNS} FROM store_artifacts WHERE artifact_id = ?`, [id])
  if (!r) throw notFound('artifact', id)
  return toArtifact(r)
}

export function listArtifacts(db: SqliteDatabase): ArtifactMeta[] {
  return db.all(`SELECT ${ARTIFACT_COLUMNS} FROM store_artifacts ORDER BY created_at, artifact_id`).map(toArtifact)
}

/** Store an artifact's bytes (same bytes: same id, reference count raised). */
export async function saveArtifact(ctx: CallContext, bytes: unknown, options: unknown): Promise<string> {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('the artifact must be bytes')
  const o = optionsOf<{ operatorClass: string; artifactType: string; format: string; chainHash: string; dataHash: string; datasetHash: string }>(options, 'options', ['operatorClass', 'artifactType', 'format', 'chainHash', 'dataHash', 'datasetHash'])
  checkText(o.operatorClass, 'operatorClass')
  checkText(o.artifactType, 'artifactType')
  checkText(o.format, 'format')
  const chainHash = optText(o.chainHash, 'chainHash')
  const dataHash = optText(o.dataHash, 'dataHash')
  const datasetHash = optText(o.datasetHash, 'datasetHash')
  const id = await ctx.blobs.put(bytes)
  try {
    await ctx.write(() => {
      if (ctx.db.get('SELECT 1 FROM store_artifacts WHERE artifact_id = ?', [id])) {
        ctx.db.run('UPDATE store_artifacts SET ref_count = ref_count + 1 WHERE artifact_id = ?', [id])
        if (chainHash !== null && dataHash !== null) ctx.db.run('UPDATE store_artifacts SET chain_hash = ?, data_hash = ?, dataset_hash = coalesce(?, dataset_hash) WHERE artifact_id = ?', [chainHash, dataHash, datasetHash, id])
      } else {
        ctx.db.run(`INSERT INTO store_artifacts (${ARTIFACT_COLUMNS}) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`, [id, o.operatorClass!, o.artifactType!, o.format!, bytes.length, chainHash, dataHash, datasetHash, nowIso()])
      }
    })
  } finally {
    ctx.blobs.unpin(id)
  }
  return id
}

/** Artifacts nothing references (count 0): reported, and removed unless `dryRun`. */
export async function gcArtifacts(ctx: CallContext, options: unknown): Promise<GcReport> {
  const o = optionsOf<{ dryRun: boolean }>(options, 'options', ['dryRun'])
  const dryRun = optBool(o.dryRun, 'dryRun', false)
  const select = () => ctx.db.all('SELECT artifact_id, size FROM store_artifacts WHERE ref_count <= 0 ORDER BY artifact_id')
  const rows = dryRun ? select() : await ctx.write(() => {
    const found = select()
    ctx.db.run('DELETE FROM store_artifacts WHERE ref_count <= 0')
    return found
  })
  return { dryRun, removed: rows.map((r) => r[0] as string), bytes: rows.reduce((n, r) => n + (r[1] as number), 0) }
}

/** The cache's artifact for (chain hash, data hash), if any. */
export function findCachedArtifact(db: SqliteDatabase, chainHash: unknown, dataHash: unknown): string | undefined {
  checkText(chainHash, 'chainHash')
  checkText(dataHash, 'dataHash')
  return (db.get('SELECT artifact_id FROM store_artifacts WHERE chain_hash = ? AND data_hash = ? ORDER BY created_at DESC LIMIT 1', [chainHash, dataHash])?.[0] as string | undefined) ?? undefined
}

export async function setArtifactCacheKey(ctx: CallContext, id: unknown, key: unknown): Promise<void> {
  const k = optionsOf<{ chainHash: string; dataHash: string; datasetHash: string }>(key, 'the cache key', ['chainHash', 'dataHash', 'datasetHash'])
  checkText(k.chainHash, 'chainHash')
  checkText(k.dataHash, 'dataHash')
  const datasetHash = optText(k.datasetHash, 'datasetHash')
  await ctx.write(() => {
    artifactRow(ctx.db, id)
    ctx.db.run('UPDATE store_artifacts SET chain_hash = ?, data_hash = ?, dataset_hash = ? WHERE artifact_id = ?', [k.chainHash!, k.dataHash!, datasetHash, id as string])
  })
}

/** Forget the cache keys of artifacts fitted on a dataset (the artifacts stay). */
export async function invalidateDatasetCache(ctx: CallContext, datasetHash: unknown): Promise<number> {
  checkText(datasetHash, 'datasetHash')
  return ctx.write(() => ctx.db.run('UPDATE store_artifacts SET chain_hash = NULL, data_hash = NULL WHERE dataset_hash = ? AND chain_hash IS NOT NULL', [datasetHash]))
}

// ---- logs ------------------------------------------------------------------------------------

const LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warning', 'error'])

export async function logStep(ctx: CallContext, pipelineId: unknown, entry: unknown): Promise<void> {
  checkId(pipelineId, 'pipelineId')
  const e = optionsOf<{ stepIdx: number; operatorClass: string; event: string; durationMs: number; message: string; details: unknown; level: LogLevel }>(entry, 'the log entry', ['stepIdx', 'operatorClass', 'event', 'durationMs', 'message', 'details', 'level'])
  checkText(e.event, 'event')
  const level = e.level ?? 'info'
  if (!LEVELS.has(level)) throw new InvalidArgumentError(`level must be debug, info, warning or error, got ${String(level)}`)
  const values = [
    pipelineId, optInt(e.stepIdx, 'stepIdx'), optText(e.operatorClass, 'operatorClass'), e.event, optNumber(e.durationMs, 'durationMs'),
    optText(e.message, 'message'), jsonText(e.details, 'details'), level, nowIso(),
  ]
  await ctx.write(() => {
    if (!ctx.db.get('SELECT 1 FROM store_pipelines WHERE pipeline_id = ?', [pipelineId])) throw notFound('pipeline', pipelineId)
    ctx.db.run('INSERT INTO store_logs (pipeline_id, step_idx, operator_class, event, duration_ms, message, details, level, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', values)
  })
}

export function runLogSummary(db: SqliteDatabase, runId: string): RunLogSummary {
  const r = db.get(
    `SELECT count(l.log_id), total(l.level = 'warning'), total(l.level = 'error'), total(l.duration_ms)
     FROM store_logs l JOIN store_pipelines p ON p.pipeline_id = l.pipeline_id WHERE p.run_id = ?`,
    [runId],
  )!
  return { runId, logCount: r[0] as number, warningCount: r[1] as number, errorCount: r[2] as number, totalDurationMs: r[3] as number }
}

// ---- projects --------------------------------------------------------------------------------

const PROJECT_COLUMNS = 'project_id, name, description, meta, created_at, updated_at'

function toProject(r: SqlValue[]): Project {
  return { projectId: r[0] as string, name: r[1] as string, description: r[2] as string, meta: parseJson(r[3]!) as JsonObject, createdAt: toDate(r[4]!)!, updatedAt: toDate(r[5]!)! }
}

function projectInput(v: unknown): { description?: string; meta?: string } {
  const o = optionsOf<{ description: string; meta: JsonObject }>(v, 'the project', ['description', 'meta'])
  const out: { description?: string; meta?: string } = {}
  if (o.description !== undefined) (checkText(o.description, 'description', true), (out.description = o.description))
  if (o.meta !== undefined) {
    if (o.meta === null || typeof o.meta !== 'object' || Array.isArray(o.meta)) throw new InvalidArgumentError('meta must be an object')
    out.meta = jsonText(o.meta, 'meta')!
  }
  return out
}

export function projectList(db: SqliteDatabase): Project[] {
  return db.all(`SELECT ${PROJECT_COLUMNS} FROM store_projects ORDER BY name`).map(toProject)
}

export function projectGet(db: SqliteDatabase, id: unknown): Project {
  checkId(id, 'projectId')
  const r = db.get(`SELECT ${PROJECT_COLUMNS} FROM store_projects WHERE project_id = ?`, [id])
  if (!r) throw notFound('project', id)
  return toProject(r)
}

export function projectByName(db: SqliteDatabase, name: unknown): Project | undefined {
  checkText(name, 'name')
  const r = db.get(`SELECT ${PROJECT_COLUMNS} FROM store_projects WHERE name = ?`, [name])
  return r ? toProject(r) : undefined
}

function insertProject(db: SqliteDatabase, name: string, input: { description?: string; meta?: string }): string {
  if (projectByName(db, name)) throw new AlreadyExistsError(`a project named "${name}" exists`)
  const id = newId()
  const at = nowIso()
  db.run(`INSERT INTO store_projects (${PROJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`, [id, name, input.description ?? '', input.meta ?? '{}', at, at])
  return id
}

export async function projectCreate(ctx: CallContext, name: unknown, input: unknown): Promise<string> {
  checkText(name, 'name')
  const i = projectInput(input)
  return ctx.write(() => insertProject(ctx.db, name, i))
}

export async function projectGetOrCreate(ctx: CallContext, name: unknown, input: unknown): Promise<Project> {
  checkText(name, 'name')
  const i = projectInput(input)
  const existing = projectByName(ctx.db, name)
  if (existing) return existing
  const id = await ctx.write(() => projectByName(ctx.db, name)?.projectId ?? insertProject(ctx.db, name, i))
  return projectGet(ctx.db, id)
}

export async function projectUpdate(ctx: CallContext, id: unknown, changes: unknown): Promise<void> {
  checkId(id, 'projectId')
  const c = optionsOf<{ name: string; description: string; meta: JsonObject }>(changes, 'the changes', ['name', 'description', 'meta'])
  if (c.name !== undefined) checkText(c.name, 'name')
  const i = projectInput({ description: c.description, meta: c.meta })
  await ctx.write(() => {
    const p = projectGet(ctx.db, id)
    if (c.name !== undefined && c.name !== p.name && projectByName(ctx.db, c.name)) throw new AlreadyExistsError(`a project named "${c.name}" exists`)
    ctx.db.run('UPDATE store_projects SET name = ?, description = ?, meta = ?, updated_at = ? WHERE project_id = ?', [
      c.name ?? p.name, i.description ?? p.description, i.meta ?? JSON.stringify(p.meta), nowIso(), id,
    ])
  })
}

export async function projectDelete(ctx: CallContext, id: unknown): Promise<boolean> {
  checkId(id, 'projectId')
  return ctx.write(() => {
    ctx.db.run('UPDATE store_runs SET project_id = NULL WHERE project_id = ?', [id])
    return ctx.db.run('DELETE FROM store_projects WHERE project_id = ?', [id]) > 0
  })
}

export async function setRunProject(ctx: CallContext, runId: unknown, projectId: unknown): Promise<void> {
  checkId(runId, 'runId')
  if (projectId !== null) checkId(projectId, 'projectId')
  await ctx.write(() => {
    if (!ctx.db.get('SELECT 1 FROM store_runs WHERE run_id = ?', [runId])) throw notFound('run', runId)
    if (projectId !== null) projectGet(ctx.db, projectId)
    ctx.db.run('UPDATE store_runs SET project_id = ? WHERE run_id = ?', [projectId as string | null, runId])
  })
}
