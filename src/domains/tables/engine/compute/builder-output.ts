import { InvalidArgumentError } from '../../../../errors/errors.js'
import { quote } from '../../../../codec/checks.js'
import { typeName } from '../../../columns/shared/value-errors.js'
import { columnValues } from '../../shared/table-arrow.js'
import type { Table } from 'apache-arrow'

/**
 * What a builder's function returned, as columns. `rows` output is an Arrow Table, an array of row
 * objects, or an object of columns; a row-wise call (or a generator's yield) returns one row: the
 * value of a single changed column, or an object (or array, in changedColumns order) for several.
 */

function isArrowTable(v: unknown): v is Table {
  return v !== null && typeof v === 'object' && typeof (v as Table).getChild === 'function' && typeof (v as Table).numRows === 'number' && 'schema' in v
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}

function fail(builder: string, msg: string): never {
  throw new InvalidArgumentError(`builder ${quote(builder)}: ${msg}`)
}

/**
 * A `rows` result as one array per changed column (equal lengths). A typed array is copied as a
 * typed array (one memcpy; the module may reuse its buffer), not turned into numbers one by one.
 */
export function rowsOutput(out: unknown, columns: readonly string[], builder: string): { values: ArrayLike<unknown>[]; count: number } {
  if (isArrowTable(out)) {
    const names = out.schema.fields.map((f) => f.name)
    const values = columns.map((c) => {
      if (!names.includes(c)) fail(builder, `the returned Arrow table has no column ${quote(c)} (its columns: ${names.join(', ')})`)
      return columnValues(out, c)
    })
    return { values, count: out.numRows }
  }
  if (Array.isArray(out)) {
    const values = columns.map(() => new Array<unknown>(out.length))
    for (let i = 0; i < out.length; i++) {
      const row: unknown = out[i]
      if (!isPlainObject(row)) fail(builder, `row ${i} of the returned rows is ${typeName(row)}, not an object of column values`)
      columns.forEach((c, k) => {
        if (!Object.hasOwn(row, c)) fail(builder, `row ${i} of the returned rows has no column ${quote(c)}`)
        values[k]![i] = row[c]
      })
    }
    return { values, count: out.length }
  }
  if (isPlainObject(out)) {
    let count = -1
    const values = columns.map((c) => {
      const col = Object.hasOwn(out, c) ? out[c] : undefined
      if (col === undefined) fail(builder, `the returned columns have no column ${quote(c)}`)
      if (!Array.isArray(col) && !(ArrayBuffer.isView(col) && !(col instanceof DataView))) fail(builder, `column ${quote(c)} of the returned columns is ${typeName(col)}, not an array`)
      const arr: ArrayLike<unknown> = ArrayBuffer.isView(col) ? (col as Uint8Array).slice() : Array.from(col as ArrayLike<unknown>)
      if (count >= 0 && arr.length !== count) fail(builder, `the returned columns differ in length (${quote(c)} has ${arr.length}, the first has ${count})`)
      count = arr.length
      return arr
    })
    return { values, count: Math.max(count, 0) }
  }
  return fail(builder, `a "rows" function must return an Arrow table, an array of row objects or an object of columns, got ${typeName(out)}`)
}

/** Write one row's output (row-wise return or generator yield) into `values` at row `i`. */
export function putRow(out: unknown, columns: readonly string[], values: unknown[][], i: number, builder: string): void {
  if (columns.length === 1) {
    values[0]![i] = out
    return
  }
  if (Array.isArray(out)) {
    if (out.length !== columns.length) fail(builder, `row ${i}: returned ${out.length} values for ${columns.length} columns (${columns.join(', ')})`)
    for (let k = 0; k < columns.length; k++) values[k]![i] = out[k]
    return
  }
  if (!isPlainObject(out)) fail(builder, `row ${i}: returned ${typeName(out)}; a builder of several columns returns an object of them (or an array in changedColumns order)`)
  for (let k = 0; k < columns.length; k++) {
    const c = columns[k]!
    if (!Object.hasOwn(out, c)) fail(builder, `row ${i}: the returned object has no column ${quote(c)}`)
    values[k]![i] = out[c]
  }
}

/** True for what a generator function returns (a sync or async iterator). */
export function isIterator(v: unknown): v is Iterator<unknown> | AsyncIterator<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as Iterator<unknown>).next === 'function'
}
