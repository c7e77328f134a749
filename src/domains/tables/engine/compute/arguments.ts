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
  /**
   * The same values for reading one at a time (`<<t.col[index]>>`): may be a typed array of a
   * numeric column, where {@link column} is a plain array made from it.
   */
  indexable(name: string): ArrayLike<unknown>
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

/*
 * The parts a row-wise call goes through for every row are instances of the module-level classes
 * below, not closures made per compile: a closure made per builder run starts cold (its feedback
 * is new), while a method shared by every run stays optimised (a 100k-row builder spent ~90 ns
 * per row in freshly made closures, against ~20 ns here).
 */

/** A compiled argument: its value for a row (undefined: the whole table). */
interface Part {
  value(row: number | undefined): unknown
}

class FnPart implements Part {
  constructor(private readonly f: Compiled) {}
  value(row: number | undefined): unknown {
    return this.f(row)
  }
}

class ConstPart implements Part {
  constructor(private readonly v: unknown) {}
  value(): unknown {
    return this.v
  }
}

/** `<<table.col[index]>>`: the row's value, the table and its column looked up once per run. */
class IndexColumnPart implements Part {
  private d: TableData | undefined
  private values: ArrayLike<unknown> | undefined
  constructor(private readonly data: () => TableData, private readonly column: string, private readonly general: Compiled) {}
  value(row: number | undefined): unknown {
    const d = (this.d ??= this.data())
    if (typeof row === 'number' && row >= 0 && row < d.numRows) return (this.values ??= d.indexable(this.column))[row]
    return this.general(row)
  }
}

class ObjectPart implements Part {
  constructor(private readonly keys: readonly string[], private readonly parts: readonly Part[], private readonly hostile: boolean) {}
  value(row: number | undefined): Record<string, unknown> {
    const o: Record<string, unknown> = {}
    const { keys, parts } = this
    // Plain assignment is the fast path; a "__proto__" key must be defined, or it would set the prototype.
    if (this.hostile) for (let i = 0; i < keys.length; i++) Object.defineProperty(o, keys[i]!, { value: parts[i]!.value(row), enumerable: true, writable: true, configurable: true })
    else for (let i = 0; i < keys.length; i++) o[keys[i]!] = parts[i]!.value(row)
    return o
  }
}

class ArrayPart implements Part {
  constructor(private readonly items: readonly Part[]) {}
  value(row: number | undefined): unknown[] {
    return this.items.map((p) => p.value(row))
  }
}

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
    if (v.kind === 'reference') {
      const part = compileRef(v.ref)
      return (row) => part.value(row)
    }
    const text = v.text
    let cached: unknown = MISSING
    return () => (cached === MISSING ? (cached = coerce(text, sampleOf(sampleColumn()))) : cached)
  }

  const compileRef = (ref: TableReference): Part => {
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
    const position = conds.length === 1 && ref.conditions[0]!.kind === 'position' ? ref.conditions[0]!.at : undefined
    if (position?.kind === 'index' && ref.column !== undefined) return new IndexColumnPart(data, ref.column, general)
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
      return new FnPart(usesIndex(ref) ? fast : once(fast))
    }
    return new FnPart(usesIndex(ref) ? general : once(general))
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
  const compileArg = (v: ArgumentValue): Part => {
    if (typeof v === 'string') {
      const kw = keyword(v.trim())
      if (kw !== MISSING) return new ConstPart(kw)
      const found = findReferences(v)
      if (found.length === 0) {
        const text = unescapeArgumentText(v)
        if (!keywordPattern.test(text)) return new ConstPart(text)
        keywordPattern.lastIndex = 0
        return new FnPart(() => text.replace(keywordPattern, (k) => interpolated(keyword(k))))
      }
      if (found.some((f) => usesIndex(f.ref))) constant = false
      const whole = found.length === 1 && v.slice(0, found[0]!.start).trim() === '' && v.slice(found[0]!.end).trim() === ''
      const parts = found.map((f) => compileRef(f.ref))
      if (whole) return parts[0]!
      return new FnPart((row) => {
        let out = ''
        let at = 0
        found.forEach((f, k) => {
          out += unescapeArgumentText(v.slice(at, f.start)).replace(keywordPattern, (kw) => interpolated(keyword(kw))) + interpolated(parts[k]!.value(row))
          at = f.end
        })
        return out + unescapeArgumentText(v.slice(at)).replace(keywordPattern, (kw) => interpolated(keyword(kw)))
      })
    }
    if (Array.isArray(v)) return new ArrayPart(v.map((x) => compileArg(x as ArgumentValue)))
    if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v)
      return new ObjectPart(keys, keys.map((k) => compileArg((v as Record<string, ArgumentValue>)[k]!)), keys.includes('__proto__'))
    }
    return new ConstPart(v)
  }
  return new Resolver(compileArg(args as ArgumentValue), constant)
}

class Resolver implements ArgumentResolver {
  constructor(private readonly top: Part, readonly constant: boolean) {}
  at(row?: number): Record<string, unknown> {
    return this.top.value(row) as Record<string, unknown>
  }
}

/**
 * A loaded table over Arrow-decoded columns (columns decoded on first use). `indexed`, when given,
 * serves {@link TableData.indexable} (by default the decoded column).
 */
export function tableData(
  name: string, numRows: number, columnNames: readonly string[], decode: (column: string) => readonly unknown[], indexed?: (column: string) => ArrayLike<unknown>,
): TableData {
  const cache = new Map<string, readonly unknown[]>()
  const known = (c: string): void => {
    if (!columnNames.includes(c)) throw new NotFoundError(`table ${quote(name)} has no column ${quote(c)} (its columns: ${columnNames.join(', ')})`)
  }
  const column = (c: string): readonly unknown[] => {
    let v = cache.get(c)
    if (!v) {
      known(c)
      v = decode(c)
      cache.set(c, v)
    }
    return v
  }
  return {
    name, numRows, columnNames, column,
    indexable(c) {
      if (!indexed) return column(c)
      known(c)
      return indexed(c)
    },
  }
}
