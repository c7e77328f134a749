import { decodeValue, encodeValue, prepareValue } from '../../../codec/value-codec.js'
import { checkName, checkViewUsable } from '../../../codec/checks.js'
import type { CallContext } from '../../../engine/context.js'
import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import type { CreateListOptions, FileItem, ListInfo, ListType } from '../shared/item-types.js'
import { hasUpserts, type EventMark } from './items-schema.js'
import { describe, documentText, storedDocument, type ListRow } from './list-rows.js'
import { blobHashes, insertRows } from './sql-rows.js'
import { DocKind } from './text-index.js'
import { codePointLength, recordText } from './tokenize.js'
import { asFloat32 } from './vector-index.js'

const MAX_DIM = 65536
const MAX_FIELD_NAME_CHARS = 256

/** A file as the engine receives it (after structured clone). */
type FileArg = Blob | { bytes: Uint8Array; name?: string; type?: string }

/**
 * An append, validated and encoded by its list's kind, before anything is written. The append fills
 * in where the blob store put the bytes (`fileHashes`, `vectorHash`) before the write.
 */
export interface PreparedAppend {
  count: number
  /** Encoded record bodies, one per item. */
  bodies?: SqlValue[]
  /** File metas (JSON), one per item. */
  metas?: string[]
  /** Search texts, one per item (documents and records): documents' texts are also their values. */
  texts?: string[]
  /** Documents: each text's length in code points. */
  lengths?: number[]
  /** Files to put into the blob store before the write, and their hashes once put. */
  fileBytes?: Uint8Array[]
  fileHashes?: string[]
  /** Embeddings: the vectors, and where they are stored (inline bytes, or a blob's hash). */
  vectors?: Float32Array
  vectorData?: Uint8Array | null
  vectorHash?: string | null
}

/**
 * What differs between list kinds (document, embedding, file, record). The lists engine looks up a
 * list's kind once per call and leaves every kind-specific step to it; adding a kind is one record
 * here (and its name in {@link ListType}).
 */
export interface ListKind {
  /** `lists.create`: check the options that belong (or must not be given) to this kind; the row's `dim` and `fields`. */
  createColumns(options: CreateListOptions): { dim: number | null; fields: string | null }
  /** Add the kind's facts to a list's public info. */
  addInfo(row: ListRow, info: ListInfo): void
  /** Validate and encode the values of an append (the list type's batch form). */
  prepare(list: ListRow, values: unknown, where: string): PreparedAppend | Promise<PreparedAppend>
  /**
   * Inside the append's write: store the items from index `start` (documents: from character
   * position `at`), replacing items there when `replace`; returns the list's new character count.
   */
  store(db: SqliteDatabase, row: ListRow, start: number, event: EventMark, prep: PreparedAppend, at: number, replace: boolean): number
  /** The text index's kind for the items' search texts; undefined when the items have none. */
  textKind?: number
  /** Item i's value (0 ≤ i < length); NotFoundError for a gap left by an explicit index. */
  get(ctx: CallContext, row: ListRow, i: number): Promise<unknown>
  /** Values [s, e) (clamped, s ≤ e). */
  slice(ctx: CallContext, row: ListRow, s: number, e: number): Promise<unknown[] | Float32Array>
  /** The character range of item i, for kinds whose items are text positioned in the list. */
  charRange?(db: SqliteDatabase, row: ListRow, i: number): [number, number]
}

function fail(where: string, message: string): never {
  throw new InvalidArgumentError(`${where}: ${message}`)
}

function noDim(options: CreateListOptions): null {
  if (options.dim !== undefined) throw new InvalidArgumentError(`dim applies only to embedding lists, not ${options.type} lists`)
  return null
}

function noFields(options: CreateListOptions): null {
  if (options.fields !== undefined) throw new InvalidArgumentError(`fields apply only to record lists, not ${options.type} lists`)
  return null
}

const ITEM_COLUMNS = ['list', 'idx', 'pos', 'body', 'meta']

