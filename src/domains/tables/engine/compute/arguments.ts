import { InvalidArgumentError, NotFoundError } from '../../../../errors/errors.js'
import { quote } from '../../../../codec/checks.js'
import type { ArgumentValue, BuilderArguments } from '../../shared/builder-types.js'
import {
  KEYWORDS, findReferences, printReference, unescapeArgumentText, usesIndex, type ReferenceValue, type TableReference,
} from '../../shared/table-references.js'

/**
 * Resolving a builder's arguments: table references become values, keywords become what the
 * execution was given. Every table a builder reads is loaded before it runs (`TableData`), so
 * resolution is synchronous; a reference that does not use `index` is resolved once per builder run,
 * and an equality condition builds a hash index of its column once, so a row-wise builder over n
 * rows costs O(n), not O(n²).
 */

/** A loaded table (another table's instance, or `self` as built so far). */
export interface TableData {
  readonly name: string
  readonly numRows: number
  readonly columnNames: readonly string[]
  /** A column's values as builders see them; NotFoundError naming it when missing. */
  column(name: string): readonly unknown[]
}

/** What resolution needs. */
export interface ArgumentEnv {
  readonly builder: string
  readonly self: TableData
  /** Another table's loaded data (its instance resolved before the run). */
  table(name: string, instance: string | undefined): TableData
  readonly artifactFolder: unknown
  readonly processId: string | undefined
}

/** Resolves a builder's arguments, for the whole table or for one row. */
export interface ArgumentResolver {
  /** True when no reference uses `index`: the same arguments serve every row. */
  readonly constant: boolean
  at(row?: number): Record<string, unknown>
}

type Compiled = (row: number | undefined) => unknown

const MISSING = Symbol('missing')

function keyOf(v: unknown): string {
  if (v === null || v === undefined) return 'null'
  switch (typeof v) {
    case 'number': return Number.isInteger(v) ? `n${v}` : `f${v}`
    case 'bigint': return `n${v}`
    case 'string': return `s${v}`
    case 'boolean': return `b${v}`
  }
  return `j${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x))}`
}

/** A literal read as the type of the column it is compared with (`"3"` equals 3 in an i32 column). */
function coerce(text: string, sample: unknown): unknown {
  if (typeof sample === 'number') return text.trim() === '' ? MISSING : Number(text)
  if (typeof sample === 'bigint') {
    try {
      return BigInt(text)
    } catch {
      return MISSING
    }
  }
  if (typeof sample === 'boolean') return text === 'true' ? true : text === 'false' ? false : MISSING
  return text
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    if (typeof a === 'number' && !Number.isInteger(a)) return a < Number(b) ? -1 : a > Number(b) ? 1 : 0
    if (typeof b === 'number' && !Number.isInteger(b)) return Number(a) < b ? -1 : Number(a) > b ? 1 : 0
    const x = BigInt(a as bigint | number)
    const y = BigInt(b as bigint | number)
    return x < y ? -1 : x > y ? 1 : 0
  }
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : a === b ? 0 : NaN
  const x = String(a)
  const y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

function interpolated(v: unknown): string {
  if (typeof v === 'string') return v
  if (v === null || v === undefined || typeof v !== 'object') return String(v)
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : ArrayBuffer.isView(x) ? Array.from(x as unknown as ArrayLike<number>) : x))
}

