import type { CallContext } from '../../../engine/context.js'
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import type { AppendManyOptions, AppendResult, CreateListOptions, DescribeOptions, DescriptionInfo, DocumentItem, ItemInfo, ListInfo } from '../shared/item-types.js'
import type { ItemsCore } from './items-core.js'
import { EventKind, hasUpserts, insertEvent, lastEvent, nowIso, OVERWROTE, upsertMaxChars, type EventMark } from './items-schema.js'
import { checkIndex, checkListName, checkNameFree, describe, documentText, knownOptions, liveList, listRefName, resolveParents, resolveSession, type ListRow, type ResolvedParent } from './list-rows.js'
import { kindOf, LIST_KINDS, LIST_TYPES, listInfo, type PreparedAppend } from './list-kinds.js'
import { checkName, checkWellFormed } from '../../../codec/checks.js'
import { insertRows } from './sql-rows.js'
import { codePointLength, sliceCodePoints } from './tokenize.js'
import { lastAppendOf } from './vector-index.js'
import { storeBytes, type StagedAppend } from './list-append.js'

/** The options each call takes (any other is refused: see knownOptions). */
const CREATE_OPTIONS = ['type', 'dim', 'fields', 'session']
const APPEND_OPTIONS = ['session', 'parents', 'itemParents', 'description', 'index', 'start']
const DESCRIBE_OPTIONS = ['embedding', 'session']

/** Embedding segments larger than this go to the blob store (keeps the SQLite image small). */
export const VECTOR_BLOB_THRESHOLD = 64 * 1024
const MAX_DESCRIPTION_NAME_CHARS = 256

/** A list's public facts plus its id, for the client to build a handle that carries it. */
function handleInfo(row: ListRow): ListInfo & { id: number } {
  return { ...listInfo(row), id: row.id }
}

function fail(where: string, message: string): never {
  throw new InvalidArgumentError(`${where}: ${message}`)
}

/** What the write of an append hands back for updating the in-memory indexes. */
interface AppendWrite {
  start: number
  end: number
  /** Items already there were replaced (explicit index). */
  overwrote: boolean
  /** The list took an append at an explicit index, now or before (see `item_upserts`). */
  upserted: boolean
  list: number
  event: EventMark
  previous: EventMark
  previousOfList: EventMark
  described: boolean
}

/**
 * The engine side of `vault.lists` and of each list handle: create, describe, delete, append and
 * read items. Every method takes the call's context first; arguments are validated again here
 * because a port may carry anything.
 */
export class ListsEngine {
  /**
   * The highest list id this engine handed out. Ids are `max(id) + 1`, and rows are never deleted,
   * but a creation rolled back with its transaction frees its id: a handle made while it existed
   * must not reach the next list given that id, so an id is never issued twice by one engine.
   */
  private lastListId = 0

  constructor(private readonly core: ItemsCore) {}

  async create(ctx: CallContext, name: string, options: CreateListOptions): Promise<ListInfo> {
    checkListName(name)
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('lists.create needs { type }')
    knownOptions(options, CREATE_OPTIONS, `lists.create("${name}")`)
    const type = options.type
    if (!LIST_TYPES.includes(type)) throw new InvalidArgumentError(`list type must be one of ${LIST_TYPES.join(', ')}, got ${describe(type)}`)
    const { dim, fields } = LIST_KINDS[type].createColumns(options)
    return ctx.write(() => {
      checkNameFree(ctx.db, name)
      const [session] = resolveSession(ctx.db, options.session)
      const id = Math.max(((ctx.db.get('SELECT max(id) FROM item_lists')?.[0] as number | null) ?? 0) + 1, this.lastListId + 1)
      this.lastListId = id
      const createdAt = nowIso()
      ctx.db.run('INSERT INTO item_lists (id, name, type, dim, fields, created_at, session) VALUES (?, ?, ?, ?, ?, ?, ?)', [id, name, type, dim, fields, createdAt, session])
      return handleInfo(liveList(ctx.db, name))
    })
  }

