import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import { checkWellFormed, quote, toWellFormed } from '../../../codec/checks.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import { checkJson } from '../shared/store-wire.js'
import type { Chain, JsonValue, LogEntry, LogLevel, Pipeline, Prediction, Run, StoreStatus } from '../shared/store-types.js'

// Rows of the store's tables and the checks of what callers send (the engine checks again whatever
// the client checked: a port may be anything).

/** A fresh id (UUID v4). */
export function newId(): string {
  const c = globalThis.crypto as Crypto | undefined
  if (c?.randomUUID) return c.randomUUID()
  const b = crypto.getRandomValues(new Uint8Array(16))
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
}

/**
 * An id as nirs4all requires it: a non-empty canonical string (no padding, no control characters,
 * at most 200 characters). Anything else is InvalidArgumentError naming `what`.
 */
export function checkId(id: unknown, what: string): asserts id is string {
  if (typeof id !== 'string') throw new InvalidArgumentError(`${what} must be a string, got ${id === null ? 'null' : typeof id}`)
  if (id.length === 0) throw new InvalidArgumentError(`${what} must not be empty`)
  if (id.trim() !== id) throw new InvalidArgumentError(`${what} ${quote(id)} has leading or trailing whitespace`)
  // Control characters are C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F, e.g. U+0085 NEL, a line
  // break to some readers): all of Unicode's Cc, as docs/store.md promises.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(id)) throw new InvalidArgumentError(`${what} ${quote(id)} contains a control character`)
  if (id.length > 200) throw new InvalidArgumentError(`${what} is longer than 200 characters`)
  checkWellFormed(id, what)
}

/** A required text field (non-empty unless `allowEmpty`, well-formed, bounded). */
export function checkText(v: unknown, what: string, allowEmpty = false): asserts v is string {
  if (typeof v !== 'string') throw new InvalidArgumentError(`${what} must be a string, got ${v === null ? 'null' : typeof v}`)
  if (!allowEmpty && v.length === 0) throw new InvalidArgumentError(`${what} must not be empty`)
  if (v.length > 100_000) throw new InvalidArgumentError(`${what} is longer than 100000 characters`)
  checkWellFormed(v, what)
}

/** An optional text field: undefined and null become null. */
export function optText(v: unknown, what: string): string | null {
  if (v === undefined || v === null) return null
  checkText(v, what, true)
  return v
}

/**
 * An optional number (a score, a rate, a duration). Infinities are kept: SQLite's REAL holds them
 * and they rank as the extremes. NaN is refused: SQLite has no NaN and binds it as NULL, so it would
 * read back as null and the prediction would silently drop out of rankings (nirs4all, on SQLite too,
 * has no NaN score either: a missing score is NULL). The caller says "no score" with null. -0 is
 * stored as 0 (REAL has no negative zero; it compares and ranks equal to 0), as docs/store.md says.
 */
export function optNumber(v: unknown, what: string): number | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'number') throw new InvalidArgumentError(`${what} must be a number, got ${typeof v}`)
  if (Number.isNaN(v)) throw new InvalidArgumentError(`${what} is NaN, which the store cannot keep (SQLite has no NaN: it would read back as null); give null, or leave it out, when there is no value`)
  return v === 0 ? 0 : v
}

/**
 * The error of failRun / failPipeline as stored: text, at most 100000 characters (never half a
 * surrogate pair), a lone surrogate made U+FFFD. A diagnostic, not data (as a process's error):
 * refusing it left the run or pipeline `running` and, for a pipeline, its chains and predictions
 * in place, because an error's message was long (a big stack) or held half an emoji (found by a probe).
 */
export function errorText(v: unknown): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw new InvalidArgumentError(`error must be a string, got ${typeof v}`)
  let s = v
  if (s.length > 100_000) s = s.slice(0, (s.charCodeAt(99_999) & 0xfc00) === 0xd800 ? 99_999 : 100_000)
  return toWellFormed(s)
}

/** An optional whole number. */
export function optInt(v: unknown, what: string): number | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new InvalidArgumentError(`${what} must be a whole number, got ${String(v)}`)
  return v
}

