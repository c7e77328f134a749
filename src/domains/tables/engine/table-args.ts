import { tableFromIPC } from 'apache-arrow'
import { InvalidArgumentError } from '../../../errors/errors.js'
import { checkName } from '../../../codec/checks.js'
import { parseTableDType } from '../shared/table-dtypes.js'
import { DEFAULT_VERSION, checkInstanceId, checkTableName, checkVersion } from '../shared/table-names.js'
import type { ColumnPart, InstanceRef } from '../shared/table-types.js'
import type { OpCall } from './table-ops.js'

// The engine's checks of what came through the port (the client checked too, but a port may be
// anything): InvalidArgumentError naming the argument and the problem.

const MAX_DESCRIPTION_CHARS = 100_000

export function checkCall(call: unknown): OpCall {
  const c = call as OpCall
  if (!c || typeof c !== 'object' || typeof c.holder !== 'string' || typeof c.lockTimeoutMs !== 'number') throw new InvalidArgumentError('a tables call carries { holder, processId, lockTimeoutMs }')
  return { holder: c.holder, processId: c.processId ?? null, lockTimeoutMs: Math.max(0, c.lockTimeoutMs), auto: c.auto === true }
}

export function checkText(v: unknown, what: string, max = MAX_DESCRIPTION_CHARS): string {
  if (v === undefined) return ''
  checkName(v, what, max, true)
  return v
}

export function checkRef(v: unknown, what: string): InstanceRef {
  const r = v as InstanceRef
  if (!r || typeof r !== 'object') throw new InvalidArgumentError(`${what} is { table, instanceId }`)
  checkTableName(r.table, `${what}.table`)
  checkInstanceId(r.instanceId, `${what}.instanceId`)
  return { table: r.table, instanceId: r.instanceId }
}

export function versionOf(v: unknown): string {
  if (v === undefined) return DEFAULT_VERSION
  checkVersion(v)
  return v
}

/** Check the columns of a write as they came through the port. */
export function checkParts(parts: unknown): { parts: ColumnPart[]; rows: number; artifactValues: Record<string, (string | null)[]> } {
  if (!Array.isArray(parts) || parts.length === 0) throw new InvalidArgumentError('Empty table: write() needs at least one column and one row')
  let rows = -1
  const seen = new Set<string>()
  const artifactValues: Record<string, (string | null)[]> = {}
  for (const p of parts as ColumnPart[]) {
    if (!p || typeof p !== 'object' || typeof p.name !== 'string' || !(p.ipc instanceof Uint8Array)) throw new InvalidArgumentError('a written column is { name, dtype, ipc }')
    checkName(p.name, 'a column name', 512)
    if (seen.has(p.name)) throw new InvalidArgumentError(`column "${p.name}" appears twice`)
    seen.add(p.name)
    const dtype = parseTableDType(p.dtype, `column "${p.name}"`)
    let decoded
    try {
      decoded = tableFromIPC(p.ipc)
    } catch (err) {
      throw new InvalidArgumentError(`column "${p.name}" is not Arrow IPC: ${(err as Error).message}`)
    }
    if (decoded.numCols !== 1) throw new InvalidArgumentError(`column "${p.name}": its IPC holds ${decoded.numCols} columns, not 1`)
    const column = decoded.getChildAt(0)!
    if (rows === -1) rows = decoded.numRows
    else if (decoded.numRows !== rows) throw new InvalidArgumentError(`column "${p.name}" has ${decoded.numRows} rows, the others ${rows}`)
    if (!dtype.nullable && column.nullCount > 0) throw new InvalidArgumentError(`column "${p.name}" (${dtype.name}) has nulls; use "${dtype.name}?" for a nullable column`)
    if (dtype.kind === 'artifact') artifactValues[p.name] = (column.toArray() as (string | null)[]).map((v) => (v === undefined ? null : v))
  }
  if (rows <= 0) throw new InvalidArgumentError('Empty table: write() needs at least one row')
  return { parts: parts as ColumnPart[], rows, artifactValues }
}

/** InvalidArgumentError unless `v` is a boolean or absent. */
export function optionalBoolean(v: unknown, what: string): boolean {
  if (v === undefined) return false
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`${what} must be a boolean`)
  return v
}