  /** Facts about a list, with its id (the identity a handle carries). */
  async info(ctx: CallContext, ref: string | { name: string; id: number }): Promise<ListInfo & { id: number }> {
    return handleInfo(liveList(ctx.db, ref))
  }

  async has(ctx: CallContext, name: string): Promise<boolean> {
    checkListName(name)
    return ctx.db.get('SELECT 1 FROM item_lists WHERE name = ? AND deleted_at IS NULL', [name]) !== undefined
  }

  async list(ctx: CallContext): Promise<ListInfo[]> {
    const names = ctx.db.all('SELECT name FROM item_lists WHERE deleted_at IS NULL ORDER BY id').map((r) => r[0] as string)
    return names.map((n) => listInfo(liveList(ctx.db, n)))
  }

  async delete(ctx: CallContext, name: string): Promise<boolean> {
    checkListName(name)
    const deleted = await ctx.write(() => {
      const row = ctx.db.get('SELECT id FROM item_lists WHERE name = ? AND deleted_at IS NULL', [name])
      if (!row) return undefined
      const id = row[0] as number
      ctx.db.run('UPDATE item_lists SET deleted_at = ? WHERE id = ?', [nowIso(), id])
      ctx.db.run('DELETE FROM items WHERE list = ?', [id])
      ctx.db.run('DELETE FROM item_vectors WHERE list = ?', [id])
      ctx.db.run('DELETE FROM item_descriptions WHERE list = ?', [id])
      // Lineage edges and append events stay: lineage of other lists still names this one.
      insertEvent(ctx.db, EventKind.DeleteList, { list: id })
      return id
    })
    if (deleted === undefined) return false
    this.core.vectors.drop(deleted)
    return true
  }

  async describe(ctx: CallContext, list: string, name: string, text: string, options: DescribeOptions = {}): Promise<DescriptionInfo> {
    checkName(name, 'a description name', MAX_DESCRIPTION_NAME_CHARS)
    if (typeof text !== 'string') throw new InvalidArgumentError(`a description must be a string, got ${describe(text)}`)
    checkWellFormed(text, 'a description')
    knownOptions(options, DESCRIBE_OPTIONS, `describe "${name}"`)
    const emb = options?.embedding
    if (emb !== undefined && (!(emb instanceof Float32Array) || emb.length === 0 || !emb.every(Number.isFinite))) {
      throw new InvalidArgumentError('a description embedding must be a non-empty Float32Array of finite numbers')
    }
    return ctx.write(() => {
      const row = liveList(ctx.db, list)
      if (ctx.db.get('SELECT 1 FROM item_descriptions WHERE list = ? AND name = ?', [row.id, name])) {
        throw new AlreadyExistsError(`list "${row.name}" already has a description named "${name}"`)
      }
      const [session] = resolveSession(ctx.db, options?.session)
      const id = insertDescription(ctx.db, row.id, name, text, 0, -1, emb ?? null, session)
      return descriptionInfo(ctx.db, row, id)
    })
  }

  async descriptions(ctx: CallContext, list: string): Promise<DescriptionInfo[]> {
    const row = liveList(ctx.db, list)
    return ctx.db
      .all('SELECT id FROM item_descriptions WHERE list = ? ORDER BY id', [row.id])
      .map((r) => descriptionInfo(ctx.db, row, r[0] as number))
  }