function verb(replace: boolean): 'INSERT' | 'INSERT OR REPLACE' {
  return replace ? 'INSERT OR REPLACE' : 'INSERT'
}

function gap(row: ListRow, i: number): NotFoundError {
  return new NotFoundError(`item ${i} of "${row.name}" was never written (a gap left by an append at an explicit index)`)
}

/** The most entries a JavaScript array holds. */
const MAX_ARRAY_LENGTH = 2 ** 32 - 1

/**
 * A slice whose result cannot exist here: one entry per index of `[s, e)`, gaps included, so a
 * range across a far gap (an item at index 2^40) asks for an array or matrix no JavaScript engine
 * makes. Before: the engine's own untyped RangeError ("Invalid array length").
 */
function sliceTooLarge(row: ListRow, s: number, e: number, cause?: unknown): InvalidArgumentError {
  const what = row.type === 'embedding' ? `${e - s} × ${row.dim} numbers, more than one Float32Array holds here` : `more entries than an array holds (${MAX_ARRAY_LENGTH})`
  return new InvalidArgumentError(`items [${s}, ${e}) of "${row.name}" would come back as ${what} (one per index, gaps included): read it in smaller ranges`, { cause })
}

/** get and slice of kinds whose items are rows of `items`, each turned into a value by `value`. */
function itemRows(value: (ctx: CallContext, body: SqlValue, meta: string | null) => unknown): Pick<ListKind, 'get' | 'slice'> {
  return {
    async get(ctx, row, i) {
      const r = ctx.db.get('SELECT body, meta FROM items WHERE list = ? AND idx = ?', [row.id, i])
      if (!r) throw gap(row, i)
      return value(ctx, r[0]!, r[1] as string | null)
    },
    async slice(ctx, row, s, e) {
      if (e - s > MAX_ARRAY_LENGTH) throw sliceTooLarge(row, s, e)
      const rows = ctx.db.all('SELECT idx, body, meta FROM items WHERE list = ? AND idx >= ? AND idx < ? ORDER BY idx', [row.id, s, e])
      // Gaps (never written, explicit indexes only) read as undefined.
      const out: unknown[] = new Array(e - s).fill(undefined)
      // Every load starts now, in the tick the rows were read (a file's blob is pinned from then:
      // a checkpoint while they load collects none of them).
      const values = await Promise.all(rows.map((r) => value(ctx, r[1]!, r[2] as string | null)))
      rows.forEach((r, i) => (out[(r[0] as number) - s] = values[i]))
      return out
    },
  }
}

/** Vectors `[s, e)` of an embedding list, copied out of their segments (inline or blob). */
async function readVectors(ctx: CallContext, row: ListRow, s: number, e: number): Promise<Float32Array> {
  const dim = row.dim!
  let out: Float32Array
  try {
    out = new Float32Array((e - s) * dim)
  } catch (err) {
    // The platform's own limit (2^32 numbers in V8, less in some browsers), or no memory for it.
    if (err instanceof RangeError) throw sliceTooLarge(row, s, e, err)
    throw err
  }
  if (e <= s) return out
  if (hasUpserts(ctx.db, row.id)) return readUpsertedVectors(ctx, row, s, e, out)
  const first = (ctx.db.get('SELECT max(start) FROM item_vectors WHERE list = ? AND start <= ?', [row.id, s])?.[0] as number | null) ?? 0
  const segments = ctx.db.all('SELECT start, count, data, hash FROM item_vectors WHERE list = ? AND start >= ? AND start < ? ORDER BY start', [row.id, first, e])
  // The segments' blobs are pinned now, in the tick their rows were read (see BlobStore.reading).
  return ctx.blobs.reading(blobHashes(segments), async () => {
    for (const [start, count, data, hash] of segments as [number, number, Uint8Array | null, string | null][]) {
      const from = Math.max(s, start)
      const to = Math.min(e, start + count)
      if (to <= from) continue
      const bytes = data ?? (await ctx.blobs.getRange(hash!, (from - start) * dim * 4, (to - from) * dim * 4))
      const floats = data ? asFloat32(bytes).subarray((from - start) * dim, (to - start) * dim) : asFloat32(bytes)
      out.set(floats, (from - s) * dim)
    }
    return out
  })
}

