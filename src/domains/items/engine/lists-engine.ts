import { decodeValue, encodeValue, prepareValue } from '../../../codec/value-codec.js'
import type { CallContext } from '../../../engine/context.js'
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import type {
  AppendManyOptions,
  AppendResult,
  CreateListOptions,
  DescribeOptions,
  DescriptionInfo,
  DocumentItem,
  FileItem,
  ItemInfo,
  ListInfo,
  ListType,
} from '../shared/item-types.js'
import type { ItemsCore } from './items-core.js'
import { EventKind, insertEvent, lastEvent, nowIso, type EventMark } from './items-schema.js'
import {
  checkIndex,
  checkListName,
  checkNameFree,
  describe,
  documentText,
  liveList,
  listInfo,
  listRefName,
  resolveParents,
  resolveSession,
  storedDocument,
  type ListRow,
  type ResolvedParent,
} from './list-rows.js'
import { checkName, checkViewUsable, checkWellFormed } from '../../../codec/checks.js'
import { insertRows } from './sql-rows.js'
import { DocKind } from './text-index.js'
import { codePointLength, recordText, sliceCodePoints } from './tokenize.js'
import { asFloat32, lastAppendOf } from './vector-index.js'

/** Embedding segments larger than this go to the blob store (keeps the SQLite image small). */
export const VECTOR_BLOB_THRESHOLD = 64 * 1024
const MAX_DIM = 65536
const MAX_FIELD_NAME_CHARS = 256
const MAX_DESCRIPTION_NAME_CHARS = 256
const LIST_TYPES: ListType[] = ['document', 'embedding', 'file', 'record']

/** A file as the engine receives it (after structured clone). */
type FileArg = Blob | { bytes: Uint8Array; name?: string; type?: string }

/** An append, validated and encoded, before anything is written. */
interface PreparedAppend {
  count: number
  /** Rows for `items` without list and idx: [pos placeholder, body, meta]. */
  bodies?: SqlValue[]
  metas?: (string | null)[]
  /** Document texts (positions) and search texts (documents and records). */
  texts?: string[]
  lengths?: number[]
  /** Files to put into the blob store before the write. */
  fileBytes?: Uint8Array[]
  vectors?: Float32Array
}

/** A list's public facts plus its id, for the client to build a handle that carries it. */
function handleInfo(row: ListRow): ListInfo & { id: number } {
  return { ...listInfo(row), id: row.id }
}

function fail(where: string, message: string): never {
  throw new InvalidArgumentError(`${where}: ${message}`)
}