  /**
   * Append items; `values` is the list type's batch form (strings, one Float32Array of n × dim,
   * files, records). All or nothing: bytes go to the blob store first, then one write adds items,
   * lineage and description; if anything fails nothing refers to the bytes (collected later).
   *
   * In call order (ItemsCore.turns): an append with nothing to store first writes at once; one
   * with files or a large matrix stores them first, and the calls that arrive meanwhile wait
   * until its write has run. What can change meanwhile (parents, session, the list itself) is
   * checked in the write, in its turn, not at arrival: an earlier call still waiting may change it.
   */
  append(ctx: CallContext, ref: string | { name: string; id: number }, values: unknown, options: AppendManyOptions = {}): Promise<AppendResult> {
    const turns = this.core.turns
    let prepared: StagedAppend | Promise<StagedAppend>
    try {
      prepared = this.stageAppend(ctx, ref, values, knownOptions<AppendManyOptions>(options, APPEND_OPTIONS, `append to "${listRefName(ref)}"`))
    } catch (err) {
      return turns.run(() => Promise.reject(err))
    }
    if (!(prepared instanceof Promise)) {
      const staged = prepared
      return turns.run(() => this._commitAppend(ctx, staged), ctx.writesRun)
    }
    return turns.after(
      prepared,
      async (staged) => {
        try {
          return await this._commitAppend(ctx, staged)
        } finally {
          // Blobs are pinned from put until the write settles, so a checkpoint in between keeps them.
          for (const hash of staged.pinned) ctx.blobs.unpin(hash)
        }
      },
      ctx.writesRun,
    )
  }

  /**
   * Check an append's arguments and prepare its rows: at once (a promise only when bytes must go
   * to the blob store first, or files be read). The list's type and dimension never change, so
   * they are read now; the write checks again that the list is still there.
   */
  private stageAppend(ctx: CallContext, ref: string | { name: string; id: number }, values: unknown, options: AppendManyOptions): StagedAppend | Promise<StagedAppend> {
    const name = listRefName(ref)
    const where = `append to "${name}"`
    const list = liveList(ctx.db, ref)
    const kind = kindOf(list)
    const checked = (prep: PreparedAppend): StagedAppend => {
      if (prep.count === 0) fail(where, 'nothing to append')
      if (options.description !== undefined && typeof options.description !== 'string') fail(where, 'description must be a string')
      if (options.description !== undefined) checkWellFormed(options.description, `${where}: the description`)
      const itemParents = options.itemParents
      if (itemParents !== undefined && (!Array.isArray(itemParents) || itemParents.length !== prep.count)) {
        fail(where, `itemParents must hold one array of parents per item (${prep.count})`)
      }
      checkPlacement(list, options, where)
      if (prep.vectors && prep.vectors.byteLength <= VECTOR_BLOB_THRESHOLD) {
        prep.vectorData = new Uint8Array(prep.vectors.buffer, prep.vectors.byteOffset, prep.vectors.byteLength)
      }
      return { list, kind, name, where, prep, options, pinned: [] }
    }
    const prep = kind.prepare(list, values, where)
    if (prep instanceof Promise) return prep.then((p) => storeBytes(ctx, checked(p)))
    const staged = checked(prep)
    return staged.prep.fileBytes || (staged.prep.vectors && !staged.prep.vectorData) ? storeBytes(ctx, staged) : staged
  }

