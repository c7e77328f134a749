import type { Table } from 'apache-arrow'
import { InvalidArgumentError, StoppedError } from '../../../errors/errors.js'
import type { DomainCaller } from '../../../protocol/domain-caller.js'
import { checkSqlRequest } from '../shared/sql-params.js'
import type { SqlOptions, SqlParam, SqlRelationInfo, SqlResult } from '../shared/sql-types.js'
import { resultTable } from './sql-arrow.js'

export type { SqlOptions, SqlParam, SqlRelationInfo } from '../shared/sql-types.js'

let counter = 0

/** A query id unique to this page and call. */
function queryId(): string {
  const c = globalThis.crypto as Crypto | undefined
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${(++counter).toString(36)}-${Math.random().toString(36).slice(2)}`
}

/** True when `value` is a tagged template's strings array. */
function isTemplate(value: unknown): value is TemplateStringsArray {
  return Array.isArray(value) && Array.isArray((value as unknown as { raw?: unknown }).raw)
}

/**
 * The text and parameters of `vault.sql(text, options)` or of the tagged template
 * ``vault.sql`SELECT … ${x}` ``: each `${value}` becomes a `?` parameter, bound by DuckDB.
 */
export function sqlCall(first: unknown, rest: unknown[]): { text: string; options: SqlOptions } {
  if (isTemplate(first)) {
    let text = first[0]!
    for (let i = 1; i < first.length; i++) text += `?${first[i]}`
    return { text, options: { params: rest as SqlParam[] } }
  }
  if (rest.length > 1) throw new InvalidArgumentError('sql: call it as sql(text, { params, signal, timeoutMs }) or as a tagged template sql`...${value}`')
  const options = rest[0] ?? {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('sql: options must be an object { params, signal, timeoutMs }')
  return { text: first as string, options: options as SqlOptions }
}

/** Run one query through the engine; resolves to an Arrow Table. */
export async function runSql(caller: DomainCaller, text: string, options: SqlOptions = {}): Promise<Table> {
  const { params, signal, timeoutMs } = options
  checkSqlRequest(text, params, timeoutMs)
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new InvalidArgumentError('sql: signal must be an AbortSignal')
  if (signal?.aborted) throw new StoppedError('sql: the query was cancelled by its signal before it started', { cause: signal.reason })
  const id = queryId()
  const began = performance.now()
  const onAbort = () => void caller.call('sql', 'cancel', [id]).catch(() => {})
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const result = (await caller.call('sql', 'query', [{ text, params: params ? [...params] : [], id, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }])) as SqlResult
    const table = resultTable(result.ipc)
    // The conversion of a large result takes its time too: a result is not handed over past the
    // query's timeoutMs or after its signal aborted (the engine looked last before it replied).
    if (signal?.aborted) throw new StoppedError('sql: the query was cancelled by its signal', { cause: signal.reason })
    if (timeoutMs !== undefined && performance.now() - began > timeoutMs) throw new StoppedError(`sql: the query was stopped after its timeoutMs (${timeoutMs} ms), while its result was converted`)
    return table
  } catch (err) {
    if (signal?.aborted && (err as { code?: string })?.code === 'STOPPED') throw new StoppedError('sql: the query was cancelled by its signal', { cause: signal.reason })
    throw err
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

/** The relations a query can read, with their columns. */
export async function sqlRelations(caller: DomainCaller): Promise<SqlRelationInfo[]> {
  return (await caller.call('sql', 'relations', [])) as SqlRelationInfo[]
}
