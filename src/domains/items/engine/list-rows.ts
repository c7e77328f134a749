import { vaultIdOf } from '../../../engine/vault-identity.js'
import { AlreadyExistsError, ConflictError, InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import { checkWellFormed, isWellFormed } from '../../../codec/checks.js'
import { utf16Bytes, utf16Units } from '../../../codec/utf16.js'
import type { ListType, ParentRange, SessionRef } from '../shared/item-types.js'
import { hasUpserts, upsertMaxChars } from './items-schema.js'
import { codePointLength } from './tokenize.js'

/** A row of `item_lists` as the engine uses it. */
export interface ListRow {
  id: number
  name: string
  type: ListType
  dim: number | null
  fields: string[] | null
  createdAt: string
  length: number
  chars: number
  maxParentSpan: number
  deleted: boolean
}

const LIST_COLUMNS = 'id, name, type, dim, fields, created_at, length, chars, max_parent_span, deleted_at'
const SQL = {
  byName: `SELECT ${LIST_COLUMNS} FROM item_lists WHERE name = ?`,
  byId: `SELECT ${LIST_COLUMNS} FROM item_lists WHERE id = ?`,
}

function toRow(r: unknown[]): ListRow {
  return {
    id: r[0] as number,
    name: r[1] as string,
    type: r[2] as ListType,
    dim: r[3] as number | null,
    fields: r[4] === null ? null : (JSON.parse(r[4] as string) as string[]),
    createdAt: r[5] as string,
    length: r[6] as number,
    chars: r[7] as number,
    maxParentSpan: r[8] as number,
    deleted: r[9] !== null,
  }
}

/** A list by name, deleted or not; undefined when the name was never used. */
export function findList(db: SqliteDatabase, name: string): ListRow | undefined {
  const r = db.get(SQL.byName, [name])
  return r ? toRow(r) : undefined
}

/** A list by id. */
export function listById(db: SqliteDatabase, id: number): ListRow | undefined {
  const r = db.get(SQL.byId, [id])
  return r ? toRow(r) : undefined
}

/**
 * The name in a list reference: a plain name, or a handle's `{ name, id }` (the id of the list the
 * handle was made for; see {@link liveList}).
 */
export function listRefName(ref: unknown): string {
  if (typeof ref === 'object' && ref !== null && !Array.isArray(ref)) {
    const { name, id } = ref as { name?: unknown; id?: unknown }
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new InvalidArgumentError(`a list reference needs a numeric id, got ${describe(id)}`)
    checkListName(name)
    return name
  }
  checkListName(ref)
  return ref
}

/**
 * A live list by name or reference: NotFoundError when missing or deleted, and when a handle's
 * reference names a list that is not the one now of that name; optionally of one type.
 */
export function liveList(db: SqliteDatabase, ref: unknown, type?: ListType): ListRow {
  const name = listRefName(ref)
  const row = findList(db, name)
  if (!row || row.deleted) throw new NotFoundError(`item list "${name}" does not exist${row?.deleted ? ' (it was deleted)' : ''}`)
  if (typeof ref === 'object' && row.id !== (ref as { id: number }).id) {
    throw new NotFoundError(`item list "${name}" was deleted: this handle belongs to a list that no longer exists, not to the list now of that name`)
  }
  if (type && row.type !== type) throw new InvalidArgumentError(`item list "${name}" is a ${row.type} list, not a ${type} list`)
  return row
}

/** Every list's name by id (deleted ones too), for turning ids in results into names. */
export function listNames(db: SqliteDatabase): Map<number, string> {
  const out = new Map<number, string>()
  db.each('SELECT id, name FROM item_lists', [], (r) => out.set(r[0] as number, r[1] as string))
  return out
}

/** List names: non-empty, ≤ 128 characters, no control characters, well-formed (no lone surrogate). */
export function checkListName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 128) {
    throw new InvalidArgumentError(`a list name must be a non-empty string of at most 128 characters, got ${describe(name)}`)
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new InvalidArgumentError(`list name ${JSON.stringify(name)} contains a control character`)
  checkWellFormed(name, 'a list name')
}

/**
 * A document's text as stored in `items.body`: SQLite text when it is well-formed, else its UTF-16
 * code units as a BLOB (UTF-8 text cannot hold a lone surrogate; docs/format.md, "Item lists").
 */
export function storedDocument(text: string): SqlValue {
  return isWellFormed(text) ? text : utf16Bytes(text)
}

/** The text of a stored document (see {@link storedDocument}). */
export function documentText(body: SqlValue): string {
  return typeof body === 'string' ? body : utf16Units(body as Uint8Array)
}

/** Throw AlreadyExistsError when a list of that name exists or existed. */
export function checkNameFree(db: SqliteDatabase, name: string): void {
  const row = findList(db, name)
  if (row) {
    throw new AlreadyExistsError(
      row.deleted ? `item list name "${name}" stays reserved: a list of that name was deleted` : `item list "${name}" already exists`,
    )
  }
}