/**
 * An optional whole number that Arrow results carry as int32 (counts, indexes, a branch id): out of
 * int32 range it is refused, since SQLite would keep it but every Arrow table (queryPredictions,
 * topPredictions, chainsForPipeline, the Parquet export) would wrap it silently (3e9 read back as
 * -1294967296; found by a probe).
 */
export function optInt32(v: unknown, what: string): number | null {
  const n = optInt(v, what)
  if (n !== null && (n < -2147483648 || n > 2147483647)) throw new InvalidArgumentError(`${what} must be a whole number in int32 range (-2147483648 to 2147483647), got ${n}`)
  return n
}

/**
 * An optional boolean option (undefined and null: `fallback`). Anything else is refused: read as
 * `=== true` or `!== false`, `gcArtifacts({ dryRun: 1 })` removed the artifacts it was asked only to
 * report, and `deleteRun(id, { deleteArtifacts: 'no' })` removed them too (found by a probe).
 */
export function optBool(v: unknown, what: string, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`${what} must be true or false, got ${typeof v === 'string' ? quote(v) : String(v)}`)
  return v
}

/** JSON text of a value (null stays SQL NULL for undefined). */
export function jsonText(v: unknown, what: string): string | null {
  if (v === undefined) return null
  checkJson(v, what)
  let text: string | undefined
  try {
    text = JSON.stringify(v)
  } catch (err) {
    throw new InvalidArgumentError(`${what} must be JSON-serialisable: ${(err as Error).message}`)
  }
  if (text === undefined) throw new InvalidArgumentError(`${what} must be JSON-serialisable`)
  return text
}

/** A JSON column's value (null for SQL NULL). */
export function parseJson(v: SqlValue): JsonValue {
  return typeof v === 'string' ? (JSON.parse(v) as JsonValue) : null
}

/** Now, as stored. */
export function nowIso(): string {
  return new Date().toISOString()
}

export function toDate(v: SqlValue): Date | null {
  return typeof v === 'string' ? new Date(v) : null
}

/**
 * An options object or record (undefined becomes `{}`). With `known`, a key it does not list is
 * refused: a misspelt filter (`datasetname`) or field (`valscore`) would otherwise be ignored, and
 * the call would read every prediction, or save one without its score.
 */
export function optionsOf<T extends object>(v: unknown, what: string, known?: readonly (keyof T & string)[]): Partial<T> {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(`${what} must be an object`)
  // A plain object only. The client's snapshot of an options object assigns its members, so an own
  // "__proto__" member (JSON.parse makes one) became the copy's prototype: its fields were then
  // read through it here (a pipeline named by it, in-process) but dropped by a worker's structured
  // clone, and no unknown-field check saw it (found by a probe).
  const proto = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) throw new InvalidArgumentError(`${what} must be a plain object (an own "__proto__" member is not one of its fields)`)
  if (known) for (const k of Object.keys(v)) if (!(known as readonly string[]).includes(k)) throw new InvalidArgumentError(`${what}: unknown field "${k}" (known: ${known.join(', ')})`)
  return v as Partial<T>
}

export function notFound(kind: string, id: string): NotFoundError {
  return new NotFoundError(`${kind} ${quote(id)} does not exist`)
}

export const RUN_COLUMNS = 'run_id, name, status, config, datasets, summary, error, project_id, created_at, completed_at'

export function toRun(r: SqlValue[]): Run {
  return {
    runId: r[0] as string,
    name: r[1] as string,
    status: r[2] as StoreStatus,
    config: parseJson(r[3]!),
    datasets: (parseJson(r[4]!) ?? []) as JsonValue[],
    summary: parseJson(r[5]!),
    error: r[6] as string | null,
    projectId: r[7] as string | null,
    createdAt: toDate(r[8]!)!,
    completedAt: toDate(r[9]!),
  }
}

export const PIPELINE_COLUMNS =
  'pipeline_id, run_id, name, status, expanded_config, generator_choices, dataset_name, dataset_hash, original_template, best_val, best_test, metric, duration_ms, error, created_at, completed_at'

