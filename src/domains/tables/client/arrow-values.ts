import { Type, type Vector } from 'apache-arrow'
import { dictionaryValues } from '../../../codec/arrow-strings.js'
import { InvalidArgumentError } from '../../../errors/errors.js'

/**
 * The values of an Arrow column given to `write` that is converted to its dtype (not stored as it
 * is), one per row, null where the row is null. arrow-js's `toArray()` is not that for every type:
 * for numeric types (and Timestamp, Time, Uint64...) it returns the typed array of the buffer, with
 * a null row's slot as whatever the buffer holds (0, or anything another tool left there); for
 * Float16 it returns the raw 16-bit patterns (1.5 reads as 15872); for Decimal the 32-bit words, four
 * per row (a 2-row column read as 8 numbers). Those were written as values, silently: nulls became
 * numbers, halves became integers, a table grew rows.
 */
export function arrowColumnValues(vector: Vector, column: string): ArrayLike<unknown> {
  const typeId = vector.type.typeId as Type
  // A decimal has no exact JS value here (arrow-js's value ignores the scale: 1.50 reads as 150).
  if (typeId === Type.Decimal) {
    throw new InvalidArgumentError(`column "${column}": Arrow type ${String(vector.type)} cannot be written exactly; convert it first (to strings, or numbers if they fit)`)
  }
  if (typeId === Type.Dictionary) return dictionaryValues(vector, column)
  if (typeId === Type.Float) {
    // Float16: each row's value through get() (which decodes the half); toArray() gives the bit patterns.
    if ((vector.type as unknown as { precision: number }).precision === 0) return Array.from({ length: vector.length }, (_, i) => vector.get(i) ?? null)
  }
  const values = vector.toArray() as ArrayLike<unknown>
  if (values.length !== vector.length) {
    throw new InvalidArgumentError(`column "${column}": Arrow type ${String(vector.type)} reads as ${values.length} values for ${vector.length} rows; convert it first`)
  }
  if (vector.nullCount === 0 || !ArrayBuffer.isView(values)) return values
  // A typed array has no null: a null row's slot holds a number; the validity bitmap says which rows.
  const out = Array.from(values as ArrayLike<unknown>)
  for (let i = 0; i < out.length; i++) if (!vector.isValid(i)) out[i] = null
  return out
}