/**
 * Vectors `[s, e)` of a list that took appends at explicit indexes: segments may overlap (the
 * later append wins) or leave gaps (NaN).
 */
async function readUpsertedVectors(ctx: CallContext, row: ListRow, s: number, e: number, out: Float32Array): Promise<Float32Array> {
  const dim = row.dim!
  out.fill(NaN)
  const segments = ctx.db.all('SELECT start, count, data, hash FROM item_vectors WHERE list = ? AND start < ? AND start + count > ? ORDER BY event', [row.id, e, s])
  return ctx.blobs.reading(blobHashes(segments), async () => {
    for (const [start, count, data, hash] of segments as [number, number, Uint8Array | null, string | null][]) {
      const from = Math.max(s, start)
      const to = Math.min(e, start + count)
      const bytes = data ?? (await ctx.blobs.getRange(hash!, (from - start) * dim * 4, (to - from) * dim * 4))
      const floats = data ? asFloat32(bytes).subarray((from - start) * dim, (to - start) * dim) : asFloat32(bytes)
      out.set(floats, (from - s) * dim)
    }
    return out
  })
}

const documentKind: ListKind = {
  createColumns: (options) => ({ dim: noDim(options), fields: noFields(options) }),
  addInfo(row, info) {
    info.chars = row.chars
  },
  prepare(_list, values, where) {
    if (!Array.isArray(values)) fail(where, 'expected an array of strings')
    const texts = values as unknown[]
    // An index loop, not forEach: a hole of a sparse array is an item too (undefined, refused here;
    // forEach skipped it, and the append crashed later with a TypeError).
    for (let i = 0; i < texts.length; i++) {
      if (typeof texts[i] !== 'string') fail(where, `a document must be a string, item ${i} is ${describe(texts[i])}`)
    }
    // Text with a lone surrogate is kept exactly too (stored as UTF-16 bytes, see storedDocument).
    return { count: texts.length, texts: texts as string[], lengths: (texts as string[]).map(codePointLength) }
  },
  store(db, row, start, _event, prep, at, replace) {
    let chars = at
    const rows: SqlValue[][] = []
    for (let i = 0; i < prep.count; i++) {
      rows.push([row.id, start + i, chars, storedDocument(prep.texts![i]!), null])
      chars += prep.lengths![i]!
    }
    insertRows(db, 'items', ITEM_COLUMNS, rows, verb(replace))
    return Math.max(row.chars, chars)
  },
  textKind: DocKind.Document,
  ...itemRows((_ctx, body) => documentText(body)),
  charRange(db, row, i) {
    const r = db.get('SELECT pos, body FROM items WHERE list = ? AND idx = ?', [row.id, i])
    if (!r) throw gap(row, i)
    const start = r[0] as number
    return [start, start + codePointLength(documentText(r[1]!))]
  },
}

const embeddingKind: ListKind = {
  createColumns(options) {
    if (typeof options.dim !== 'number' || !Number.isInteger(options.dim) || options.dim < 1 || options.dim > MAX_DIM) {
      throw new InvalidArgumentError(`an embedding list needs dim, an integer from 1 to ${MAX_DIM}, got ${describe(options.dim)}`)
    }
    return { dim: options.dim, fields: noFields(options) }
  },
  addInfo(row, info) {
    info.dim = row.dim!
  },
  prepare(list, values, where) {
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
  },
  store(db, row, start, event, prep) {
    db.run('INSERT INTO item_vectors (event, list, start, count, data, hash) VALUES (?, ?, ?, ?, ?, ?)', [event.id, row.id, start, prep.count, prep.vectorData ?? null, prep.vectorHash ?? null])
    return row.chars
  },
  async get(ctx, row, i) {
    const v = await readVectors(ctx, row, i, i + 1)
    if (Number.isNaN(v[0])) throw gap(row, i)
    return v
  },
  slice: readVectors,
}