/** Validate and encode the values of an append for the list's type. */
async function prepareAppend(list: ListRow, values: unknown, where: string): Promise<PreparedAppend> {
  switch (list.type) {
    case 'document': {
      if (!Array.isArray(values)) fail(where, 'expected an array of strings')
      const texts = values as unknown[]
      texts.forEach((t, i) => {
        if (typeof t !== 'string') fail(where, `a document must be a string, item ${i} is ${describe(t)}`)
      })
      // Text with a lone surrogate is kept exactly too (stored as UTF-16 bytes, see storedDocument).
      return { count: texts.length, texts: texts as string[], lengths: (texts as string[]).map(codePointLength) }
    }
    case 'embedding': {
      const dim = list.dim!
      if (!(values instanceof Float32Array)) fail(where, `an embedding must be a Float32Array of ${dim} numbers, got ${describe(values)}`)
      checkViewUsable(values, where)
      if (values.length === 0 || values.length % dim !== 0) {
        fail(where, `"${list.name}" holds vectors of dimension ${dim}; got ${values.length} numbers${values.length > dim ? ` (not a multiple of ${dim})` : ''}`)
      }
      for (let i = 0; i < values.length; i++) {
        if (!Number.isFinite(values[i])) fail(where, `vector ${Math.floor(i / dim)} has a non-finite number at position ${i % dim}`)
      }
      return { count: values.length / dim, vectors: values }
    }
    case 'record': {
      if (!Array.isArray(values)) fail(where, 'expected an array of records')
      const fields = list.fields!
      const declared = new Set(fields)
      const bodies: SqlValue[] = []
      const texts: string[] = []
      ;(values as unknown[]).forEach((rec, i) => {
        const at = values.length > 1 ? ` (record ${i})` : ''
        if (!rec || typeof rec !== 'object' || Array.isArray(rec) || Object.getPrototypeOf(rec) !== Object.prototype && Object.getPrototypeOf(rec) !== null) {
          fail(where, `a record must be a plain object with fields ${fields.join(', ')}${at}, got ${describe(rec)}`)
        }
        const keys = Object.keys(rec)
        // A field set to undefined is missing: it would not be stored (README.md, "Lists").
        const missing = fields.filter((f) => !Object.hasOwn(rec, f) || (rec as Record<string, unknown>)[f] === undefined)
        const extra = keys.filter((k) => !declared.has(k))
        if (missing.length || extra.length) {
          const parts: string[] = []
          if (missing.length) parts.push(`missing field${missing.length > 1 ? 's' : ''} ${missing.map((f) => `"${f}"`).join(', ')}`)
          if (extra.length) parts.push(`unknown field${extra.length > 1 ? 's' : ''} ${extra.map((f) => `"${f}"`).join(', ')}`)
          fail(where, `record${at} has ${parts.join(' and ')} (declared: ${fields.join(', ')})`)
        }
        // Store fields in declaration order so equal records encode equally. defineProperty: a
        // field named __proto__ is a field like any other, never the object's prototype.
        const ordered: Record<string, unknown> = {}
        for (const f of fields) Object.defineProperty(ordered, f, { value: (rec as Record<string, unknown>)[f], enumerable: true, writable: true, configurable: true })
        bodies.push(encodeValue(prepareValue(ordered, `record${at}`)))
        texts.push(recordText(ordered).join(' '))
      })
      return { count: values.length, bodies, texts }
    }
    case 'file': {
      if (!Array.isArray(values)) fail(where, 'expected an array of files')
      const fileBytes: Uint8Array[] = []
      const metas: string[] = []
      for (const [i, f] of (values as FileArg[]).entries()) {
        let bytes: Uint8Array
        let name = ''
        let type = ''
        if (typeof Blob !== 'undefined' && f instanceof Blob) {
          bytes = new Uint8Array(await f.arrayBuffer())
          name = (f as { name?: unknown }).name === undefined ? '' : String((f as { name?: unknown }).name)
          type = f.type
        } else if (f && typeof f === 'object' && (f as { bytes?: unknown }).bytes instanceof Uint8Array) {
          const o = f as { bytes: Uint8Array; name?: unknown; type?: unknown }
          checkViewUsable(o.bytes, `${where}: file ${i} bytes`)
          bytes = o.bytes
          if (o.name !== undefined && typeof o.name !== 'string') fail(where, `file ${i}: name must be a string`)
          if (o.type !== undefined && typeof o.type !== 'string') fail(where, `file ${i}: type must be a string`)
          name = (o.name as string | undefined) ?? ''
          type = (o.type as string | undefined) ?? ''
        } else {
          fail(where, `a file must be a Blob or { bytes: Uint8Array, name, type }, item ${i} is ${describe(f)}`)
        }
        fileBytes.push(bytes)
        metas.push(JSON.stringify({ name, type, size: bytes.length }))
      }
      return { count: fileBytes.length, fileBytes, metas }
    }
  }
}

