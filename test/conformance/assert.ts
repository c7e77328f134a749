/**
 * The few assertions the vault conformance suites need, written so that they run anywhere: under
 * node:test and inside a browser page (node:assert exists only in Node). A failed assertion throws
 * an Error whose message names what differed and where.
 */

/** Throw when `condition` is false. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message)
}

/**
 * Throw unless `actual` and `expected` are deeply equal the way node's `deepStrictEqual` means it:
 * primitives by `Object.is` (NaN equals NaN, 0 differs from -0), typed arrays by class and elements,
 * dates by time, maps and sets by their entries (object keys compared deeply), arrays and plain
 * objects by their own enumerable keys and prototype.
 */
export function equal(actual: unknown, expected: unknown, message: string): void {
  const difference = differ(actual, expected, '')
  if (difference !== undefined) throw new Error(`${message}: ${difference}\n  got:      ${show(actual)}\n  expected: ${show(expected)}`)
}

/** Throw unless `|actual - expected| <= tolerance`. */
export function near(actual: number, expected: number, tolerance: number, message: string): void {
  check(Math.abs(actual - expected) <= tolerance, `${message}: got ${actual}, expected ${expected} ± ${tolerance}`)
}

/** An error class, or anything `instanceof` works with. */
type ErrorClass = abstract new (...args: never[]) => Error

/**
 * Await `promise`, which must reject with an instance of `Class`; when `pattern` is given, the
 * error's message must match it. Resolves with the error (for further checks).
 */
export async function rejects(promise: Promise<unknown>, Class: ErrorClass, message: string, pattern?: RegExp): Promise<Error> {
  let error: unknown
  let rejected = false
  try {
    await promise
  } catch (err) {
    error = err
    rejected = true
  }
  check(rejected, `${message}: resolved, expected a ${Class.name}`)
  const described = error instanceof Error ? `${error.name} (code ${String((error as { code?: unknown }).code)}): ${error.message}` : show(error)
  check(error instanceof Class, `${message}: rejected with ${described}, expected a ${Class.name}`)
  if (pattern) check(pattern.test(error.message), `${message}: the message ${JSON.stringify(error.message)} does not match ${pattern}`)
  return error
}

/** Where `a` and `b` first differ (a path and what), or undefined when they are deeply equal. */
function differ(a: unknown, b: unknown, path: string): string | undefined {
  const at = path === '' ? 'the value' : path
  if (Object.is(a, b)) return undefined
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return `${at} is ${show(a)}, expected ${show(b)}`
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${at} is a ${kind(a)}, expected a ${kind(b)}`
  if (ArrayBuffer.isView(a)) {
    const x = elements(a)
    const y = elements(b as ArrayBufferView)
    if (x.length !== y.length) return `${at} has ${x.length} elements, expected ${y.length}`
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return `${at}[${i}] is ${show(x[i])}, expected ${show(y[i])}`
    return undefined
  }
  if (a instanceof Date) return a.getTime() === (b as Date).getTime() || (Number.isNaN(a.getTime()) && Number.isNaN((b as Date).getTime())) ? undefined : `${at} is ${show(a)}, expected ${show(b)}`
  if (a instanceof Map) return differEntries([...a], [...(b as Map<unknown, unknown>)], at)
  if (a instanceof Set) return differEntries([...a].map((k) => [k, true]), [...(b as Set<unknown>)].map((k) => [k, true]), at)
  const keysA = Object.keys(a)
  const keysB = Object.keys(b)
  if (Array.isArray(a) && a.length !== (b as unknown[]).length) return `${at} has length ${a.length}, expected ${(b as unknown[]).length}`
  for (const k of keysB) if (!Object.hasOwn(a, k)) return `${at} lacks the key ${JSON.stringify(k)}`
  for (const k of keysA) if (!Object.hasOwn(b, k)) return `${at} has the unexpected key ${JSON.stringify(k)}`
  for (const k of keysB) {
    const d = differ((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`)
    if (d !== undefined) return d
  }
  return undefined
}

/** Map or set entries, matched regardless of order (keys compared deeply). */
function differEntries(a: unknown[][], b: unknown[][], at: string): string | undefined {
  if (a.length !== b.length) return `${at} has ${a.length} entries, expected ${b.length}`
  const unmatched = [...b]
  for (const [key, value] of a) {
    const i = unmatched.findIndex(([k, v]) => differ(key, k, '') === undefined && differ(value, v, '') === undefined)
    if (i < 0) return `${at} has the entry ${show(key)} → ${show(value)}, which is not expected`
    unmatched.splice(i, 1)
  }
  return undefined
}

function elements(view: ArrayBufferView): ArrayLike<unknown> {
  return view instanceof DataView ? new Uint8Array(view.buffer, view.byteOffset, view.byteLength) : (view as unknown as ArrayLike<unknown>)
}

function kind(x: object): string {
  return Object.getPrototypeOf(x)?.constructor?.name ?? 'null-prototype object'
}

/** A short readable form of any value (bigints, typed arrays, maps, sets and dates included). */
export function show(x: unknown): string {
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x)
  if (typeof x === 'bigint') return `${x}n`
  try {
    const text = JSON.stringify(x, (_key, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`
      if (typeof v === 'number' && !Number.isFinite(v)) return String(v)
      if (v === undefined) return 'undefined'
      if (ArrayBuffer.isView(v)) return `${kind(v)}[${Array.from(elements(v), (e) => (typeof e === 'bigint' ? `${e}n` : String(e))).slice(0, 20).join(', ')}${elements(v).length > 20 ? ', …' : ''}]`
      if (v instanceof Map) return { Map: [...v] }
      if (v instanceof Set) return { Set: [...v] }
      return v
    })
    if (text === undefined) return String(x)
    return text.length > 300 ? `${text.slice(0, 300)}…` : text
  } catch {
    return String(x)
  }
}