  /** The write half of {@link append}. The `_` keeps it out of reach of `invoke` (not a public method). */
  private async _commitAppend(ctx: CallContext, staged: StagedAppend): Promise<AppendResult> {
    const { list, kind, name, prep, options, where } = staged
    const itemParents = options.itemParents
    const w = await ctx.write((): AppendWrite => {
      const db = ctx.db
      const row = liveList(db, name)
      if (row.id !== list.id) throw new NotFoundError(`item list "${name}" was deleted during the append`)
      const parents = resolveParents(db, options.parents, where)
      const perItem = itemParents?.map((p, i) => resolveParents(db, p, `${where} (item ${i})`))
      const [session, cell] = resolveSession(db, options.session)
      const explicit = options.index !== undefined
      // + 0: an index of -0 is index 0 (it came back as -0, which Object.is tells from 0).
      const start = (options.index ?? row.length) + 0
      const end = start + prep.count
      const overwrote = explicit && start < row.length && occupied(db, row, start, end)
      const previous = lastEvent(db)
      const previousOfList = lastAppendOf(db, row.id)
      const event = insertEvent(db, EventKind.Append, { list: row.id, start, end, session, cell, ref: overwrote ? OVERWROTE : null })
      if (explicit) markUpserted(db, row.id)
      const upserted = explicit || hasUpserts(db, row.id)
      if (upserted && prep.lengths) {
        const longest = prep.lengths.reduce((a, b) => Math.max(a, b), 0)
        db.run('UPDATE item_upserts SET max_chars = ? WHERE list = ? AND max_chars < ?', [longest, row.id, longest])
      }
      // Lineage recorded for the replaced items alone goes with them; an edge of a larger append
      // keeps only the items of it that stay (the replaced ones derive from the new parents alone).
      if (overwrote) {
        dropEdgesWithin(db, row.id, start, end)
        trimEdgesAcross(db, row.id, start, end)
      }
      const chars = kind.store(db, row, start, event, prep, (options.start ?? row.chars) + 0, explicit)
      // Edges given in characters are inserted first, in the order of their character rows: a
      // reader matches the n-th character row of (child start, event, parent list, parent start) to
      // the n-th edge of that key by rowid (LineageEngine.toEdges), item-range edges of the same key after them.
      const edges: SqlValue[][] = []
      const charsEdges: SqlValue[][] = []
      const charEdges: SqlValue[][] = []
      const spans = new Map<number, number>()
      const edge = (p: ResolvedParent, cs: number, ce: number): void => {
        ;(p.chars ? charsEdges : edges).push([row.id, cs, ce, p.list, p.start, p.end, event.id])
        if (p.chars) charEdges.push([row.id, cs, event.id, p.list, p.start, p.chars[0], p.chars[1]])
        spans.set(p.list, Math.max(spans.get(p.list) ?? 0, p.end - p.start))
      }
      for (const p of parents) edge(p, start, end)
      perItem?.forEach((ps, i) => ps.forEach((p) => edge(p, start + i, start + i + 1)))
      if (edges.length + charsEdges.length > 0) {
        insertRows(db, 'item_lineage', ['child_list', 'child_start', 'child_end', 'parent_list', 'parent_start', 'parent_end', 'event'], [...charsEdges, ...edges])
        if (charEdges.length > 0) insertRows(db, 'item_lineage_chars', ['child_list', 'child_start', 'event', 'parent_list', 'parent_start', 'char_start', 'char_end'], charEdges)
        for (const [parent, span] of spans) {
          db.run('UPDATE item_lists SET max_parent_span = ? WHERE id = ? AND max_parent_span < ?', [span, parent, span])
        }
      }
      db.run('UPDATE item_lists SET length = ?, chars = ? WHERE id = ?', [Math.max(row.length, end), chars, row.id])
      const described = options.description !== undefined
      if (described) insertDescription(db, row.id, null, options.description!, start, end, null, session)
      return { start, end, overwrote, upserted, list: row.id, event, previous, previousOfList, described }
    })

    // Keep the warm indexes current without re-reading what we have in hand. Replaced items must
    // leave the indexes too: the next query rebuilds them from the tables (it sees the event's mark).
    if (kind.textKind !== undefined && prep.texts && !w.described && !w.overwrote) {
      this.core.currentText.applyAppend(w.previous, w.event, kind.textKind, w.list, w.start, prep.texts)
    }
    if (prep.vectors && !w.upserted) this.core.vectors.applyAppend(w.list, w.previousOfList, w.event, prep.vectors, prep.count)
    return { start: w.start, end: w.end }
  }

  async size(ctx: CallContext, name: string): Promise<number> {
    return liveList(ctx.db, name).length
  }

  /** One item's value: a string, a Float32Array, a record, or a file with its bytes. */
  async get(ctx: CallContext, name: string, index: number): Promise<unknown> {
    const row = liveList(ctx.db, name)
    const i = resolveIndex(index, row)
    return kindOf(row).get(ctx, row, i)
  }

