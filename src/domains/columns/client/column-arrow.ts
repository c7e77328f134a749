import { Binary, Field, FixedSizeBinary, FixedSizeList, Float32, Utf8, Bool, makeData, makeVector, vectorFromArray, type Vector } from 'apache-arrow'
import { decodeMany, type DType, type NumericArray } from '../shared/dtypes.js'
import type { ColumnPayload } from '../shared/column-types.js'

function offsetsOf(lens: Uint32Array): Int32Array {
  const out = new Int32Array(lens.length + 1)
  for (let i = 0; i < lens.length; i++) out[i + 1] = out[i]! + lens[i]!
  return out
}

/**
 * An Arrow vector over a column's elements, built from the payload that crossed the worker (no
 * per-element work where Arrow's layout matches ours): numeric dtypes become Int32/Int64/Float32/
 * Float64 over the same buffer; `str:utf8` and `json` become Utf8 over the stored UTF-8 bytes (JSON
 * as text); `bytes` and `msgpack` Binary (msgpack as its encoded bytes); `bytes:N` and `msgpack:N`
 * FixedSizeBinary; `vec:f32:D` FixedSizeList<Float32>(D); `bool` Bool; other string encodings are
 * decoded and stored as Utf8.
 */
export function payloadToArrow(dtype: DType, p: ColumnPayload): Vector {
  const length = p.count
  if (dtype.typed) return makeVector(decodeMany(dtype, p) as NumericArray) as Vector
  switch (dtype.kind) {
    case 'bool':
      return vectorFromArray(decodeMany(dtype, p) as boolean[], new Bool()) as Vector
    case 'vec': {
      const d = dtype.dim!
      const values = new Float32Array(p.bytes.buffer as ArrayBuffer, p.bytes.byteOffset, length * d)
      const child = makeData({ type: new Float32(), length: length * d, data: values })
      return makeVector(makeData({ type: new FixedSizeList(d, new Field('item', new Float32(), false)), length, child })) as Vector
    }
  }
  if (dtype.elemSize > 0) {
    if (dtype.kind === 'bytes' || dtype.kind === 'msgpack') {
      return makeVector(makeData({ type: new FixedSizeBinary(dtype.elemSize), length, data: p.bytes })) as Vector
    }
    return vectorFromArray(decodeMany(dtype, p) as string[], new Utf8()) as Vector
  }
  const valueOffsets = offsetsOf(p.lens!)
  if ((dtype.kind === 'str' && dtype.encoding === 'utf8') || dtype.kind === 'json') {
    return makeVector(makeData({ type: new Utf8(), length, valueOffsets, data: p.bytes })) as Vector
  }
  if (dtype.kind === 'bytes' || dtype.kind === 'msgpack') {
    return makeVector(makeData({ type: new Binary(), length, valueOffsets, data: p.bytes })) as Vector
  }
  return vectorFromArray(decodeMany(dtype, p) as string[], new Utf8()) as Vector
}
