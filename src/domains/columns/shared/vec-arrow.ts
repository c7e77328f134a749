import { Float32, Float64, Int16, Int32, Int64, Int8, Uint16, Uint32, Uint64, Uint8, type DataType } from 'apache-arrow'
import type { VecTypeName } from './vec-dtypes.js'

// Apart from vec-dtypes.ts so that parsing dtypes never loads apache-arrow.

/** The Arrow type of a `vec:` element type. */
export function vecArrowType(t: VecTypeName): DataType {
  switch (t) {
    case 'f32': return new Float32()
    case 'f64': return new Float64()
    case 'i8': return new Int8()
    case 'i16': return new Int16()
    case 'i32': return new Int32()
    case 'i64': return new Int64()
    case 'u8': return new Uint8()
    case 'u16': return new Uint16()
    case 'u32': return new Uint32()
    case 'u64': return new Uint64()
  }
}