/** A short description of a bad argument for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object'
  return `${typeof v} ${String(v)}`
}

/**
 * A call's options, checked: undefined or null (none), or an object naming only options the call
 * takes. A misspelt option (`indx: 3`, `dims`) was ignored: the append went to the end instead of
 * replacing item 3, the list was made without what was meant.
 */
export function knownOptions<T extends object>(options: unknown, names: readonly string[], where: string): Partial<T> {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object' || Array.isArray(options)) throw new InvalidArgumentError(`${where}: options must be an object, got ${describe(options)}`)
  for (const k of Object.keys(options)) if (!names.includes(k)) throw new InvalidArgumentError(`${where}: unknown option "${k}" (known: ${names.join(', ')})`)
  return options as Partial<T>
}

/** A non-negative safe integer or InvalidArgumentError. */
export function checkIndex(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`${what} must be a non-negative integer, got ${describe(v)}`)
  return v
}

/** Resolve an optional `{ start, end }` against a length: defaults to the whole list, clamps nothing. */
export function checkRange(range: { start?: number; end?: number } | undefined, length: number, what: string): [number, number] {
  const start = range?.start === undefined ? 0 : checkIndex(range.start, `${what} start`)
  const end = range?.end === undefined ? Math.max(length, start) : checkIndex(range.end, `${what} end`)
  if (end < start) throw new InvalidArgumentError(`${what}: end (${end}) is before start (${start})`)
  return [start, end]
}

/** A parent range, validated against the parent list as it is now (inside the write). */
export interface ResolvedParent {
  list: number
  start: number
  end: number
  /** The character range given (`unit: 'chars'`), which `[start, end)` covers. */
  chars?: [number, number]
}

/**
 * The documents of `row` overlapping characters `[s, e)`, as runs of consecutive indexes
 * `[first, last + 1)` in index order; empty when none does (a gap, or only empty documents there).
 * Appended at the end, documents follow each other and form one run; explicit indexes may put
 * them anywhere, and a document between two overlapping ones by index need not overlap (or exist).
 */
export function documentsOverlapping(db: SqliteDatabase, row: ListRow, s: number, e: number): [number, number][] {
  const lower = hasUpserts(db, row.id) ? Math.max(0, s - upsertMaxChars(db, row.id)) : ((db.get('SELECT max(pos) FROM items WHERE list = ? AND pos <= ?', [row.id, s])?.[0] as number | null) ?? 0)
  const hits: number[] = []
  db.each('SELECT idx, pos, body FROM items WHERE list = ? AND pos >= ? AND pos < ?', [row.id, lower, e], (r) => {
    const a = r[1] as number
    const b = a + codePointLength(documentText(r[2]!))
    if (a < e && b > s) hits.push(r[0] as number)
  })
  hits.sort((x, y) => x - y)
  const runs: [number, number][] = []
  for (const i of hits) {
    const last = runs[runs.length - 1]
    if (last && last[1] === i) last[1] = i + 1
    else runs.push([i, i + 1])
  }
  return runs
}

/**
 * The item ranges a query range names: itself (items), or the runs of documents overlapping it
 * (`unit: 'chars'`, document lists; none when no document holds those characters).
 */
export function itemRangesOf(db: SqliteDatabase, row: ListRow, range: { start?: number; end?: number; unit?: unknown } | undefined, what: string): [number, number][] {
  const unit = range?.unit
  if (unit === undefined || unit === 'items') {
    const [s, e] = checkRange(range, row.length, what)
    return [e === s ? [s, s + 1] : [s, e]]
  }
  if (unit !== 'chars') throw new InvalidArgumentError(`${what}: unit must be 'items' or 'chars', got ${describe(unit)}`)
  if (row.type !== 'document') throw new InvalidArgumentError(`${what}: unit 'chars' applies to document lists; "${row.name}" is a ${row.type} list`)
  const [s, e] = checkRange(range, row.chars, `${what} (characters)`)
  return documentsOverlapping(db, row, s, e === s ? s + 1 : e)
}