  /** Values `[start, end)`; embeddings come back as one Float32Array of (end-start) × dim. */
  async slice(ctx: CallContext, name: string, start: number, end?: number): Promise<unknown[] | Float32Array> {
    const row = liveList(ctx.db, name)
    const [s, e] = sliceBounds(start, end, row.length)
    return kindOf(row).slice(ctx, row, s, e)
  }

  /** Document items overlapping the character range `[start, end)`. */
  async content(ctx: CallContext, name: string, start?: number, end?: number): Promise<DocumentItem[]> {
    const row = liveList(ctx.db, name, 'document')
    const s = start === undefined ? 0 : checkIndex(start, 'content start')
    const e = end === undefined ? Math.max(row.chars, s) : checkIndex(end, 'content end')
    if (e < s) throw new InvalidArgumentError(`content: end (${e}) is before start (${s})`)
    if (e === s) return []
    // Documents follow each other, so the one holding s starts at the last position ≤ s; after
    // explicit-index appends they may overlap, and the longest one bounds how far back to look.
    const lower = hasUpserts(ctx.db, row.id)
      ? Math.max(0, s - upsertMaxChars(ctx.db, row.id))
      : ((ctx.db.get('SELECT max(pos) FROM items WHERE list = ? AND pos <= ?', [row.id, s])?.[0] as number | null) ?? 0)
    const out: DocumentItem[] = []
    ctx.db.each('SELECT idx, pos, body FROM items WHERE list = ? AND pos >= ? AND pos < ? ORDER BY pos, idx', [row.id, lower, e], (r) => {
      const a = r[1] as number
      const text = documentText(r[2]!)
      const b = a + codePointLength(text)
      if ((a < e && b > s) || (a === b && a >= s)) out.push({ index: r[0] as number, start: a, end: b, text })
    })
    return out
  }

  /** The list's text from character `start` to `end`, across item boundaries. */
  async text(ctx: CallContext, name: string, start?: number, end?: number): Promise<string> {
    const items = await this.content(ctx, name, start, end)
    const s = start ?? 0
    const e = end ?? Infinity
    return items.map((it) => (it.start >= s && it.end <= e ? it.text : sliceCodePoints(it.text, Math.max(0, s - it.start), Math.min(it.end, e) - it.start))).join('')
  }

  /** Where an item came from: its append, session and (documents) character range. */
  async item(ctx: CallContext, name: string, index: number): Promise<ItemInfo> {
    const row = liveList(ctx.db, name)
    const i = resolveIndex(index, row)
    // The append that wrote item i last: the last one starting at or before it, unless explicit
    // indexes made appends overlap (then the newest one covering it).
    const ev = hasUpserts(ctx.db, row.id)
      ? ctx.db.get('SELECT start, end, session, cell, created_at FROM item_events WHERE kind = 1 AND list = ? AND start <= ? AND end > ? ORDER BY id DESC LIMIT 1', [row.id, i, i])
      : ctx.db.get('SELECT start, end, session, cell, created_at FROM item_events WHERE kind = 1 AND list = ? AND start <= ? ORDER BY start DESC LIMIT 1', [row.id, i])
    if (!ev) throw new NotFoundError(`item ${i} of "${row.name}" was never written (a gap left by an append at an explicit index)`)
    const info: ItemInfo = { list: row.name, index: i, createdAt: ev[4] as string, append: { start: ev[0] as number, end: ev[1] as number } }
    if (ev[2] !== null) {
      const s = ctx.db.get('SELECT s.name, s.user, c.code FROM item_sessions s JOIN item_cells c ON c.session = s.id WHERE s.id = ? AND c.cell = ?', [ev[2], ev[3]])
      info.session = { id: ev[2] as number, name: (s?.[0] as string) ?? '', user: (s?.[1] as string) ?? '', cell: ev[3] as number, code: (s?.[2] as string) ?? '' }
    }
    const range = kindOf(row).charRange?.(ctx.db, row, i)
    if (range) [info.start, info.end] = range
    return info
  }
}