export function toPipeline(r: SqlValue[]): Pipeline {
  return {
    pipelineId: r[0] as string,
    runId: r[1] as string,
    name: r[2] as string,
    status: r[3] as StoreStatus,
    expandedConfig: parseJson(r[4]!),
    generatorChoices: (parseJson(r[5]!) ?? []) as JsonValue[],
    datasetName: r[6] as string,
    datasetHash: r[7] as string | null,
    originalTemplate: parseJson(r[8]!),
    bestVal: r[9] as number | null,
    bestTest: r[10] as number | null,
    metric: r[11] as string | null,
    durationMs: r[12] as number | null,
    error: r[13] as string | null,
    createdAt: toDate(r[14]!)!,
    completedAt: toDate(r[15]!),
  }
}

export const CHAIN_COLUMNS =
  'chain_id, pipeline_id, steps, model_step_idx, model_class, preprocessings, fold_strategy, fold_artifacts, shared_artifacts, branch_path, source_index, created_at'

export function toChain(r: SqlValue[]): Chain {
  return {
    chainId: r[0] as string,
    pipelineId: r[1] as string,
    steps: parseJson(r[2]!) as unknown as Chain['steps'],
    modelStepIdx: r[3] as number | null,
    modelClass: r[4] as string,
    preprocessings: r[5] as string,
    foldStrategy: r[6] as string,
    foldArtifacts: parseJson(r[7]!) as Record<string, string>,
    sharedArtifacts: parseJson(r[8]!) as Record<string, string | string[]>,
    branchPath: parseJson(r[9]!) as number[] | null,
    sourceIndex: r[10] as number | null,
    createdAt: toDate(r[11]!)!,
  }
}

/** The columns of a prediction: SQL name, field name, Arrow type. */
export const PREDICTION_FIELDS: readonly (readonly [sql: string, field: string, type: 'utf8' | 'f64' | 'i32' | 'json' | 'date'])[] = [
  ['prediction_id', 'predictionId', 'utf8'],
  ['pipeline_id', 'pipelineId', 'utf8'],
  ['chain_id', 'chainId', 'utf8'],
  ['run_id', 'runId', 'utf8'],
  ['dataset_name', 'datasetName', 'utf8'],
  ['model_name', 'modelName', 'utf8'],
  ['model_class', 'modelClass', 'utf8'],
  ['fold_id', 'foldId', 'utf8'],
  ['partition', 'partition', 'utf8'],
  ['val_score', 'valScore', 'f64'],
  ['test_score', 'testScore', 'f64'],
  ['train_score', 'trainScore', 'f64'],
  ['metric', 'metric', 'utf8'],
  ['task_type', 'taskType', 'utf8'],
  ['n_samples', 'nSamples', 'i32'],
  ['n_features', 'nFeatures', 'i32'],
  ['scores', 'scores', 'json'],
  ['best_params', 'bestParams', 'json'],
  ['branch_id', 'branchId', 'i32'],
  ['branch_name', 'branchName', 'utf8'],
  ['exclusion_count', 'exclusionCount', 'i32'],
  ['exclusion_rate', 'exclusionRate', 'f64'],
  ['preprocessings', 'preprocessings', 'utf8'],
  ['created_at', 'createdAt', 'date'],
  ['updated_at', 'updatedAt', 'date'],
]

export const PREDICTION_COLUMNS = PREDICTION_FIELDS.map((f) => f[0]).join(', ')

export function toPrediction(r: SqlValue[]): Prediction {
  const out: Record<string, unknown> = {}
  PREDICTION_FIELDS.forEach(([, field, type], i) => {
    const v = r[i]!
    out[field] = type === 'json' ? parseJson(v) : type === 'date' ? toDate(v) : v
  })
  return out as unknown as Prediction
}

export const LOG_COLUMNS = 'log_id, pipeline_id, step_idx, operator_class, event, duration_ms, message, details, level, created_at'

export function toLog(r: SqlValue[]): LogEntry {
  return {
    logId: r[0] as number,
    pipelineId: r[1] as string,
    stepIdx: r[2] as number | null,
    operatorClass: r[3] as string | null,
    event: r[4] as string,
    durationMs: r[5] as number | null,
    message: r[6] as string | null,
    details: parseJson(r[7]!),
    level: r[8] as LogLevel,
    createdAt: toDate(r[9]!)!,
  }
}