/** Validate parent ranges: each names a live list and items that exist. */
export function resolveParents(db: SqliteDatabase, parents: unknown, where: string): ResolvedParent[] {
  if (parents === undefined || parents === null) return []
  if (!Array.isArray(parents)) throw new InvalidArgumentError(`${where}: parents must be an array of { list, start, end }`)
  const out: ResolvedParent[] = []
  for (const p of parents as ParentRange[]) {
    if (!p || typeof p !== 'object') throw new InvalidArgumentError(`${where}: a parent must be { list, start, end }, got ${describe(p)}`)
    // A name, checked before it reaches SQL (an object there is a binding failure, not an error).
    if (typeof p.list !== 'string') throw new InvalidArgumentError(`${where}: a parent's list must be a list name, got ${describe(p.list)}`)
    checkListName(p.list)
    const row = findList(db, p.list)
    if (!row || row.deleted) throw new NotFoundError(`${where}: parent list "${String(p.list)}" does not exist`)
    const unit = p.unit ?? 'items'
    if (unit !== 'items' && unit !== 'chars') throw new InvalidArgumentError(`${where}: a parent's unit must be 'items' or 'chars', got ${describe(unit)}`)
    if (unit === 'chars' && row.type !== 'document') throw new InvalidArgumentError(`${where}: unit 'chars' applies to document lists; parent "${row.name}" is a ${row.type} list`)
    const start = checkIndex(p.start, `${where}: parent start`)
    const end = p.end === undefined ? start + 1 : checkIndex(p.end, `${where}: parent end`)
    const [size, what] = unit === 'chars' ? [row.chars, 'characters'] : [row.length, 'items']
    if (end <= start) throw new InvalidArgumentError(`${where}: parent range [${start}, ${end}) of "${row.name}" is empty`)
    if (end > size) throw new InvalidArgumentError(`${where}: parent range [${start}, ${end}) of "${row.name}" is past its end (${size} ${what})`)
    if (unit === 'chars') {
      // One edge per run of documents overlapping the characters (never one across others).
      const runs = documentsOverlapping(db, row, start, end)
      if (runs.length === 0) throw new InvalidArgumentError(`${where}: no document of "${row.name}" holds characters [${start}, ${end})`)
      for (const [a, b] of runs) out.push({ list: row.id, start: a, end: b, chars: [start, end] })
    } else {
      const missing = hasUpserts(db, row.id) ? firstGap(db, row, start, end) : undefined
      if (missing !== undefined) throw new NotFoundError(`${where}: item ${missing} of "${row.name}" in parent range [${start}, ${end}) was never written (a gap left by an append at an explicit index)`)
      out.push({ list: row.id, start, end })
    }
  }
  return out
}

/**
 * The first index of `[s, e)` holding no item (a gap left by an explicit index), or undefined.
 * Reads the rows present in the range only, so a range across a far gap costs what it holds.
 */
function firstGap(db: SqliteDatabase, row: ListRow, s: number, e: number): number | undefined {
  let next = s
  if (row.type === 'embedding') {
    // Segments (one per append) may overlap after replacements: walk them by start.
    const segments = db.all('SELECT start, start + count FROM item_vectors WHERE list = ? AND start < ? AND start + count > ? ORDER BY start', [row.id, e, s])
    for (const [a, b] of segments as [number, number][]) {
      if (a > next) return next
      next = Math.max(next, b)
      if (next >= e) return undefined
    }
    return next < e ? next : undefined
  }
  let gap: number | undefined
  db.each('SELECT idx FROM items WHERE list = ? AND idx >= ? AND idx < ? ORDER BY idx', [row.id, s, e], (r) => {
    if (gap === undefined && (r[0] as number) > next) gap = next
    next = (r[0] as number) + 1
  })
  return gap ?? (next < e ? next : undefined)
}

/**
 * Refuse a session reference naming another vault (its `vault` is not this vault's id): another
 * vault's session 3 is not this vault's session 3, even though that id exists here. NotFoundError,
 * as for an id this vault never issued: in this vault there is no such session, and a foreign
 * reference gets the same error whether or not its id happens to be taken here. A reference without
 * `vault` (saved before vaults had ids) is taken as this vault's, as before.
 */
export function checkSessionVault(db: SqliteDatabase, session: SessionRef): void {
  const vault = session.vault
  if (vault === undefined) return
  if (typeof vault !== 'string') throw new InvalidArgumentError(`a session's vault must be a vault id (a string), got ${describe(vault)}`)
  const mine = vaultIdOf(db)
  if (vault !== mine) throw new NotFoundError(`session ${String(session.id)} belongs to another vault (${vault}), not this one (${mine ?? 'no id yet'}): a session names the items of the vault that started it`)
}

/** Check a session reference names a session that exists; returns [id, cell] or nulls. */
export function resolveSession(db: SqliteDatabase, session: SessionRef | undefined | null): [number | null, number | null] {
  if (session === undefined || session === null) return [null, null]
  const id = (session as SessionRef).id
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new InvalidArgumentError('session must be a Session from vault.session()')
  checkSessionVault(db, session as SessionRef)
  if (!db.get('SELECT 1 FROM item_sessions WHERE id = ?', [id])) throw new NotFoundError(`session ${id} does not exist`)
  const status = db.get('SELECT status FROM item_session_states WHERE session = ?', [id])?.[0] as string | undefined
  // A finished session made what it made: nothing more is recorded as its work.
  if (status !== undefined && status !== 'running') throw new ConflictError(`session ${id} is ${status}: start a new session to write more`)
  const cell = session.currentCell ?? 0
  if (typeof cell !== 'number' || !Number.isSafeInteger(cell) || cell < 0) throw new InvalidArgumentError(`a session's current cell must be a non-negative integer, got ${describe(cell)}`)
  if (!db.get('SELECT 1 FROM item_cells WHERE session = ? AND cell = ?', [id, cell])) throw new NotFoundError(`session ${id} has no cell ${cell}`)
  return [id, cell]
}