/** What the write of an append hands back for updating the in-memory indexes. */
interface AppendWrite {
  start: number
  end: number
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
    const type = options.type
    if (!LIST_TYPES.includes(type)) throw new InvalidArgumentError(`list type must be one of ${LIST_TYPES.join(', ')}, got ${describe(type)}`)
    let dim: number | null = null
    let fields: string | null = null
    if (type === 'embedding') {
      if (typeof options.dim !== 'number' || !Number.isInteger(options.dim) || options.dim < 1 || options.dim > MAX_DIM) {
        throw new InvalidArgumentError(`an embedding list needs dim, an integer from 1 to ${MAX_DIM}, got ${describe(options.dim)}`)
      }
      dim = options.dim
    } else if (options.dim !== undefined) throw new InvalidArgumentError(`dim applies only to embedding lists, not ${type} lists`)
    if (type === 'record') {
      const f = options.fields
      if (!Array.isArray(f) || f.length === 0 || f.some((x) => typeof x !== 'string' || x.length === 0)) {
        throw new InvalidArgumentError('a record list needs fields: a non-empty array of non-empty strings')
      }
      f.forEach((x, i) => checkName(x, `record field ${i}`, MAX_FIELD_NAME_CHARS))
      const dup = f.find((x, i) => f.indexOf(x) !== i)
      if (dup !== undefined) throw new InvalidArgumentError(`field "${dup}" is declared twice`)
      fields = JSON.stringify(f)
    } else if (options.fields !== undefined) throw new InvalidArgumentError(`fields apply only to record lists, not ${type} lists`)
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
   */
  async append(ctx: CallContext, ref: string | { name: string; id: number }, values: unknown, options: AppendManyOptions = {}): Promise<AppendResult> {
    const name = listRefName(ref)
    const where = `append to "${name}"`
    const list = liveList(ctx.db, ref)
    const prep = await prepareAppend(list, values, where)
    if (prep.count === 0) fail(where, 'nothing to append')
    options ??= {}
    if (options.description !== undefined && typeof options.description !== 'string') fail(where, 'description must be a string')
    if (options.description !== undefined) checkWellFormed(options.description, `${where}: the description`)
    const itemParents = options.itemParents
    if (itemParents !== undefined && (!Array.isArray(itemParents) || itemParents.length !== prep.count)) {
      fail(where, `itemParents must hold one array of parents per item (${prep.count})`)
    }
    // Fail before writing any bytes when the references are wrong now (checked again in the write).
    resolveParents(ctx.db, options.parents, where)
    itemParents?.forEach((p, i) => resolveParents(ctx.db, p, `${where} (item ${i})`))
    resolveSession(ctx.db, options.session)

    // Blobs are pinned from put until the write settles, so a checkpoint in between keeps them.
    const pinned: string[] = []
    try {
      let fileHashes: string[] | undefined
      if (prep.fileBytes) {
        fileHashes = []
        for (const bytes of prep.fileBytes) {
          const hash = await ctx.blobs.put(bytes)
          pinned.push(hash)
          fileHashes.push(hash)
        }
      }
      let vectorData: Uint8Array | null = null
      let vectorHash: string | null = null
      if (prep.vectors) {
        const bytes = new Uint8Array(prep.vectors.buffer, prep.vectors.byteOffset, prep.vectors.byteLength)
        if (bytes.length > VECTOR_BLOB_THRESHOLD) pinned.push((vectorHash = await ctx.blobs.put(bytes)))
        else vectorData = bytes
      }
      return await this._commitAppend(ctx, list, name, prep, options, where, fileHashes, vectorData, vectorHash)
    } finally {
      for (const hash of pinned) ctx.blobs.unpin(hash)
    }
  }

