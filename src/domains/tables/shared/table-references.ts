import { InvalidArgumentError } from '../../../errors/errors.js'
import { quote } from '../../../codec/checks.js'

/**
 * Table references, the expression language of builder arguments (TableVault's TableReference):
 *
 *     <<table(instance).{c1,c2}[col::value, col::start:end, key]>>
 *
 * - `table` is a table's name, or `self` (the instance being built; arguments only);
 * - `(instance)` picks an instance id (default: the latest materialised instance);
 * - `.col` selects one column (the result is its values), `.{c1,c2}` several (the result is row
 *   objects); no selection means every column (row objects);
 * - `[...]` filters rows, all conditions together: `col::value` keeps rows whose `col` equals value,
 *   `col::start:end` rows with start ≤ col < end, and a bare `key` picks one row by position
 *   (negative counts from the end): the result is then that one value or row object;
 * - a value or key is a literal, the word `index` (the current row of a row-wise builder), or a
 *   nested reference `<<...>>`.
 *
 * Names and literals may hold any character: `\` escapes the next one, and `printReference` escapes
 * every character the grammar uses (`<>(){}[].,:\` and white space), so `parseReference(printReference(r))`
 * equals `r` for every reference. Unescaped white space around tokens is ignored. An unescaped `index`
 * is the keyword and an unescaped `self` the current table; escape them (`\index`) to mean the words.
 */

/** A value in a condition. */
export type ReferenceValue =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'index' }
  | { readonly kind: 'reference'; readonly ref: TableReference }

/** One row filter. */
export type ReferenceCondition =
  | { readonly kind: 'position'; readonly at: ReferenceValue }
  | { readonly kind: 'equals'; readonly column: string; readonly value: ReferenceValue }
  | { readonly kind: 'range'; readonly column: string; readonly start: ReferenceValue; readonly end: ReferenceValue }

/** A parsed table reference. */
export interface TableReference {
  /** The table's name; `self` with `self: true` for the instance being built. */
  readonly table: string
  readonly self: boolean
  readonly instance?: string
  /** `.col`: one column, its values. */
  readonly column?: string
  /** `.{c1,c2}`: these columns, as row objects. */
  readonly columns?: readonly string[]
  readonly conditions: readonly ReferenceCondition[]
}

const SPECIAL = new Set(['<', '>', '(', ')', '{', '}', '[', ']', '.', ',', ':', '\\'])
const isSpace = (c: string): boolean => /\s/u.test(c)

/** Escape a name or literal so the parser reads it back exactly. */
export function escapeReferenceText(s: string): string {
  let out = ''
  for (const c of s) out += SPECIAL.has(c) || isSpace(c) ? `\\${c}` : c
  return out
}

function printValue(v: ReferenceValue): string {
  if (v.kind === 'index') return 'index'
  if (v.kind === 'reference') return printReference(v.ref)
  return v.text === 'index' ? '\\index' : escapeReferenceText(v.text)
}

/** The text of a reference (`<<...>>`); parses back to an equal reference. */
export function printReference(ref: TableReference): string {
  let s = '<<' + (ref.self ? 'self' : ref.table === 'self' ? '\\self' : escapeReferenceText(ref.table))
  if (ref.instance !== undefined) s += `(${escapeReferenceText(ref.instance)})`
  if (ref.column !== undefined) s += `.${escapeReferenceText(ref.column)}`
  else if (ref.columns !== undefined) s += `.{${ref.columns.map(escapeReferenceText).join(',')}}`
  if (ref.conditions.length > 0) {
    const parts = ref.conditions.map((c) =>
      c.kind === 'position' ? printValue(c.at)
      : c.kind === 'equals' ? `${escapeReferenceText(c.column)}::${printValue(c.value)}`
      : `${escapeReferenceText(c.column)}::${printValue(c.start)}:${printValue(c.end)}`)
    s += `[${parts.join(',')}]`
  }
  return s + '>>'
}

class Parser {
  pos = 0
  constructor(readonly src: string) {}

