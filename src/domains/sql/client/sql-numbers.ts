import { Field, FixedSizeList, Float64, List, Map_, Struct, Union, makeData, type Data, type DataType } from 'apache-arrow'

/**
 * DECIMAL, HUGEINT and UHUGEINT as doubles, converted here from the 128-bit integers DuckDB sends.
 * duckdb-wasm's own conversion (its `castDecimalToDouble` option) was wrong twice over: HUGEINT's
 * smallest value, −2^127, came back as +2^127, and a DECIMAL or HUGEINT inside a list, struct or
 * map had its column's type changed to Float64 but not its data, so `[1.5, 2.25]` read as
 * `[7.4e-322, 0]` (the 128-bit words taken for doubles). UHUGEINT came as 16 opaque bytes.
 */

/** Arrow type ids (apache-arrow's `Type` enum). */
const T = { FixedSizeBinary: 15, Decimal: 7, List: 12, Struct: 13, Union: 14, FixedSizeList: 16, Map: 17 } as const

/** 10^s as the double a decimal literal gives (`10 ** s` is off by an ulp for some s in V8). */
const POW10 = Array.from({ length: 39 }, (_, s) => Number(`1e${s}`))
const TWO32 = 4294967296

function isUhugeint(field: Field): boolean {
  const type = field.type as { typeId: number; byteWidth?: number }
  return type.typeId === T.FixedSizeBinary && type.byteWidth === 16 && /"type_name"\s*:\s*"uhugeint"/.test(field.metadata.get('ARROW:extension:metadata') ?? '')
}

/** The type a field's values become, or undefined when nothing in it changes. */
export function numericType(field: Field): DataType | undefined {
  const type = field.type as DataType
  switch (type.typeId as number) {
    case T.Decimal:
      return new Float64()
    case T.FixedSizeBinary:
      return isUhugeint(field) ? new Float64() : undefined
    case T.List:
    case T.FixedSizeList:
    case T.Map: {
      const child = type.children[0]!
      const inner = numericType(child)
      if (!inner) return undefined
      const field2 = new Field(child.name, inner, child.nullable, child.metadata)
      if (type.typeId === T.List) return new List(field2)
      if (type.typeId === T.FixedSizeList) return new FixedSizeList((type as FixedSizeList).listSize, field2)
      return new Map_(field2 as Field<Struct>, (type as Map_).keysSorted)
    }
    case T.Struct:
    case T.Union: {
      const fields = type.children as Field[]
      const inner = fields.map(numericType)
      if (inner.every((t) => t === undefined)) return undefined
      const converted = fields.map((f, i) => (inner[i] ? new Field(f.name, inner[i], f.nullable, f.metadata) : f))
      return type.typeId === T.Struct ? new Struct(converted) : new Union((type as Union).mode, Array.from((type as Union).typeIds), converted)
    }
  }
  return undefined
}

/** A chunk of `field`'s data as `to` (from {@link numericType}), same length, nulls and offsets. */
export function numericData(field: Field, to: DataType, data: Data | undefined): Data {
  // A nested column of an empty result may have no child data (arrow-js reads a stream with no
  // rows so): an empty chunk of the new type stands for it.
  if (data === undefined) return makeData({ type: to, length: 0 } as never)
  const base = { offset: data.offset, length: data.length, nullCount: data.nullCount, nullBitmap: data.nullBitmap }
  switch ((field.type as DataType).typeId as number) {
    case T.Decimal:
      return makeData({ type: new Float64(), ...base, data: decimals(data.values as Uint32Array, data.length, (field.type as { scale: number }).scale) })
    case T.FixedSizeBinary:
      return makeData({ type: new Float64(), ...base, data: unsigned128(data.values as Uint8Array, data.length) })
    case T.List:
    case T.Map: {
      const child = field.type.children[0]!
      const converted = numericData(child, to.children[0]!.type as DataType, data.children[0])
      return makeData({ type: to as List, ...base, valueOffsets: data.valueOffsets, child: converted } as never)
    }
    case T.FixedSizeList: {
      const child = field.type.children[0]!
      return makeData({ type: to as FixedSizeList, ...base, child: numericData(child, to.children[0]!.type as DataType, data.children[0]) })
    }
    case T.Struct:
    case T.Union: {
      const fields = field.type.children as Field[]
      const children = fields.map((f, i) => (f.type === to.children[i]!.type ? data.children[i]! : numericData(f, to.children[i]!.type as DataType, data.children[i])))
      if ((to.typeId as number) === T.Struct) return makeData({ type: to as Struct, ...base, children })
      return makeData({ type: to as Union, offset: data.offset, length: data.length, nullCount: data.nullCount, typeIds: data.typeIds, valueOffsets: data.valueOffsets, children } as never)
    }
  }
  return data
}

/**
 * Signed 128-bit integers (four little-endian 32-bit words each, two's complement) divided by
 * 10^scale, each as the nearest double to its exact value. An integer within ±2^53 divided by an
 * exact power of ten (scale ≤ 22) is one correctly rounded division; any other value is written
 * as decimal text and parsed, which JavaScript rounds correctly (rare: beyond 2^53 or 22 places).
 * (DuckDB's own cast to DOUBLE rounds twice there: −12866270807823282 became −12866270807823280.)
 */
function decimals(words: Uint32Array, n: number, scale: number): Float64Array {
  const out = new Float64Array(n)
  const div = POW10[scale]!
  const exactDiv = scale <= 22
  for (let i = 0; i < n; i++) {
    const at = i * 4
    const w0 = words[at]!
    const w1 = words[at + 1]!
    const w2 = words[at + 2]!
    const w3 = words[at + 3]!
    if (exactDiv && w3 === 0 && w2 === 0 && w1 < 0x200000) out[i] = (w1 * TWO32 + w0) / div
    else if (exactDiv && w3 === 0xffffffff && w2 === 0xffffffff && w1 >= 0xffe00000) out[i] = ((w1 - TWO32) * TWO32 + w0) / div
    else out[i] = Number(decimalText(BigInt.asIntN(128, (BigInt(w3) << 96n) | (BigInt(w2) << 64n) | (BigInt(w1) << 32n) | BigInt(w0)), scale))
  }
  return out
}

/** `int / 10^scale` as decimal text. */
function decimalText(int: bigint, scale: number): string {
  const sign = int < 0n ? '-' : ''
  const digits = (int < 0n ? -int : int).toString()
  if (scale === 0) return sign + digits
  const padded = digits.padStart(scale + 1, '0')
  return `${sign}${padded.slice(0, padded.length - scale)}.${padded.slice(padded.length - scale)}`
}

/** Unsigned 128-bit little-endian integers (DuckDB's UHUGEINT, 16 bytes each) as the nearest doubles. */
function unsigned128(bytes: Uint8Array, n: number): Float64Array {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let v = 0n
    for (let b = 15; b >= 0; b--) v = (v << 8n) | BigInt(bytes[i * 16 + b]!)
    out[i] = Number(v)
  }
  return out
}