/** Compile a builder's arguments against its environment. */
export function compileArguments(args: BuilderArguments, env: ArgumentEnv): ArgumentResolver {
  const hashes = new Map<readonly unknown[], Map<string, number[]>>()
  const where = (ref: TableReference): string => `builder ${quote(env.builder)}: ${printReference(ref)}`

  const equalsRows = (values: readonly unknown[], target: unknown): readonly number[] => {
    let h = hashes.get(values)
    if (!h) {
      h = new Map()
      for (let i = 0; i < values.length; i++) {
        const k = keyOf(values[i])
        const list = h.get(k)
        if (list) list.push(i)
        else h.set(k, [i])
      }
      hashes.set(values, h)
    }
    return h.get(keyOf(target)) ?? []
  }

  const sampleOf = (values: readonly unknown[]): unknown => values.find((x) => x !== null && x !== undefined)

  const compileValue = (v: ReferenceValue, sampleColumn: () => readonly unknown[]): Compiled => {
    if (v.kind === 'index') {
      return (row) => {
        if (row === undefined) throw new InvalidArgumentError(`builder ${quote(env.builder)}: "index" is only known to row-wise builders`)
        return row
      }
    }
    if (v.kind === 'reference') return compileRef(v.ref)
    const text = v.text
    let cached: unknown = MISSING
    return () => (cached === MISSING ? (cached = coerce(text, sampleOf(sampleColumn()))) : cached)
  }

  const compileRef = (ref: TableReference): Compiled => {
    const data = (): TableData => (ref.self ? env.self : env.table(ref.table, ref.instance))
    const conds = ref.conditions.map((c) => {
      if (c.kind === 'position') return { kind: c.kind, at: compileValue(c.at, () => []) }
      const column = (): readonly unknown[] => data().column(c.column)
      if (c.kind === 'equals') return { kind: c.kind, column, value: compileValue(c.value, column) }
      return { kind: c.kind, column, start: compileValue(c.start, column), end: compileValue(c.end, column) }
    })
    const positional = conds.some((c) => c.kind === 'position')
    const general: Compiled = (row) => {
      const d = data()
      let rows: readonly number[] | undefined // undefined = all rows
      for (const c of conds) {
        let next: number[]
        if (c.kind === 'position') {
          const raw = c.at(row)
          const p = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw
          if (typeof p !== 'number' || !Number.isInteger(p)) throw new InvalidArgumentError(`${where(ref)}: a row key must be an integer, got ${quote(String(raw))}`)
          const i = p < 0 ? d.numRows + p : p
          if (i < 0 || i >= d.numRows) throw new InvalidArgumentError(`${where(ref)}: row ${p} is out of range (table ${quote(d.name)} has ${d.numRows} rows)`)
          next = [i]
        } else if (c.kind === 'equals') {
          const target = c.value(row)
          next = target === MISSING ? [] : [...equalsRows(c.column(), target)]
        } else {
          const values = c.column()
          const lo = c.start(row)
          const hi = c.end(row)
          next = []
          if (lo !== MISSING && hi !== MISSING) {
            for (let i = 0; i < values.length; i++) {
              const x = values[i]
              if (x !== null && x !== undefined && compare(x, lo) >= 0 && compare(x, hi) < 0) next.push(i)
            }
          }
        }
        if (rows === undefined) rows = next
        else {
          const keep = new Set(next)
          rows = rows.filter((i) => keep.has(i))
        }
      }
      const picked = rows ?? Array.from({ length: d.numRows }, (_, i) => i)
      const names = ref.column !== undefined ? [ref.column] : ref.columns ?? d.columnNames
      const cols = names.map((n) => d.column(n))
      const make = (i: number): unknown => {
        if (ref.column !== undefined) return cols[0]![i]
        const o: Record<string, unknown> = {}
        names.forEach((n, k) => Object.defineProperty(o, n, { value: cols[k]![i], enumerable: true, writable: true, configurable: true }))
        return o
      }
      if (positional) return picked.length === 0 ? null : make(picked[0]!)
      if (ref.column !== undefined && rows === undefined) return cols[0]!.slice()
      return picked.map(make)
    }
    const only = conds.length === 1 && conds[0]!.kind === 'position' ? conds[0]!.at : undefined
    if (only !== undefined && ref.column !== undefined) {
      // The common `<<self.col[index]>>`: one value by position, without the general machinery.
      const column = ref.column
      // The table and its column are the same for every row of a run: looked up once.
      let d: TableData | undefined
      let values: readonly unknown[] | undefined
      const fast: Compiled = (row) => {
        d ??= data()
        const raw = only(row)
        const i = typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw < d.numRows ? raw : undefined
        return i === undefined ? general(row) : (values ??= d.column(column))[i]
      }
      return usesIndex(ref) ? fast : once(fast)
    }
    return usesIndex(ref) ? general : once(general)
  }

  const once = (f: Compiled): Compiled => {
    let cached: unknown = MISSING
    return (row) => (cached === MISSING ? (cached = f(row)) : cached)
  }

  const keyword = (s: string): unknown => {
    if ((KEYWORDS.artifactFolder as readonly string[]).includes(s)) return env.artifactFolder
    if ((KEYWORDS.processId as readonly string[]).includes(s)) return env.processId
    return MISSING
  }
  const keywordPattern = new RegExp([...KEYWORDS.artifactFolder, ...KEYWORDS.processId].join('|'), 'g')

  let constant = true
  const compileArg = (v: ArgumentValue): Compiled => {
    if (typeof v === 'string') {
      const kw = keyword(v.trim())
      if (kw !== MISSING) return () => kw
      const found = findReferences(v)
      if (found.length === 0) {
        const text = unescapeArgumentText(v)
        if (!keywordPattern.test(text)) return () => text
        keywordPattern.lastIndex = 0
        return () => text.replace(keywordPattern, (k) => interpolated(keyword(k)))
      }
      if (found.some((f) => usesIndex(f.ref))) constant = false
      const whole = found.length === 1 && v.slice(0, found[0]!.start).trim() === '' && v.slice(found[0]!.end).trim() === ''
      const parts = found.map((f) => compileRef(f.ref))
      if (whole) return parts[0]!
      return (row) => {
        let out = ''
        let at = 0
        found.forEach((f, k) => {
          out += unescapeArgumentText(v.slice(at, f.start)).replace(keywordPattern, (kw) => interpolated(keyword(kw))) + interpolated(parts[k]!(row))
          at = f.end
        })
        return out + unescapeArgumentText(v.slice(at)).replace(keywordPattern, (kw) => interpolated(keyword(kw)))
      }
    }
    if (Array.isArray(v)) {
      const items = v.map((x) => compileArg(x as ArgumentValue))
      return (row) => items.map((f) => f(row))
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.keys(v).map((k) => [k, compileArg((v as Record<string, ArgumentValue>)[k]!)] as const)
      // Plain assignment is the fast path; a "__proto__" key must be defined, or it would set the prototype.
      const hostile = entries.some(([k]) => k === '__proto__')
      return (row) => {
        const o: Record<string, unknown> = {}
        if (hostile) for (const [k, f] of entries) Object.defineProperty(o, k, { value: f(row), enumerable: true, writable: true, configurable: true })
        else for (const [k, f] of entries) o[k] = f(row)
        return o
      }
    }
    return () => v
  }
  const top = compileArg(args as ArgumentValue)
  return { constant, at: (row) => top(row) as Record<string, unknown> }
}

/** A loaded table over Arrow-decoded columns (columns decoded on first use). */
export function tableData(name: string, numRows: number, columnNames: readonly string[], decode: (column: string) => readonly unknown[]): TableData {
  const cache = new Map<string, readonly unknown[]>()
  return {
    name, numRows, columnNames,
    column(c) {
      let v = cache.get(c)
      if (!v) {
        if (!columnNames.includes(c)) throw new NotFoundError(`table ${quote(name)} has no column ${quote(c)} (its columns: ${columnNames.join(', ')})`)
        v = decode(c)
        cache.set(c, v)
      }
      return v
    },
  }
}