  fail(msg: string): never {
    throw new InvalidArgumentError(`table reference ${quote(this.src, 200)}: ${msg} at character ${this.pos}`)
  }
  skipSpace(): void {
    while (this.pos < this.src.length && isSpace(this.src[this.pos]!)) this.pos++
  }
  peek(s: string): boolean {
    return this.src.startsWith(s, this.pos)
  }
  expect(s: string): void {
    this.skipSpace()
    if (!this.peek(s)) this.fail(`expected "${s}"`)
    this.pos += s.length
  }
  /** Text up to an unescaped special character; trailing unescaped space dropped. */
  text(what: string): { text: string; escaped: boolean } {
    this.skipSpace()
    let out = ''
    let escaped = false
    let keep = 0 // length of `out` up to its last escaped or non-space character
    while (this.pos < this.src.length) {
      const c = String.fromCodePoint(this.src.codePointAt(this.pos)!)
      if (c === '\\') {
        if (this.pos + 1 >= this.src.length) this.fail('a "\\" must be followed by a character')
        const next = String.fromCodePoint(this.src.codePointAt(this.pos + 1)!)
        out += next
        keep = out.length
        escaped = true
        this.pos += 1 + next.length
        continue
      }
      if (SPECIAL.has(c)) break
      out += c
      if (!isSpace(c)) keep = out.length
      this.pos += c.length
    }
    out = out.slice(0, keep)
    if (out.length === 0 && !escaped) this.fail(`expected ${what}`)
    return { text: out, escaped }
  }
  reference(): TableReference {
    this.expect('<<')
    const t = this.text('a table name')
    const self = !t.escaped && t.text === 'self'
    let instance: string | undefined
    let column: string | undefined
    let columns: string[] | undefined
    const conditions: ReferenceCondition[] = []
    this.skipSpace()
    if (this.peek('(')) {
      this.pos++
      instance = this.text('an instance id').text
      this.expect(')')
      this.skipSpace()
    }
    if (this.peek('.')) {
      this.pos++
      this.skipSpace()
      if (this.peek('{')) {
        this.pos++
        columns = [this.text('a column name').text]
        for (this.skipSpace(); this.peek(','); this.skipSpace()) {
          this.pos++
          columns.push(this.text('a column name').text)
        }
        this.expect('}')
      } else column = this.text('a column name').text
      this.skipSpace()
    }
    if (this.peek('[')) {
      this.pos++
      conditions.push(this.condition())
      for (this.skipSpace(); this.peek(','); this.skipSpace()) {
        this.pos++
        conditions.push(this.condition())
      }
      this.expect(']')
    }
    this.expect('>>')
    const ref: { -readonly [K in keyof TableReference]: TableReference[K] } = { table: t.text, self, conditions }
    if (instance !== undefined) ref.instance = instance
    if (column !== undefined) ref.column = column
    if (columns !== undefined) ref.columns = columns
    return ref
  }
  value(what: string): ReferenceValue {
    this.skipSpace()
    if (this.peek('<<')) return { kind: 'reference', ref: this.reference() }
    const t = this.text(what)
    if (!t.escaped && t.text === 'index') return { kind: 'index' }
    return { kind: 'literal', text: t.text }
  }
  condition(): ReferenceCondition {
    this.skipSpace()
    if (this.peek('<<')) return { kind: 'position', at: this.value('a row key') }
    const t = this.text('a condition')
    this.skipSpace()
    if (!this.peek('::')) {
      if (!t.escaped && t.text === 'index') return { kind: 'position', at: { kind: 'index' } }
      return { kind: 'position', at: { kind: 'literal', text: t.text } }
    }
    this.pos += 2
    const value = this.value('a value')
    this.skipSpace()
    if (this.peek(':') && !this.peek('::')) {
      this.pos++
      return { kind: 'range', column: t.text, start: value, end: this.value('the end of a range') }
    }
    return { kind: 'equals', column: t.text, value }
  }
}

/** Parse one reference (the whole text, `<<...>>`); InvalidArgumentError saying where it went wrong. */
export function parseReference(text: string): TableReference {
  const p = new Parser(text)
  const ref = p.reference()
  p.skipSpace()
  if (p.pos !== text.length) p.fail('unexpected text after the reference')
  return ref
}

/** A reference found inside a longer string. */
export interface FoundReference {
  readonly start: number
  readonly end: number
  readonly ref: TableReference
}

/**
 * Every top-level reference in a string (an argument), in order; nested ones stay inside theirs.
 * `\<<` is a literal `<<`, not a reference (`unescapeArgumentText` drops the backslash); any other
 * `<<` must start a valid reference.
 */
export function findReferences(text: string): FoundReference[] {
  const found: FoundReference[] = []
  let from = 0
  for (;;) {
    const start = text.indexOf('<<', from)
    if (start < 0) return found
    if (start > 0 && text[start - 1] === '\\') {
      from = start + 2
      continue
    }
    const p = new Parser(text)
    p.pos = start
    const ref = p.reference()
    found.push({ start, end: p.pos, ref })
    from = p.pos
  }
}

/** Argument text outside references as the function sees it: `\<<` becomes `<<`. */
export function unescapeArgumentText(text: string): string {
  return text.includes('\\<<') ? text.replaceAll('\\<<', '<<') : text
}

/** Every reference inside `ref` (itself first, then the nested ones of its conditions). */
export function allReferences(ref: TableReference): TableReference[] {
  const out = [ref]
  const visit = (v: ReferenceValue): void => {
    if (v.kind === 'reference') out.push(...allReferences(v.ref))
  }
  for (const c of ref.conditions) {
    if (c.kind === 'position') visit(c.at)
    else if (c.kind === 'equals') visit(c.value)
    else {
      visit(c.start)
      visit(c.end)
    }
  }
  return out
}

/** True when the reference (or a nested one) uses `index`: it must be resolved once per row. */
export function usesIndex(ref: TableReference): boolean {
  const inValue = (v: ReferenceValue): boolean => v.kind === 'index' || (v.kind === 'reference' && usesIndex(v.ref))
  return ref.conditions.some((c) =>
    c.kind === 'position' ? inValue(c.at) : c.kind === 'equals' ? inValue(c.value) : inValue(c.start) || inValue(c.end))
}

/** The keywords of argument strings: TableVault's spellings are aliases. */
export const KEYWORDS = {
  artifactFolder: ['~artifactFolder~', '~ARTIFACT_FOLDER~'],
  processId: ['~processId~', '~PROCESS_ID~'],
} as const
