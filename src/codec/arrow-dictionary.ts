import type { Data, Vector } from 'apache-arrow'
import { InvalidArgumentError } from '../errors/errors.js'

/**
 * A dictionary-encoded column's values, row by row. arrow-js cannot read one whose indices are 64-bit
 * (what DuckDB and pyarrow may write): it looks the bigint index up in the dictionary's offsets and
 * throws a TypeError. Each index is read from its chunk here, as a number.
 */
export function dictionaryValues(vector: Vector, column: string): unknown[] {
  const out = new Array<unknown>(vector.length)
  let row = 0
  for (const data of vector.data as Data[]) {
    // A sliced chunk's values are sliced with it (its offset counts only in the validity bitmap).
    const indices = data.values as ArrayLike<number | bigint>
    const dictionary = data.dictionary!
    for (let j = 0; j < data.length; j++, row++) {
      if (!data.getValid(j)) {
        out[row] = null
        continue
      }
      const index = Number(indices[j])
      if (!(index >= 0 && index < dictionary.length)) throw new InvalidArgumentError(`column "${column}" row ${row}: dictionary index ${index} is outside its dictionary of ${dictionary.length} values`)
      out[row] = dictionary.get(index)
    }
  }
  return out
}
