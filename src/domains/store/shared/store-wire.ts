import { InvalidArgumentError } from '../../../errors/errors.js'
import type { PredictionArraysInput, PredictionInput } from './store-types.js'

/**
 * What crosses from the client to the engine for a prediction's arrays: each array already in its
 * stored type (a fresh copy the caller cannot change any more, transferred rather than copied).
 */
export interface WireArrays {
  yTrue: Float64Array | null
  yPred: Float64Array | null
  yProba: Float64Array | null
  yProbaShape: Int32Array | null
  sampleIndices: Int32Array | null
  weights: Float64Array | null
}

/** The array kinds of a prediction, in the order segments store them. */
export const ARRAY_KINDS = ['yTrue', 'yPred', 'yProba', 'yProbaShape', 'sampleIndices', 'weights'] as const
export type ArrayKind = (typeof ARRAY_KINDS)[number]

function numbersOf(v: unknown, what: string): ArrayLike<number> {
  if (ArrayBuffer.isView(v)) {
    if (v instanceof DataView || v instanceof BigInt64Array || v instanceof BigUint64Array) throw new InvalidArgumentError(`${what} must be an array of numbers or a numeric typed array, got ${v.constructor.name}`)
    return v as unknown as ArrayLike<number>
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'number') throw new InvalidArgumentError(`${what}[${i}] must be a number, got ${v[i] === null ? 'null' : typeof v[i]}`)
    return v
  }
  throw new InvalidArgumentError(`${what} must be an array of numbers or a numeric typed array`)
}

/** A fresh Float64Array holding `v` (numbers), or null. */
export function toFloat64(v: unknown, what: string): Float64Array | null {
  if (v === undefined || v === null) return null
  // The constructor copies (and converts) a typed array natively; `from` would iterate.
  return new Float64Array(numbersOf(v, what) as ArrayLike<number> & Float64Array)
}

/** A fresh Int32Array holding `v` (whole numbers in int32 range), or null. */
export function toInt32(v: unknown, what: string): Int32Array | null {
  if (v === undefined || v === null) return null
  const src = numbersOf(v, what)
  const out = new Int32Array(src.length)
  for (let i = 0; i < src.length; i++) {
    const x = src[i]!
    if (!Number.isInteger(x) || x < -2147483648 || x > 2147483647) throw new InvalidArgumentError(`${what}[${i}] must be a whole number in int32 range, got ${x}`)
    out[i] = x
  }
  return out
}

/** yProba as row-major values plus its shape (rows of numbers are flattened, their width checked). */
function probaOf(a: PredictionArraysInput, what: string): [Float64Array | null, Int32Array | null] {
  const p = a.yProba
  if (p === undefined || p === null) {
    if (a.yProbaShape !== undefined && a.yProbaShape !== null) throw new InvalidArgumentError(`${what}.yProbaShape is given without ${what}.yProba`)
    return [null, null]
  }
  let values: Float64Array
  let inferred: number[]
  if (Array.isArray(p) && p.length > 0 && (Array.isArray(p[0]) || ArrayBuffer.isView(p[0]))) {
    const rows = p as ArrayLike<number>[]
    const width = rows[0]!.length
    values = new Float64Array(rows.length * width)
    rows.forEach((r, i) => {
      const row = numbersOf(r, `${what}.yProba[${i}]`)
      if (row.length !== width) throw new InvalidArgumentError(`${what}.yProba[${i}] has ${row.length} values; row 0 has ${width}`)
      values.set(row, i * width)
    })
    inferred = [rows.length, width]
  } else {
    values = toFloat64(p, `${what}.yProba`)!
    inferred = [values.length]
  }
  const shape = a.yProbaShape === undefined || a.yProbaShape === null ? Int32Array.from(inferred) : toInt32(a.yProbaShape, `${what}.yProbaShape`)!
  let size = 1
  for (const d of shape) {
    if (d < 0) throw new InvalidArgumentError(`${what}.yProbaShape must hold sizes ≥ 0, got ${Array.from(shape).join('×')}`)
    size *= d
  }
  if (size !== values.length) throw new InvalidArgumentError(`${what}.yProbaShape ${Array.from(shape).join('×')} holds ${size} values, yProba has ${values.length}`)
  return [values, shape]
}

/** A prediction's arrays in their stored types, or null when none are given. */
export function toWireArrays(a: PredictionArraysInput | null | undefined, what: string): WireArrays | null {
  if (a === undefined || a === null) return null
  if (typeof a !== 'object') throw new InvalidArgumentError(`${what} must be an object of arrays`)
  // Only the kinds it knows cross to the engine: a misspelt one (`ytrue`) was dropped, and the
  // prediction saved with no arrays at all (found by a probe), against the rule of docs/store.md.
  for (const k of Object.keys(a)) if (!(ARRAY_KINDS as readonly string[]).includes(k)) throw new InvalidArgumentError(`${what}: unknown array "${k}" (known: ${ARRAY_KINDS.join(', ')})`)
  const [yProba, yProbaShape] = probaOf(a, what)
  return {
    yTrue: toFloat64(a.yTrue, `${what}.yTrue`),
    yPred: toFloat64(a.yPred, `${what}.yPred`),
    yProba,
    yProbaShape,
    sampleIndices: toInt32(a.sampleIndices, `${what}.sampleIndices`),
    weights: toFloat64(a.weights, `${what}.weights`),
  }
}

/** A prediction as it crosses to the engine: its fields, and its arrays converted. */
export type WirePrediction = Omit<PredictionInput, 'arrays'> & { arrays: WireArrays | null }