const fileKind: ListKind = {
  createColumns: (options) => ({ dim: noDim(options), fields: noFields(options) }),
  addInfo() {},
  async prepare(_list, values, where) {
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
  },
  store(db, row, start, _event, prep, _at, replace) {
    insertRows(db, 'items', ITEM_COLUMNS, prep.fileHashes!.map((h, i) => [row.id, start + i, null, h, prep.metas![i]!]), verb(replace))
    return row.chars
  },
  ...itemRows(async (ctx, body, meta) => {
    const m = JSON.parse(meta!) as { name: string; type: string; size: number }
    const file: FileItem = { name: m.name, type: m.type, size: m.size, hash: body as string, bytes: await ctx.blobs.get(body as string) }
    return file
  }),
}

const recordKind: ListKind = {
  createColumns(options) {
    const dim = noDim(options)
    const f = options.fields
    // Array.from: a hole of a sparse array is a field too (undefined, refused); some() skipped it,
    // and the list was made with a field stored as null, which no record could ever fill.
    if (!Array.isArray(f) || f.length === 0 || Array.from(f).some((x) => typeof x !== 'string' || x.length === 0)) {
      throw new InvalidArgumentError('a record list needs fields: a non-empty array of non-empty strings')
    }
    f.forEach((x, i) => checkName(x, `record field ${i}`, MAX_FIELD_NAME_CHARS))
    const dup = f.find((x, i) => f.indexOf(x) !== i)
    if (dup !== undefined) throw new InvalidArgumentError(`field "${dup}" is declared twice`)
    return { dim, fields: JSON.stringify(f) }
  },
  addInfo(row, info) {
    info.fields = row.fields!
  },
  prepare(list, values, where) {
    if (!Array.isArray(values)) fail(where, 'expected an array of records')
    const fields = list.fields!
    const declared = new Set(fields)
    const bodies: SqlValue[] = []
    const texts: string[] = []
    // An index loop, not forEach: a hole of a sparse array is an item too (undefined, refused);
    // forEach skipped it, so the records after it were stored one index early and the last index
    // was left a gap.
    for (let i = 0; i < values.length; i++) {
      const rec = (values as unknown[])[i]
      const at = values.length > 1 ? ` (record ${i})` : ''
      if (!rec || typeof rec !== 'object' || Array.isArray(rec) || Object.getPrototypeOf(rec) !== Object.prototype && Object.getPrototypeOf(rec) !== null) {
        fail(where, `a record must be a plain object with fields ${fields.join(', ')}${at}, got ${describe(rec)}`)
      }
      const keys = Object.keys(rec)
      // A field set to undefined is missing: it would not be stored (docs/items.md, "Lists").
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
    }
    return { count: values.length, bodies, texts }
  },
  store(db, row, start, _event, prep, _at, replace) {
    insertRows(db, 'items', ITEM_COLUMNS, prep.bodies!.map((b, i) => [row.id, start + i, null, b, null]), verb(replace))
    return row.chars
  },
  textKind: DocKind.Record,
  ...itemRows((_ctx, body) => decodeValue(body as Uint8Array)),
}

/** Every list kind by its type name. */
export const LIST_KINDS: Readonly<Record<ListType, ListKind>> = {
  document: documentKind,
  embedding: embeddingKind,
  file: fileKind,
  record: recordKind,
}

/** The type names, in the order error messages list them. */
export const LIST_TYPES = Object.keys(LIST_KINDS) as ListType[]

/** The kind of a list row (its type was checked when the list was created). */
export function kindOf(row: ListRow): ListKind {
  return LIST_KINDS[row.type]
}

/** The public view of a row. */
export function listInfo(row: ListRow): ListInfo {
  const info: ListInfo = { name: row.name, type: row.type, length: row.length, createdAt: row.createdAt }
  kindOf(row).addInfo(row, info)
  return info
}