  /** The write half of {@link append}. The `_` keeps it out of reach of `invoke` (not a public method). */
  private async _commitAppend(
    ctx: CallContext,
    list: ListRow,
    name: string,
    prep: PreparedAppend,
    options: AppendManyOptions,
    where: string,
    fileHashes: string[] | undefined,
    vectorData: Uint8Array | null,
    vectorHash: string | null,
  ): Promise<AppendResult> {
    const itemParents = options.itemParents
    const w = await ctx.write((): AppendWrite => {
      const db = ctx.db
      const row = liveList(db, name)
      if (row.id !== list.id) throw new NotFoundError(`item list "${name}" was deleted during the append`)
      const parents = resolveParents(db, options.parents, where)
      const perItem = itemParents?.map((p, i) => resolveParents(db, p, `${where} (item ${i})`))
      const [session, cell] = resolveSession(db, options.session)
      const start = row.length
      const end = start + prep.count
      const previous = lastEvent(db)
      const previousOfList = lastAppendOf(db, row.id)
      const event = insertEvent(db, EventKind.Append, { list: row.id, start, end, session, cell })
      let chars = row.chars
      switch (row.type) {
        case 'document': {
          const rows: SqlValue[][] = []
          for (let i = 0; i < prep.count; i++) {
            rows.push([row.id, start + i, chars, storedDocument(prep.texts![i]!), null])
            chars += prep.lengths![i]!
          }
          insertRows(db, 'items', ['list', 'idx', 'pos', 'body', 'meta'], rows)
          break
        }
        case 'record':
          insertRows(db, 'items', ['list', 'idx', 'pos', 'body', 'meta'], prep.bodies!.map((b, i) => [row.id, start + i, null, b, null]))
          break
        case 'file':
          insertRows(db, 'items', ['list', 'idx', 'pos', 'body', 'meta'], fileHashes!.map((h, i) => [row.id, start + i, null, h, prep.metas![i]!]))
          break
        case 'embedding':
          db.run('INSERT INTO item_vectors (event, list, start, count, data, hash) VALUES (?, ?, ?, ?, ?, ?)', [event.id, row.id, start, prep.count, vectorData, vectorHash])
          break
      }
      const edges: SqlValue[][] = []
      const spans = new Map<number, number>()
      const edge = (p: ResolvedParent, cs: number, ce: number): void => {
        edges.push([row.id, cs, ce, p.list, p.start, p.end, event.id])
        spans.set(p.list, Math.max(spans.get(p.list) ?? 0, p.end - p.start))
      }
      for (const p of parents) edge(p, start, end)
      perItem?.forEach((ps, i) => ps.forEach((p) => edge(p, start + i, start + i + 1)))
      if (edges.length > 0) {
        insertRows(db, 'item_lineage', ['child_list', 'child_start', 'child_end', 'parent_list', 'parent_start', 'parent_end', 'event'], edges)
        for (const [parent, span] of spans) {
          db.run('UPDATE item_lists SET max_parent_span = ? WHERE id = ? AND max_parent_span < ?', [span, parent, span])
        }
      }
      db.run('UPDATE item_lists SET length = ?, chars = ? WHERE id = ?', [end, chars, row.id])
      const described = options.description !== undefined
      if (described) insertDescription(db, row.id, null, options.description!, start, end, null, session)
      return { start, end, list: row.id, event, previous, previousOfList, described }
    })

    // Keep the warm indexes current without re-reading what we have in hand.
    if (prep.texts && !w.described) {
      this.core.currentText.applyAppend(w.previous, w.event, list.type === 'document' ? DocKind.Document : DocKind.Record, w.list, w.start, prep.texts)
    }
    if (prep.vectors) this.core.vectors.applyAppend(w.list, w.previousOfList, w.event, prep.vectors, prep.count)
    return { start: w.start, end: w.end }
  }

  async size(ctx: CallContext, name: string): Promise<number> {
    return liveList(ctx.db, name).length
  }

  /** One item's value: a string, a Float32Array, a record, or a file with its bytes. */
  async get(ctx: CallContext, name: string, index: number): Promise<unknown> {
    const row = liveList(ctx.db, name)
    const i = resolveIndex(index, row)
    if (row.type === 'embedding') return readVectors(ctx, row, i, i + 1)
    const r = ctx.db.get('SELECT body, meta FROM items WHERE list = ? AND idx = ?', [row.id, i])!
    return itemValue(ctx, row, r[0]!, r[1] as string | null)
  }