/** The buffers of a batch of wire predictions, to transfer. */
export function wireTransfer(records: WirePrediction[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = []
  for (const r of records) {
    if (!r.arrays) continue
    for (const k of ARRAY_KINDS) {
      const v = r.arrays[k]
      if (v) out.push(v.buffer as ArrayBuffer)
    }
  }
  return out
}

/**
 * A JSON value as it is now: the store keeps JSON text, so the caller changing the object after the
 * call cannot change what is stored; what JSON cannot hold (a function, a bigint, a cycle) is refused.
 */
export function jsonSnapshot<T>(value: T, what: string): T {
  if (value === undefined) return value
  checkJson(value, what)
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (err) {
    throw new InvalidArgumentError(`${what} must be JSON-serialisable: ${(err as Error).message}`)
  }
  if (text === undefined) throw new InvalidArgumentError(`${what} must be JSON-serialisable, got ${typeof value}`)
  return JSON.parse(text) as T
}

/**
 * An options object as it is now (pipeline start, chain, result, log entry, project…): a shallow
 * copy whose JSON-valued members are snapshots ({@link jsonSnapshot}, named by their key) and whose
 * numbers are passed as they are. A JSON round trip of the whole object would turn a NaN or an
 * Infinity score into null before the engine could check it (a silent change); numbers are checked
 * by the engine. An undefined member means "not given" in an options object and is left out.
 * Anything but a plain object (or undefined/null, which the engine reads as `{}`) is refused.
 */
export function fieldsSnapshot<T>(value: T, what: string): T {
  if (value === undefined || value === null) return value
  const proto = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined
  if (typeof value !== 'object' || Array.isArray(value) || (proto !== Object.prototype && proto !== null)) throw new InvalidArgumentError(`${what} must be an object`)
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(value as Record<string, unknown>)) {
    if (x === undefined) continue
    out[k] = typeof x === 'number' ? x : jsonSnapshot(x, k)
  }
  return out as T
}

/**
 * Refuse what JSON would silently drop or mangle, anywhere in `value`, with InvalidArgumentError
 * naming `what` and the path (`config.list[1]`): a value the store accepts must read back exactly,
 * and `JSON.stringify` turns NaN and ±Infinity into null, drops undefined members (and makes
 * undefined array elements and holes null), drops symbol keys and an array's non-index properties,
 * and fails on functions, symbols, bigints and cycles; class instances (Map, Set, typed arrays…)
 * lose their contents. Dates are allowed (stored as ISO text, as docs/store.md says) unless invalid
 * (they would become null). -0 is allowed and reads back as 0 (JSON text has no -0 that
 * JSON.stringify writes; documented): it is what negating a perfect score gives, so refusing it would
 * break training loops over a value equal to 0. Top-level undefined is the caller's "not given" and
 * is the caller's (jsonText / jsonSnapshot) to handle.
 */
export function checkJson(value: unknown, what: string, depth = 0, seen: Set<object> = new Set()): void {
  if (depth > 512) throw new InvalidArgumentError(`${what} is nested more than 512 levels deep`)
  const t = typeof value
  if (t === 'function' || t === 'symbol' || t === 'bigint') throw new InvalidArgumentError(`${what} holds a ${t}, which JSON cannot store`)
  if (t === 'number') {
    if (!Number.isFinite(value)) throw new InvalidArgumentError(`${what} is ${String(value)}, which JSON cannot store (it would read back as null)`)
    return
  }
  if (value === undefined) throw new InvalidArgumentError(`${what} is undefined, which JSON drops (leave the member out, or use null)`)
  if (value === null || t !== 'object') return
  const obj = value as object
  if (obj instanceof Date) {
    if (Number.isNaN(obj.getTime())) throw new InvalidArgumentError(`${what} is an invalid Date, which JSON stores as null`)
    return
  }
  if (seen.has(obj)) throw new InvalidArgumentError(`${what} refers back to itself (a cycle), which JSON cannot store`)
  seen.add(obj)
  if (Array.isArray(obj)) {
    const arr = obj as unknown[]
    // A subclass would read back as an Array, or as whatever its toJSON returns.
    if (Object.getPrototypeOf(arr) !== Array.prototype) throw new InvalidArgumentError(`${what} holds a ${arr.constructor?.name ?? 'class instance'} (an Array subclass), which JSON stores as something else`)
    for (let i = 0; i < arr.length; i++) {
      if (!(i in arr)) throw new InvalidArgumentError(`${what}[${i}] is a hole, which JSON stores as null`)
      checkJson(arr[i], `${what}[${i}]`, depth + 1, seen)
    }
    if (Object.keys(arr).length !== arr.length || Object.getOwnPropertySymbols(arr).length > 0) throw new InvalidArgumentError(`${what} is an array with other properties than its elements, which JSON drops`)
  } else {
    const proto = Object.getPrototypeOf(obj)
    if (proto !== Object.prototype && proto !== null) throw new InvalidArgumentError(`${what} holds a ${(obj as object).constructor?.name ?? 'class instance'}; only plain objects, arrays, strings, numbers, booleans and null can be stored as JSON`)
    if (Object.getOwnPropertySymbols(obj).length > 0) throw new InvalidArgumentError(`${what} has symbol keys, which JSON drops`)
    for (const [k, x] of Object.entries(obj as Record<string, unknown>)) checkJson(x, `${what}.${k}`, depth + 1, seen)
  }
  seen.delete(obj)
}
