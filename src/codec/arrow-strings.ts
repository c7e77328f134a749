import { Vector, makeData, type Data, type DataType } from 'apache-arrow'
import { InvalidArgumentError } from '../errors/errors.js'

/**
 * Strings that begin with U+FEFF, kept. arrow-js decodes every Utf8 value with one TextDecoder it
 * made with the defaults, which drop a U+FEFF at the start of the text decoded: DuckDB's
 * `chr(65279) || 'x'` (2 characters) read as 'x'. Nothing outside arrow-js can change that
 * decoder, so such a value's bytes are given one more U+FEFF, which the decoder drops, leaving
 * the value as DuckDB holds it. Only values that begin with U+FEFF change, and only their bytes:
 * a result re-encoded (`tableToIPC`) and read by another Arrow reader shows the extra U+FEFF. The
 * look costs a pass over each string column's offsets (docs/sql.md has the figures). Used for SQL
 * results and for the columns `vault.tables.get` returns; {@link storedUtf8} takes the extra U+FEFF
 * out again where such a column is written back (`vault.tables.write`).
 */

/** Arrow type ids (apache-arrow's `Type` enum). */
const T = { Dictionary: -1, Utf8: 5, List: 12, Struct: 13, Union: 14, FixedSizeList: 16, Map: 17, LargeUtf8: 20 } as const

/** The chunk with every string beginning with U+FEFF given one more, at any depth; undefined when none begins with it. */
export function keepLeadingBoms(data: Data | undefined): Data | undefined {
  // A padded all-null chunk of a nested column has no child data.
  if (data === undefined) return undefined
  // Kept already (its values are a buffer made below, or a slice of one): one more would be seen.
  if (isMade(data)) return undefined
  switch ((data.type as DataType).typeId as number) {
    case T.Utf8:
    case T.LargeUtf8:
      return utf8(data)
    case T.Dictionary: {
      // The strings are the dictionary's; the indices stay as they are.
      const dictionary = data.dictionary
      const kept = dictionary && keepingLeadingBoms(dictionary)
      if (!kept || kept === dictionary) return undefined
      return makeData({ type: data.type, offset: data.offset, length: data.length, nullCount: data.nullCount, nullBitmap: data.nullBitmap, data: data.values, dictionary: kept } as never)
    }
    case T.List:
    case T.Map:
    case T.FixedSizeList:
    case T.Struct:
    case T.Union: {
      let changed = false
      // A nested column of an empty result may have no child data at all (arrow-js reads a
      // stream with no rows so): nothing to keep there.
      const children = data.children.map((c) => {
        const kept = c === undefined ? undefined : keepLeadingBoms(c)
        if (kept) changed = true
        return kept ?? c
      })
      if (!changed) return undefined
      const base = { type: data.type, offset: data.offset, length: data.length, nullCount: data.nullCount, nullBitmap: data.nullBitmap }
      if ((data.type.typeId as number) === T.Struct) return makeData({ ...base, children } as never)
      if ((data.type.typeId as number) === T.Union) return makeData({ type: data.type, offset: data.offset, length: data.length, nullCount: data.nullCount, typeIds: data.typeIds, valueOffsets: data.valueOffsets, children } as never)
      return makeData({ ...base, valueOffsets: data.valueOffsets, child: children[0]! } as never)
    }
  }
  return undefined
}

/** `vector` with {@link keepLeadingBoms} applied to each chunk: itself when no string begins with U+FEFF. */
export function keepingLeadingBoms(vector: Vector): Vector {
  const kept = vector.data.map(keepLeadingBoms)
  return kept.some((k) => k !== undefined) ? new Vector(vector.data.map((d, i) => kept[i] ?? d)) : vector
}

const BOM = new Uint8Array([0xef, 0xbb, 0xbf])

/**
 * The value buffers {@link utf8} made. In one, every value that begins with U+FEFF holds one more
 * (a value given one holds two; one given none begins with something else), in any Data over it.
 * Held by ArrayBuffer: arrow-js takes a view of its own of the bytes given it, and its slices
 * share their parent's bytes.
 */
const made = new WeakSet<ArrayBufferLike>()
const isMade = (data: Data): boolean => data.values instanceof Uint8Array && made.has(data.values.buffer)

function startsWithBom(values: Uint8Array, at: number, end: number): boolean {
  return end - at >= 3 && values[at] === 0xef && values[at + 1] === 0xbb && values[at + 2] === 0xbf
}

function utf8(data: Data): Data | undefined {
  // Arrow pads a table's short column with an all-null chunk that has no buffers: nothing to keep.
  if (!data.valueOffsets || !(data.values instanceof Uint8Array)) return undefined
  // LargeUtf8's offsets are a BigInt64Array: read as numbers (a chunk's bytes fit in one buffer), written back as bigints.
  const large = data.valueOffsets instanceof BigInt64Array
  const offsets: ArrayLike<number> = large ? Array.from(data.valueOffsets as BigInt64Array, Number) : (data.valueOffsets as Int32Array)
  const values = data.values as Uint8Array
  const n = data.length
  let marked = 0
  for (let i = 0; i < n; i++) if (values[offsets[i]!] === 0xef && startsWithBom(values, offsets[i]!, offsets[i + 1]!)) marked++
  if (marked === 0) return undefined
  // The bytes between two marked values are copied in one piece; offsets shift by 3 per mark before them.
  const start = offsets[0]!
  const out = new Uint8Array(offsets[n]! - start + 3 * marked)
  const outOffsets = new Int32Array(n + 1)
  let shift = 0
  let copied = start
  for (let i = 0; i < n; i++) {
    const a = offsets[i]!
    if (values[a] === 0xef && startsWithBom(values, a, offsets[i + 1]!)) {
      out.set(values.subarray(copied, a), copied - start + shift)
      out.set(BOM, a - start + shift)
      shift += 3
      copied = a
    }
    outOffsets[i + 1] = offsets[i + 1]! - start + shift
  }
  out.set(values.subarray(copied, offsets[n]!), copied - start + shift)
  made.add(out.buffer)
  const valueOffsets = large ? BigInt64Array.from(outOffsets, BigInt) : outOffsets
  return makeData({ type: data.type, offset: data.offset, length: n, nullCount: data.nullCount, nullBitmap: data.nullBitmap, valueOffsets, data: out } as never)
}

/**
 * A Utf8 chunk as it is to be stored: one that {@link keepLeadingBoms} made (or a slice of one)
 * loses the U+FEFF it gave each value, so a column read and written back holds what it held, not
 * one more U+FEFF per round. Any other chunk is returned as it is.
 */
export function storedUtf8(data: Data): Data {
  if (!isMade(data)) return data
  const offsets = data.valueOffsets as Int32Array
  const values = data.values as Uint8Array
  const n = data.length
  const out = new Uint8Array(offsets[n]! - offsets[0]!)
  const outOffsets = new Int32Array(n + 1)
  let pos = 0
  for (let i = 0; i < n; i++) {
    const a = offsets[i]! + (startsWithBom(values, offsets[i]!, offsets[i + 1]!) ? 3 : 0)
    out.set(values.subarray(a, offsets[i + 1]!), pos)
    pos += offsets[i + 1]! - a
    outOffsets[i + 1] = pos
  }
  return makeData({ type: data.type, offset: data.offset, length: n, nullCount: data.nullCount, nullBitmap: data.nullBitmap, valueOffsets: outOffsets, data: out.subarray(0, pos) } as never)
}

// (Here rather than a module of its own: every reader of dictionaries also reads strings, and a
// module of its own was a chunk of its own, whose name every page that preloads chunks carries.)
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