/** Largest explicit index an append may name (far beyond any list a vault can hold). */
const MAX_EXPLICIT_INDEX = 2 ** 40

/** Check `index` / `start` of an append against the list's kind (before anything is written). */
function checkPlacement(list: ListRow, options: AppendManyOptions, where: string): void {
  const { index, start } = options
  if (index !== undefined && (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > MAX_EXPLICIT_INDEX)) {
    fail(where, `index must be a whole number from 0 to 2^40, got ${describe(index)}`)
  }
  if (list.type === 'document') {
    if ((index === undefined) !== (start === undefined)) fail(where, 'a document append at an explicit place gives both index and start (its character position)')
    if (start !== undefined && (typeof start !== 'number' || !Number.isInteger(start) || start < 0 || start > MAX_EXPLICIT_INDEX)) {
      fail(where, `start must be a whole number from 0 to 2^40, got ${describe(start)}`)
    }
  } else if (start !== undefined) {
    fail(where, `start (a character position) applies only to document lists, not ${list.type} lists`)
  }
}

/** True when an item of `[start, end)` of the list exists (an explicit append would replace it). */
function occupied(db: SqliteDatabase, row: ListRow, start: number, end: number): boolean {
  if (row.type === 'embedding') return db.get('SELECT 1 FROM item_vectors WHERE list = ? AND start < ? AND start + count > ? LIMIT 1', [row.id, end, start]) !== undefined
  return db.get('SELECT 1 FROM items WHERE list = ? AND idx >= ? AND idx < ? LIMIT 1', [row.id, start, end]) !== undefined
}

/**
 * Remove the lineage edges whose child range lies inside `[start, end)` of a list (items being
 * replaced), with their character ranges alone. Character rows belong to edges by position: the
 * n-th row of a key (child start, event, parent list, parent start) to the n-th edge of that key by
 * rowid (LineageEngine.toEdges). Edges of one key may be of different child ranges (the whole
 * append's and its first item's), so a dropped edge takes the row at its own position, and the
 * edges that stay keep theirs.
 */
function dropEdgesWithin(db: SqliteDatabase, list: number, start: number, end: number): void {
  const doomed = db.all('SELECT rowid, child_start, event, parent_list, parent_start FROM item_lineage WHERE child_list = ? AND child_start >= ? AND child_end <= ?', [list, start, end])
  const keys = new Map<string, { key: SqlValue[]; rowids: Set<number> }>()
  for (const [rowid, ...key] of doomed) {
    const id = key.join(':')
    let group = keys.get(id)
    if (!group) keys.set(id, (group = { key, rowids: new Set() }))
    group.rowids.add(rowid as number)
  }
  const keyWhere = 'child_list = ? AND child_start = ? AND event = ? AND parent_list = ? AND parent_start = ?'
  for (const { key, rowids } of keys.values()) {
    const chars = db.all(`SELECT rowid FROM item_lineage_chars WHERE ${keyWhere} ORDER BY rowid`, [list, ...key]).map((r) => r[0] as number)
    if (chars.length === 0) continue
    db.all(`SELECT rowid FROM item_lineage WHERE ${keyWhere} ORDER BY rowid`, [list, ...key]).forEach((r, n) => {
      if (n < chars.length && rowids.has(r[0] as number)) db.run('DELETE FROM item_lineage_chars WHERE rowid = ?', [chars[n]!])
    })
  }
  db.run('DELETE FROM item_lineage WHERE child_list = ? AND child_start >= ? AND child_end <= ?', [list, start, end])
}

const KEY_WHERE = 'child_list = ? AND child_start = ? AND event = ? AND parent_list = ? AND parent_start = ?'

