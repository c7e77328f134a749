import { InvalidArgumentError } from '../../../errors/errors.js'

/**
 * Column dtypes of a table instance: the scalar dtypes of columns (API.md, "Columns") that map onto
 * one Arrow type, `artifact` (a file name in the instance's artifacts), and each with a `?` suffix
 * for its nullable variant. TableVault's pandas names are accepted as aliases of nullable dtypes.
 */
export type TableBaseDType = 'i32' | 'i64' | 'f32' | 'f64' | 'bool' | 'str:utf8' | 'str:ascii' | 'str:latin1' | 'bytes' | 'json' | 'artifact' | `vec:f32:${number}` | `bytes:${number}`

/** A parsed dtype. */
export interface TableDType {
  /** Canonical text, e.g. `i64?`. */
  readonly name: string
  readonly base: TableBaseDType
  readonly nullable: boolean
  /** Vector dimension (`vec:f32:D`) or fixed byte width (`bytes:N`). */
  readonly width?: number
}

const ALIASES: Record<string, string> = {
  Int32: 'i32?', Int64: 'i64?', Float32: 'f32?', Float64: 'f64?', boolean: 'bool?', string: 'str:utf8?', str: 'str:utf8', 'str?': 'str:utf8?', artifact_string: 'artifact?', object: 'json?',
  int32: 'i32', int64: 'i64', float32: 'f32', float64: 'f64', bool: 'bool',
}

const PLAIN = new Set(['i32', 'i64', 'f32', 'f64', 'bool', 'str:utf8', 'str:ascii', 'str:latin1', 'bytes', 'json', 'artifact'])

/** Parse a dtype; InvalidArgumentError naming `where` and listing the dtypes a table accepts. */
export function parseTableDType(spec: unknown, where: string): TableDType {
  if (typeof spec !== 'string') throw new InvalidArgumentError(`${where}: a dtype must be a string`)
  const text = ALIASES[spec] ?? spec
  const nullable = text.endsWith('?')
  const base = nullable ? text.slice(0, -1) : text
  if (PLAIN.has(base)) return { name: `${base}${nullable ? '?' : ''}`, base: base as TableBaseDType, nullable }
  const m = /^(vec:f32|bytes):([1-9]\d{0,6})$/.exec(base)
  if (m) return { name: `${base}${nullable ? '?' : ''}`, base: base as TableBaseDType, nullable, width: Number(m[2]) }
  throw new InvalidArgumentError(
    `${where}: unknown dtype "${spec}" (a table column is i32, i64, f32, f64, bool, str:utf8, str:ascii, str:latin1, bytes, bytes:N, json, vec:f32:D or artifact, with "?" for nullable; pandas names Int64, Float64, string, boolean, artifact_string are accepted)`,
  )
}

/** The dtypes of a table's columns, by column name. */
export type TableDTypes = Record<string, string>