  /** Values `[start, end)`; embeddings come back as one Float32Array of (end-start) × dim. */
  async slice(ctx: CallContext, name: string, start: number, end?: number): Promise<unknown[] | Float32Array> {
    const row = liveList(ctx.db, name)
    const [s, e] = sliceBounds(start, end, row.length)
    if (row.type === 'embedding') return readVectors(ctx, row, s, e)
    const rows = ctx.db.all('SELECT body, meta FROM items WHERE list = ? AND idx >= ? AND idx < ? ORDER BY idx', [row.id, s, e])
    const out: unknown[] = []
    for (const r of rows) out.push(await itemValue(ctx, row, r[0]!, r[1] as string | null))
    return out
  }

  /** Document items overlapping the character range `[start, end)`. */
  async content(ctx: CallContext, name: string, start?: number, end?: number): Promise<DocumentItem[]> {
    const row = liveList(ctx.db, name, 'document')
    const s = start === undefined ? 0 : checkIndex(start, 'content start')
    const e = end === undefined ? Math.max(row.chars, s) : checkIndex(end, 'content end')
    if (e < s) throw new InvalidArgumentError(`content: end (${e}) is before start (${s})`)
    if (e === s) return []
    const lower = (ctx.db.get('SELECT max(pos) FROM items WHERE list = ? AND pos <= ?', [row.id, s])?.[0] as number | null) ?? 0
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
    const ev = ctx.db.get('SELECT start, end, session, cell, created_at FROM item_events WHERE kind = 1 AND list = ? AND start <= ? ORDER BY start DESC LIMIT 1', [row.id, i])!
    const info: ItemInfo = { list: row.name, index: i, createdAt: ev[4] as string, append: { start: ev[0] as number, end: ev[1] as number } }
    if (ev[2] !== null) {
      const s = ctx.db.get('SELECT s.name, s.user, c.code FROM item_sessions s JOIN item_cells c ON c.session = s.id WHERE s.id = ? AND c.cell = ?', [ev[2], ev[3]])
      info.session = { id: ev[2] as number, name: (s?.[0] as string) ?? '', user: (s?.[1] as string) ?? '', cell: ev[3] as number, code: (s?.[2] as string) ?? '' }
    }
    if (row.type === 'document') {
      const r = ctx.db.get('SELECT pos, body FROM items WHERE list = ? AND idx = ?', [row.id, i])!
      info.start = r[0] as number
      info.end = info.start + codePointLength(documentText(r[1]!))
    }
    return info
  }
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

async function itemValue(ctx: CallContext, row: ListRow, body: SqlValue, meta: string | null): Promise<unknown> {
  switch (row.type) {
    case 'document':
      return documentText(body)
    case 'record':
      return decodeValue(body as Uint8Array)
    case 'file': {
      const m = JSON.parse(meta!) as { name: string; type: string; size: number }
      const file: FileItem = { name: m.name, type: m.type, size: m.size, hash: body as string, bytes: await ctx.blobs.get(body as string) }
      return file
    }
    default:
      throw new InvalidArgumentError(`cannot read a ${row.type} item this way`)
  }
}

/** Vectors `[s, e)` of an embedding list, copied out of their segments (inline or blob). */
async function readVectors(ctx: CallContext, row: ListRow, s: number, e: number): Promise<Float32Array> {
  const dim = row.dim!
  const out = new Float32Array((e - s) * dim)
  if (e <= s) return out
  const first = (ctx.db.get('SELECT max(start) FROM item_vectors WHERE list = ? AND start <= ?', [row.id, s])?.[0] as number | null) ?? 0
  const segments = ctx.db.all('SELECT start, count, data, hash FROM item_vectors WHERE list = ? AND start >= ? AND start < ? ORDER BY start', [row.id, first, e])
  for (const [start, count, data, hash] of segments as [number, number, Uint8Array | null, string | null][]) {
    const from = Math.max(s, start)
    const to = Math.min(e, start + count)
    if (to <= from) continue
    const bytes = data ?? (await ctx.blobs.getRange(hash!, (from - start) * dim * 4, (to - from) * dim * 4))
    const floats = data ? asFloat32(bytes).subarray((from - start) * dim, (to - start) * dim) : asFloat32(bytes)
    out.set(floats, (from - s) * dim)
  }
  return out
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
