/**
 * Elements of a column in flight between client and engine: `count` elements in one buffer. For a
 * fixed-size dtype `bytes` holds `count × elemSize` bytes; for a variable-size dtype element i is
 * the next `lens[i]` bytes. One buffer (two for variable size) crosses the worker boundary by
 * transfer, whatever the number of elements.
 */
export interface ColumnPayload {
  count: number
  bytes: Uint8Array
  lens?: Uint32Array
}

/** What `vault.columns.list()` reports for each column. */
export interface ColumnInfo {
  /** The column's name. */
  name: string
  /** Its dtype, as given to `create` (docs/columns.md). */
  dtype: string
  /** Number of elements. */
  length: number
  /**
   * The element shape of a fixed-shape `vec:T:d1[:d2…]` column (`[d1, d2, …]`); absent for other
   * dtypes, and for `vec:T`, whose elements each carry their own (`element.shape`).
   */
  shape?: number[]
}

/** Not public (the engine's reply to a handle, which both halves share): the column's facts and its identity. */
export interface ColumnHandleInfo extends ColumnInfo {
  /** Made at creation and never reused: a column re-created under the same name has another id. */
  id: number
}

/**
 * Not public (shared by both halves): how a call names its column: a plain name, or a handle's
 * name and id (the engine then refuses the call with NotFoundError when the column of that name is
 * not the one the handle was made for).
 */
export type ColumnRef = string | { name: string; id: number }

/** Options of `vault.columns.create()` / `ensure()`. */
export interface ColumnOptions {
  /**
   * Capacity of the column's first chunk in bytes (default 16 KiB). Each new chunk doubles the
   * previous one up to {@link maxChunkBytes}, so a small column stays small and a big one is stored
   * in few large chunks.
   */
  minChunkBytes?: number
  /** Largest chunk capacity in bytes (default 4 MiB). Tiny values work, just slowly. */
  maxChunkBytes?: number
}

/** Options of `column.withCache()` / `enableCache()`. */
export interface ColumnCacheOptions {
  /** Buffered bytes at which the cache writes everything in one batch. Default 8 MiB. */
  flushThreshold?: number
  /** Hard limit of buffered bytes; reaching it flushes before accepting more. Default 64 MiB. */
  capBytes?: number
}

/** The numeric dtypes: slices of these are typed arrays. */
type NumericDType = 'i32' | 'i64' | 'f32' | 'f64'

/** Every dtype string a column accepts (N, D: positive whole numbers). */
export type DTypeString =
  | NumericDType
  | 'bool'
  | 'bytes'
  | `bytes:${number}`
  | `str:${'utf8' | 'latin1' | 'ascii' | 'utf16le' | 'utf16be'}`
  | `str:${number}`
  | `str:${number}:${'utf8' | 'latin1' | 'ascii' | 'utf16le' | 'utf16be'}`
  | 'msgpack'
  | `msgpack:${number}`
  | 'cbor'
  | `cbor:${number}`
  | 'json'
  | `vec:${VecType}:${number}`
  | `vec:${VecType}:${number}:${string}`
  | `vec:${VecType}`

/** The element types of `vec:` dtypes. */
type VecType = 'f32' | 'f64' | 'i8' | 'i16' | 'i32' | 'i64' | 'u8' | 'u16' | 'u32' | 'u64'

/** The typed array of a `vec:` element type. */
type VecArrayOf<T extends string> = T extends 'f32'
  ? Float32Array
  : T extends 'f64'
    ? Float64Array
    : T extends 'i8'
      ? Int8Array
      : T extends 'i16'
        ? Int16Array
        : T extends 'i32'
          ? Int32Array
          : T extends 'i64'
            ? BigInt64Array
            : T extends 'u8'
              ? Uint8Array
              : T extends 'u16'
                ? Uint16Array
                : T extends 'u32'
                  ? Uint32Array
                  : T extends 'u64'
                    ? BigUint64Array
                    : ArrayBufferView

/** An element of a `vec:T` column: its values, with its shape (row-major) as `shape`. */
export type ShapedArray<A extends ArrayBufferView = ArrayBufferView> = A & { readonly shape: readonly number[] }

/** The element of `vec:` dtype `D`: a typed array (with its shape for shapeless `vec:T`). */
type VecElementOf<D extends string> = D extends `vec:${infer T}:${string}` ? VecArrayOf<T> : D extends `vec:${infer T}` ? ShapedArray<VecArrayOf<T>> : never

/**
 * What a `vec:` column accepts for one element: the typed array, another typed array or (nested)
 * arrays of numbers (bigints for i64/u64), and for shapeless `vec:T` also `{ data, shape }`.
 */
type VecInputOf<D extends string> =
  | VecArrayOf<D extends `vec:${infer T}:${string}` ? T : D extends `vec:${infer T}` ? T : never>
  | ArrayBufferView
  | ArrayLike<unknown>
  | (D extends `vec:${string}:${string}` ? never : { data: ArrayBufferView | ArrayLike<number | bigint>; shape: readonly number[] })

/** The JS type of one element of a column of dtype `D` (unknown when the dtype is not known statically). */
export type ElementOf<D extends string> = D extends 'i64'
  ? bigint
  : D extends 'i32' | 'f32' | 'f64'
    ? number
    : D extends 'bool'
      ? boolean
      : D extends 'bytes' | `bytes:${string}`
        ? Uint8Array
        : D extends `str:${string}`
          ? string
          : D extends `vec:${string}`
            ? VecElementOf<D>
            : unknown

/**
 * What a write accepts for one element of dtype `D`: its element type, plus safe integer numbers
 * for `i64` and (nested) number arrays for `vec:` dtypes.
 */
export type InputOf<D extends string> = D extends 'i64' ? bigint | number : D extends `vec:${string}` ? VecInputOf<D> : ElementOf<D>

/** What `slice()` returns for dtype `D`: a typed array for numeric dtypes, else an array. */
export type SliceOf<D extends string> = D extends 'i64'
  ? BigInt64Array
  : D extends 'i32'
    ? Int32Array
    : D extends 'f32'
      ? Float32Array
      : D extends 'f64'
        ? Float64Array
        : string extends D
          ? ArrayLike<unknown>
          : ElementOf<D>[]

/** What `extend()` accepts for dtype `D`: any iterable of elements, or the matching typed array. */
export type ExtendInput<D extends string> = Iterable<InputOf<D>> | ArrayLike<InputOf<D>> | (D extends NumericDType ? SliceOf<D> | ArrayLike<number> : never)
