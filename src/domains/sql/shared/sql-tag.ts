import { InvalidArgumentError } from '../../../errors/errors.js'
import type { SqlParam } from './sql-types.js'

/** The text and parameters of a tagged template: each `${value}` becomes a `?` bound to it. */
export function queryTag(strings: TemplateStringsArray, values: SqlParam[]): [string, SqlParam[]] {
  if (!Array.isArray(strings)) throw new InvalidArgumentError('queryTag is a template tag: call it as db.queryTag`...`')
  return [strings.join('?'), values]
}

/** A name quoted as a DuckDB identifier. */
export function escapeIdentifier(name: string): string {
  return `"${String(name).replaceAll('"', '""')}"`
}