/** An edge of one key (child list, child start, event, parent list, parent start) as stored. */
interface KeyedEdge {
  rowid: number
  childEnd: number
  parentEnd: number
  chars?: [number, number]
}

/** The edges of a key by rowid, each with its character range: the n-th row of the key's characters belongs to its n-th edge. */
function edgesOfKey(db: SqliteDatabase, key: SqlValue[]): KeyedEdge[] {
  const chars = db.all(`SELECT char_start, char_end FROM item_lineage_chars WHERE ${KEY_WHERE} ORDER BY rowid`, key)
  return db.all(`SELECT rowid, child_end, parent_end FROM item_lineage WHERE ${KEY_WHERE} ORDER BY rowid`, key).map((r, n) => {
    const edge: KeyedEdge = { rowid: r[0] as number, childEnd: r[1] as number, parentEnd: r[2] as number }
    const c = chars[n]
    if (c) edge.chars = [c[0] as number, c[1] as number]
    return edge
  })
}

/**
 * Store exactly `edges` under a key: the edges with characters first, in order, then the others, so
 * that the pairing by position (see {@link edgesOfKey}) gives each edge its own characters.
 */
function rewriteKey(db: SqliteDatabase, key: SqlValue[], edges: Omit<KeyedEdge, 'rowid'>[]): void {
  db.run(`DELETE FROM item_lineage_chars WHERE ${KEY_WHERE}`, key)
  db.run(`DELETE FROM item_lineage WHERE ${KEY_WHERE}`, key)
  const [list, childStart, event, parentList, parentStart] = key
  const ordered = [...edges.filter((e) => e.chars), ...edges.filter((e) => !e.chars)]
  if (ordered.length === 0) return
  insertRows(db, 'item_lineage', ['child_list', 'child_start', 'child_end', 'parent_list', 'parent_start', 'parent_end', 'event'], ordered.map((e) => [list!, childStart!, e.childEnd, parentList!, parentStart!, e.parentEnd, event!]))
  const chars = ordered.filter((e) => e.chars).map((e) => [list!, childStart!, event!, parentList!, parentStart!, e.chars![0], e.chars![1]])
  if (chars.length > 0) insertRows(db, 'item_lineage_chars', ['child_list', 'child_start', 'event', 'parent_list', 'parent_start', 'char_start', 'char_end'], chars)
}

/**
 * Cut `[start, end)` (items being replaced) out of the edges of a list that overlap it without lying
 * inside it (the whole-append edges of larger appends, after {@link dropEdgesWithin}): such an edge
 * keeps its part before start, under its own key, and its part from end on, under the key of `end`,
 * with its parent range and characters. Before, the replaced items still reported the parents of
 * the append they replaced.
 *
 * An edge starting before start and covering it is a whole append's, or a part of one left by an
 * earlier replacement (starting where that replacement ended): no append start bounds it, the
 * longest child range of the list does (one read of the list's edges per replacing append).
 */
