import { makeData, type Data, type DataType } from 'apache-arrow'

/**
 * Strings that begin with U+FEFF, kept. arrow-js decodes every Utf8 value with one TextDecoder it
 * made with the defaults, which drop a U+FEFF at the start of the text decoded: DuckDB's
 * `chr(65279) || 'x'` (2 characters) read as 'x'. Nothing outside arrow-js can change that
 * decoder, so such a value's bytes are given one more U+FEFF, which the decoder drops, leaving
 * the value as DuckDB holds it. Only values that begin with U+FEFF change, and only their bytes:
 * a result re-encoded (`tableToIPC`) and read by another Arrow reader shows the extra U+FEFF. The
 * look costs a pass over each string column's offsets (docs/sql.md has the figures).
 */

/** Arrow type ids (apache-arrow's `Type` enum). */
const T = { Utf8: 5, List: 12, Struct: 13, Union: 14, FixedSizeList: 16, Map: 17 } as const

/** The chunk with every string beginning with U+FEFF given one more, at any depth; undefined when none begins with it. */
export function keepLeadingBoms(data: Data): Data | undefined {
  switch ((data.type as DataType).typeId as number) {
    case T.Utf8:
      return utf8(data)
    case T.List:
    case T.Map:
    case T.FixedSizeList:
    case T.Struct:
    case T.Union: {
      let changed = false
      const children = data.children.map((c) => {
        const kept = keepLeadingBoms(c)
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

const BOM = new Uint8Array([0xef, 0xbb, 0xbf])

function startsWithBom(values: Uint8Array, at: number, end: number): boolean {
  return end - at >= 3 && values[at] === 0xef && values[at + 1] === 0xbb && values[at + 2] === 0xbf
}

function utf8(data: Data): Data | undefined {
  const offsets = data.valueOffsets as Int32Array
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
  return makeData({ type: data.type, offset: data.offset, length: n, nullCount: data.nullCount, nullBitmap: data.nullBitmap, valueOffsets: outOffsets, data: out } as never)
}
