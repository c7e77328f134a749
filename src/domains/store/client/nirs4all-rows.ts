// Reading a nirs4all workspace's files (Node): store.sqlite through sql.js (read-only, in memory),
// arrays/*.parquet through the Parquet codec, artifacts/ from disk. Column names are nirs4all's
// (store_schema.py, schema version 5); columns an older workspace lacks read as null.
import type { Database, SqlValue } from 'sql.js'
import { readParquetRows } from '../../../codec/parquet.js'
import { CorruptionError, InvalidArgumentError } from '../../../errors/errors.js'
import type { JsonValue, PredictionArraysInput } from '../shared/store-types.js'

/** One row of a table, by column name. */
export type Row = Record<string, SqlValue>

/** Every row of `table` (none when the workspace has no such table), in insertion order. */
export function tableRows(db: Database, table: string, orderBy = 'rowid'): Row[] {
  const exists = db.exec('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?', ['table', table])
  if (exists.length === 0) return []
  const [result] = db.exec(`SELECT * FROM "${table}" ORDER BY ${orderBy}`)
  if (!result) return []
  return result.values.map((values) => Object.fromEntries(result.columns.map((c, i) => [c, values[i]!])))
}

/** A text column ('' and null as null). */
export function text(row: Row, column: string): string | null {
  const v = row[column]
  return v === null || v === undefined || v === '' ? null : String(v)
}

/** A number column. */
export function num(row: Row, column: string): number | null {
  const v = row[column]
  return typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : null
}

/**
 * A JSON column, parsed (nirs4all stores JSON as text). Python's `json.dumps` writes a float NaN or
 * infinity as a bare `NaN`, `Infinity` or `-Infinity` (a metric undefined for a fold, say), which
 * JSON has not and the store refuses: such a value is read as null, and `notes` (the import's
 * report) says so once per column.
 */
export function json(row: Row, column: string, table: string, notes?: string[]): JsonValue {
  const v = row[column]
  if (v === null || v === undefined || v === '') return null
  if (typeof v !== 'string') return v as JsonValue
  try {
    return JSON.parse(v) as JsonValue
  } catch (err) {
    const nulled = withoutPythonFloats(v)
    if (nulled !== v) {
      try {
        const parsed = JSON.parse(nulled) as JsonValue
        const note = `${table}.${column}: Python's NaN and ±Infinity (not JSON) imported as null`
        if (notes && !notes.includes(note)) notes.push(note)
        return parsed
      } catch {
        // Not JSON for another reason too: report the text as it was.
      }
    }
    throw new CorruptionError(`${table}.${column} holds text that is not JSON: ${JSON.stringify(v.slice(0, 80))}`, { cause: err })
  }
}

/** `text` with each bare NaN, Infinity and -Infinity outside strings replaced by null. */
function withoutPythonFloats(text: string): string {
  let out = ''
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '"') {
      // Skip the string, escapes included.
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++
      continue
    }
    const token = /^-?(?:NaN|Infinity)/.exec(text.slice(i, i + 9))
    if (token && !/[\w.]/.test(text[i - 1] ?? '') && !/[\w]/.test(text[i + token[0].length] ?? '')) {
      out += text.slice(from, i) + 'null'
      i += token[0].length - 1
      from = i + 1
    }
  }
  return out + text.slice(from)
}

/** What nirs4all's Parquet sidecars hold for one prediction. */
export interface SidecarArrays extends PredictionArraysInput {
  datasetFile: string
}

function floats(v: unknown): Float64Array | null {
  return v === null || v === undefined ? null : Float64Array.from(v as ArrayLike<number>, Number)
}

function ints(v: unknown): Int32Array | null {
  return v === null || v === undefined ? null : Int32Array.from(v as ArrayLike<number>, Number)
}

/**
 * The arrays of every prediction id found in `arrays/*.parquet`. A file may hold an id more than
 * once (nirs4all appends and de-duplicates at compaction, keeping the last): the last row wins.
 */
export async function readSidecars(files: { name: string; bytes: Uint8Array }[]): Promise<Map<string, SidecarArrays>> {
  const out = new Map<string, SidecarArrays>()
  for (const { name, bytes } of files) {
    let rows: Record<string, unknown>[]
    try {
      rows = await readParquetRows(bytes)
    } catch (err) {
      throw new CorruptionError(`arrays/${name} is not a readable Parquet file`, { cause: err })
    }
    for (const r of rows) {
      if (typeof r.prediction_id !== 'string') throw new CorruptionError(`arrays/${name} has a row without a prediction_id`)
      const shape = ints(r.y_proba_shape)
      out.set(r.prediction_id, {
        datasetFile: name,
        yTrue: floats(r.y_true),
        yPred: floats(r.y_pred),
        yProba: floats(r.y_proba),
        yProbaShape: shape && shape.length > 0 ? Array.from(shape) : null,
        sampleIndices: ints(r.sample_indices),
        weights: floats(r.weights),
      })
    }
  }
  return out
}

/** nirs4all log levels onto labvault's (`warn` → `warning`; anything unknown → `info`). */
export function logLevel(v: string | null): 'debug' | 'info' | 'warning' | 'error' {
  const l = (v ?? 'info').toLowerCase()
  if (l === 'warn' || l === 'warning') return 'warning'
  if (l === 'debug' || l === 'error') return l
  if (l === 'critical' || l === 'fatal') return 'error'
  return 'info'
}

/** The folder argument, checked. */
export function checkFolder(folder: unknown): asserts folder is string {
  if (typeof folder !== 'string' || folder.length === 0 || folder.includes('\0')) throw new InvalidArgumentError(`folder must be the path of a nirs4all workspace, got ${JSON.stringify(folder)}`)
}