function trimEdgesAcross(db: SqliteDatabase, list: number, start: number, end: number): void {
  const span = (db.get('SELECT max(child_end - child_start) FROM item_lineage WHERE child_list = ?', [list])?.[0] as number | null) ?? 0
  if (span <= 1) return
  const across = db.all(
    'SELECT rowid, child_start, child_end, event, parent_list, parent_start FROM item_lineage WHERE child_list = ? AND child_start > ? AND child_start < ? AND child_end > ? AND (child_start < ? OR child_end > ?)',
    [list, start - span, end, start, start, end],
  )
  if (across.length === 0) return
  const byKey = new Map<string, { key: SqlValue[]; rowids: Set<number> }>()
  for (const [rowid, childStart, , event, parentList, parentStart] of across) {
    const key = [list, childStart!, event!, parentList!, parentStart!]
    const id = key.join(':')
    let group = byKey.get(id)
    if (!group) byKey.set(id, (group = { key, rowids: new Set() }))
    group.rowids.add(rowid as number)
  }
  const tails = new Map<string, { key: SqlValue[]; edges: Omit<KeyedEdge, 'rowid'>[] }>()
  for (const { key, rowids } of byKey.values()) {
    const kept: Omit<KeyedEdge, 'rowid'>[] = []
    for (const edge of edgesOfKey(db, key)) {
      if (!rowids.has(edge.rowid)) {
        kept.push(edge)
        continue
      }
      if ((key[1] as number) < start) kept.push({ ...edge, childEnd: start })
      if (edge.childEnd > end) {
        const tailKey = [list, end, key[2]!, key[3]!, key[4]!]
        const id = tailKey.join(':')
        let tail = tails.get(id)
        if (!tail) tails.set(id, (tail = { key: tailKey, edges: [] }))
        tail.edges.push({ childEnd: edge.childEnd, parentEnd: edge.parentEnd, ...(edge.chars ? { chars: edge.chars } : {}) })
      }
    }
    rewriteKey(db, key, kept)
  }
  for (const { key, edges } of tails.values()) rewriteKey(db, key, [...edgesOfKey(db, key), ...edges])
}

/** Record that a list took an explicit-index append; the first time, bound its documents' lengths. */
function markUpserted(db: SqliteDatabase, list: number): void {
  // Stored documents are TEXT (length counts code points) or UTF-16 bytes (half the bytes bounds them).
  db.run(
    `INSERT OR IGNORE INTO item_upserts (list, max_chars)
     SELECT ?, coalesce(max(CASE WHEN typeof(body) = 'blob' THEN length(body) / 2 ELSE length(body) END), 0) FROM items WHERE list = ? AND pos IS NOT NULL`,
    [list, list],
  )
}

function resolveIndex(index: unknown, row: ListRow): number {
  if (typeof index !== 'number' || !Number.isInteger(index)) throw new InvalidArgumentError(`an item index must be an integer, got ${describe(index)}`)
  const i = index < 0 ? row.length + index : index
  if (i < 0 || i >= row.length) throw new RangeError(`index ${index} is out of range: "${row.name}" has ${row.length} items`)
  return i
}

function sliceBounds(start: unknown, end: unknown, length: number): [number, number] {
  const norm = (v: unknown, d: number, what: string): number => {
    if (v === undefined) return d
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new InvalidArgumentError(`slice ${what} must be an integer, got ${describe(v)}`)
    return v < 0 ? Math.max(0, length + v) : Math.min(v, length)
  }
  const s = norm(start, 0, 'start')
  const e = norm(end, length, 'end')
  return [s, Math.max(s, e)]
}

function insertDescription(db: SqliteDatabase, list: number, name: string | null, text: string, start: number, end: number, embedding: Float32Array | null, session: number | null): number {
  const id = ((db.get('SELECT max(id) FROM item_descriptions')?.[0] as number | null) ?? 0) + 1
  const bytes = embedding ? new Uint8Array(embedding.buffer.slice(embedding.byteOffset, embedding.byteOffset + embedding.byteLength)) : null
  db.run('INSERT INTO item_descriptions (id, list, name, text, start, end, dim, embedding, session, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', [
    id, list, name, text, start, end, embedding ? embedding.length : null, bytes, session, nowIso(),
  ])
  insertEvent(db, EventKind.Describe, { list, ref: id, session })
  return id
}

function descriptionInfo(db: SqliteDatabase, row: ListRow, id: number): DescriptionInfo {
  const r = db.get('SELECT name, text, start, end, dim, created_at FROM item_descriptions WHERE id = ?', [id])!
  const info: DescriptionInfo = { list: row.name, name: r[0] as string | null, text: r[1] as string, start: r[2] as number, end: (r[3] as number) < 0 ? row.length : (r[3] as number), createdAt: r[5] as string }
  if (r[4] !== null) info.dim = r[4] as number
  return info
}
