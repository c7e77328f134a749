import { MessageReader, type DataType } from 'apache-arrow'
import { keepingByteOrderMarks } from '../../../codec/keep-bom.js'
import { ident } from './arrow-rows.js'

/**
 * ENUM columns of a result, read as VARCHAR. duckdb-wasm sends an ENUM as an Arrow dictionary
 * column, and its pending queries (which labvault runs, to be able to stop them) send the rows'
 * indexes without the dictionary they index: every value read as null (duckdb-wasm issue #1548:
 * `send` loses it, `query` keeps it). A result whose schema holds a dictionary is run again, its
 * ENUM columns cast to VARCHAR, which is what the docs told users to write themselves. Other
 * results pay the look at their schema (~20 µs for 20 columns).
 */

/** Arrow's type id for a dictionary column. */
const DICTIONARY = -1

function holdsDictionary(type: DataType): boolean {
  return (type.typeId as number) === DICTIONARY || (type.children ?? []).some((f) => holdsDictionary(f.type as DataType))
}

/** The result's column names, and per column whether it is an ENUM ('top') or holds one inside ('nested'); undefined when none does. */
export function enumColumns(header: Uint8Array): { names: string[]; kinds: ('top' | 'nested' | undefined)[] } | undefined {
  // The names are written back as the columns' aliases: a leading U+FEFF must stay (keep-bom.ts).
  const schema = keepingByteOrderMarks(() => new MessageReader(header).readSchema())
  if (!schema) return undefined
  const kinds = schema.fields.map((f) => ((f.type.typeId as number) === DICTIONARY ? 'top' : holdsDictionary(f.type) ? ('nested' as const) : undefined))
  if (kinds.every((k) => k === undefined)) return undefined
  return { names: schema.fields.map((f) => f.name), kinds }
}

/**
 * A query giving DuckDB's type, as text, of the columns at `positions` (0-based) of `text`'s result:
 * one row, columns `t0`, `t1`, … The query itself gives no rows (LIMIT 0); the outer join keeps
 * one, whose `typeof` is the column's type.
 */
export function typesQuery(text: string, positions: number[]): string {
  const inner = positions.map((p, i) => `#${p + 1} AS c${i}`).join(', ')
  const outer = positions.map((_, i) => `typeof(x.c${i}) AS t${i}`).join(', ')
  return `SELECT ${outer} FROM (SELECT 1) AS one LEFT JOIN (SELECT ${inner} FROM (\n${text}\n) LIMIT 0) AS x ON true`
}

/**
 * A DuckDB type's text with every `ENUM('a', 'b', …)` in it written `VARCHAR`, e.g.
 * `STRUCT(a ENUM('x', 'y'))[]` → `STRUCT(a VARCHAR)[]`. Quoted names ("…") and the enum's quoted
 * members ('…', `''` for a quote) are skipped as wholes, so a `(` or `ENUM(` inside one is text.
 */
export function withoutEnums(type: string): string {
  let out = ''
  let i = 0
  while (i < type.length) {
    const c = type[i]!
    if (c === '"') {
      const end = quotedEnd(type, i, '"')
      out += type.slice(i, end)
      i = end
    } else if (/^ENUM\s*\(/i.test(type.slice(i, i + 8)) && (i === 0 || !/[A-Za-z0-9_]/.test(type[i - 1]!))) {
      // Members up to the closing parenthesis.
      let j = type.indexOf('(', i) + 1
      while (j < type.length && type[j] !== ')') j = type[j] === "'" ? quotedEnd(type, j, "'") : j + 1
      out += 'VARCHAR'
      i = j + 1
    } else {
      out += c
      i++
    }
  }
  return out
}

/** Where the quoted text starting at `start` ends (after its closing quote; a doubled quote is a quote). */
function quotedEnd(text: string, start: number, quote: string): number {
  let j = start + 1
  for (;;) {
    const k = text.indexOf(quote, j)
    if (k < 0) return text.length
    if (text[k + 1] === quote) j = k + 2
    else return k + 1
  }
}

/** `text` again, each column by position under its name, those with a type in `casts` cast to it. */
export function castQuery(text: string, names: string[], casts: (string | undefined)[]): string {
  const columns = names.map((name, i) => (casts[i] ? `CAST(#${i + 1} AS ${casts[i]}) AS ${ident(name)}` : `#${i + 1} AS ${ident(name)}`))
  return `SELECT ${columns.join(', ')} FROM (\n${text}\n)`
}
