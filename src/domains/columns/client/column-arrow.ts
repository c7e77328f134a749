import {
  Binary, Bool, Field, FixedSizeBinary, FixedSizeList, Float32, List, Utf8,
  Type, Vector, makeData, makeVector, vectorFromArray,
} from 'apache-arrow'
import { decodeMany, type DType, type NumericArray } from '../shared/dtypes.js'
import { shapelessValues, type VecType } from '../shared/vec-dtypes.js'
import { vecArrowType } from '../shared/vec-arrow.js'
import { dictionaryValues, keepingLeadingBoms } from '../../../codec/arrow-strings.js'
import type { ColumnPayload } from '../shared/column-types.js'

function offsetsOf(lens: Uint32Array): Int32Array {
  const out = new Int32Array(lens.length + 1)
  for (let i = 0; i < lens.length; i++) out[i + 1] = out[i]! + lens[i]!
  return out
}

/** `count` values of `t` over `bytes` (a view when aligned, else a copy). */
function alignedValues(t: VecType, bytes: Uint8Array, count: number): ArrayBufferView {
  if (bytes.byteOffset % t.width === 0) return new t.ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, count)
  return new t.ctor(bytes.slice(0, count * t.width).buffer as ArrayBuffer, 0, count)
}

/**
 * An Arrow vector over a column's elements, built from the payload that crossed the worker (no
 * per-element work where Arrow's layout matches ours): numeric dtypes become Int32/Int64/Float32/
 * Float64 over the same buffer; `str:utf8` and `json` become Utf8 over the stored UTF-8 bytes (JSON
 * as text); `bytes` and `msgpack` Binary (msgpack as its encoded bytes); `bytes:N` and `msgpack:N`
 * FixedSizeBinary; `vec:T:d1[:d2…]` FixedSizeList<T>(d1·d2·…) (row-major values); `vec:T`
 * List<T> (each element's values, its shape left out); `bool` Bool; other string encodings are
 * decoded and stored as Utf8. A string that begins with U+FEFF reads back with it from a Utf8
 * vector (arrow-js's decoder drops it: codec/arrow-strings.ts), as `slice()` returns it.
 */
export function payloadToArrow(dtype: DType, p: ColumnPayload): Vector {
  const length = p.count
  if (dtype.typed) return makeVector(decodeMany(dtype, p) as NumericArray) as Vector
  switch (dtype.kind) {
    case 'bool':
      return vectorFromArray(decodeMany(dtype, p) as boolean[], new Bool()) as Vector
    case 'vec': {
      const t = dtype.vec!
      // Arrow's typings tie each type to one array class; at run time any numeric type/array pair works.
      const type = vecArrowType(t.name) as unknown as Float32
      if (dtype.elemSize === 0) {
        const { values, offsets } = shapelessValues(t, p.bytes, p.lens!)
        const child = makeData({ type, length: values.length, data: values as unknown as Float32Array })
        return makeVector(makeData({ type: new List(new Field('item', type, false)), length, valueOffsets: offsets, child })) as Vector
      }
      const d = dtype.dim!
      const child = makeData({ type, length: length * d, data: alignedValues(t, p.bytes, length * d) as unknown as Float32Array })
      return makeVector(makeData({ type: new FixedSizeList(d, new Field('item', type, false)), length, child })) as Vector
    }
  }
  if (dtype.elemSize > 0) {
    if (dtype.kind === 'bytes' || dtype.kind === 'msgpack' || dtype.kind === 'cbor') {
      return makeVector(makeData({ type: new FixedSizeBinary(dtype.elemSize), length, data: p.bytes })) as Vector
    }
    return keepingLeadingBoms(vectorFromArray(decodeMany(dtype, p) as string[], new Utf8()) as Vector)
  }
  const valueOffsets = offsetsOf(p.lens!)
  if ((dtype.kind === 'str' && dtype.encoding === 'utf8') || dtype.kind === 'json') {
    return keepingLeadingBoms(makeVector(makeData({ type: new Utf8(), length, valueOffsets, data: p.bytes })) as Vector)
  }
  if (dtype.kind === 'bytes' || dtype.kind === 'msgpack' || dtype.kind === 'cbor') {
    return makeVector(makeData({ type: new Binary(), length, valueOffsets, data: p.bytes })) as Vector
  }
  return keepingLeadingBoms(vectorFromArray(decodeMany(dtype, p) as string[], new Utf8()) as Vector)
}

/**
 * What `extend` iterates for an Arrow vector given to it: its values as they are. Iterated as it is,
 * arrow-js drops a leading U+FEFF of each string ("\uFEFFa" was stored as "a") and throws a
 * TypeError on a dictionary with 64-bit indices. Anything else is returned unchanged.
 */
export function arrowInput(values: unknown, column: string): unknown {
  if (!(values instanceof Vector)) return values
  if ((values.type.typeId as Type) === Type.Dictionary) return dictionaryValues(keepingLeadingBoms(values), column)
  return keepingLeadingBoms(values)
}
