import { InvalidArgumentError } from '../../../errors/errors.js'
import { checkWellFormed } from '../../../codec/checks.js'
import { MAX_SQL_TIMEOUT_MS, type SqlParam } from './sql-types.js'

const MAX_PARAM_DEPTH = 16

/** A short description of a refused value for an error message. */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return `a ${(value as object).constructor?.name ?? 'object'}`
  return typeof value
}

function checkParam(value: unknown, where: string, depth: number): void {
  switch (typeof value) {
    case 'undefined':
    case 'boolean':
    case 'number':
      return
    case 'bigint':
      // DuckDB's widest integer is HUGEINT (128-bit signed).
      if (value < -(2n ** 127n) || value >= 2n ** 127n) throw new InvalidArgumentError(`${where} is a bigint beyond 128 bits, wider than any DuckDB integer`)
      return
    case 'string':
      checkWellFormed(value, where)
      return
    case 'object':
      if (value === null) return
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new InvalidArgumentError(`${where} is an invalid Date`)
        return
      }
      if (value instanceof Uint8Array) return
      if (Array.isArray(value)) {
        if (depth >= MAX_PARAM_DEPTH) throw new InvalidArgumentError(`${where} nests lists deeper than ${MAX_PARAM_DEPTH} levels`)
        value.forEach((v, i) => checkParam(v, `${where}[${i}]`, depth + 1))
        return
      }
  }
  throw new InvalidArgumentError(`${where} must be null, a boolean, number, bigint, string, Date, Uint8Array or an array of those; got ${describe(value)}`)
}

/** Check a query's text and parameters (client and engine: a port may send anything). */
export function checkSqlRequest(text: unknown, params: unknown, timeoutMs?: unknown): asserts text is string {
  if (typeof text !== 'string') throw new InvalidArgumentError(`sql: the query text must be a string, got ${describe(text)}`)
  checkWellFormed(text, 'sql: the query text')
  // Trailing `;` are dropped before the text runs: a text of nothing else is empty too, and so is
  // one of comments only (`-- note`), which was a parser error "at or near ')'" of the wrapping
  // subquery. (No quote can occur in such a text, so no string can hide a comment's marks.)
  if (/^(?:\s|;|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*$/.test(text)) throw new InvalidArgumentError('sql: the query text is empty (only whitespace, comments or `;`)')
  // DuckDB reads its text as a C string: it ended at a NUL, and `SELECT 'a\0b'` failed as an
  // "unterminated quoted string" (any text after the NUL was never seen).
  if (text.includes('\0')) throw new InvalidArgumentError(`sql: the query text holds a NUL character (at ${text.indexOf('\0')}), which would end it early inside DuckDB; pass such a value as a parameter, or write chr(0)`)
  if (params !== undefined) {
    if (!Array.isArray(params)) throw new InvalidArgumentError(`sql: params must be an array, got ${describe(params)}`)
    params.forEach((p, i) => checkParam(p, `sql: params[${i}]`, 0))
  }
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_SQL_TIMEOUT_MS)) {
    throw new InvalidArgumentError(`sql: timeoutMs must be a positive number of milliseconds up to ${MAX_SQL_TIMEOUT_MS}, got ${String(timeoutMs)}`)
  }
}

/** The parameters as given (a tagged template's values, or `options.params`). */
export type { SqlParam }
