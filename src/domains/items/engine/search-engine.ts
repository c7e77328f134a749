import type { CallContext } from '../../../engine/context.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import { isWellFormed, loneSurrogateAt } from '../../../codec/checks.js'
import { InvalidArgumentError } from '../../../errors/errors.js'
import type { CodeSearchOptions, DescriptionHit, ItemHit, ItemSearchOptions, ListType, SimilarOptions, TextHit, TextSearchOptions, TextSource } from '../shared/item-types.js'
import { hasUpserts } from './items-schema.js'
import { LIST_TYPES } from './list-kinds.js'
import type { ItemsCore } from './items-core.js'
import { checkListName, describe, listNames, liveList } from './list-rows.js'
import { DocKind, TopK } from './text-index.js'
import { asFloat32, unitVector } from './vector-index.js'

const SOURCES: Record<TextSource, number[]> = {
  items: [DocKind.Document, DocKind.Record],
  descriptions: [DocKind.Description],
  code: [DocKind.Code],
}

/**
 * The indexes of `[start, end)` of a list that hold an item, ascending. A list that never took an
 * append at an explicit index has no gaps: every index counts. One that did may have gaps (a
 * description covering the whole list of an item at index 2^40 spans 2^40 indexes, nearly all
 * gaps): only the stored items count, as search never returns a gap.
 */
function itemsWithin(db: SqliteDatabase, row: { id: number; type: ListType }, start: number, end: number): Iterable<number> {
  if (!hasUpserts(db, row.id)) return rangeOf(start, end)
  if (row.type !== 'embedding') return db.all('SELECT idx FROM items WHERE list = ? AND idx >= ? AND idx < ? ORDER BY idx', [row.id, start, end]).map((r) => r[0] as number)
  // Embeddings are stored as segments (one per append, a later one may overlap an earlier one).
  const out: number[] = []
  let next = start
  for (const [s, count] of db.all('SELECT start, count FROM item_vectors WHERE list = ? AND start < ? AND start + count > ? ORDER BY start', [row.id, end, start]) as [number, number][]) {
    for (let i = Math.max(s, next); i < Math.min(s + count, end); i++) out.push(i)
    next = Math.max(next, s + count)
  }
  return out
}

function* rangeOf(start: number, end: number): Iterable<number> {
  for (let i = start; i < end; i++) yield i
}

/**
 * A query string must be well-formed Unicode. A lone surrogate is never part of a token, so it was
 * dropped silently ("abc\uD800def" searched for "abc def"), and SQLite's UTF-8 turns it into U+FFFD
 * for code search (matching code that holds U+FFFD).
 */
function checkQuery(query: string, what: string): void {
  if (isWellFormed(query)) return
  const at = loneSurrogateAt(query)
  throw new InvalidArgumentError(`${what} is not well-formed Unicode: a lone surrogate (U+${query.charCodeAt(at).toString(16).toUpperCase()}) at position ${at}`)
}

/** The ids of the live lists named by `lists` (an array of names), once each. */
function listIds(db: SqliteDatabase, lists: unknown, type?: ListType): Set<number> {
  // A string is iterable (and has no map): it must not pass as a list of one-letter names.
  if (!Array.isArray(lists)) throw new InvalidArgumentError(`lists must be an array of list names, got ${describe(lists)}`)
  return new Set(lists.map((n) => liveList(db, n, type).id))
}

/** A non-zero query vector: the cosine with a zero vector is undefined (0/0). */
function checkQueryVector(q: Float32Array, what: string): void {
  if (!q.some((x) => x !== 0)) throw new InvalidArgumentError(`${what} is a zero vector: its cosine with anything is undefined`)
}

function checkLimit(v: unknown, fallback: number, what: string): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`${what} must be a non-negative integer, got ${describe(v)}`)
  return v
}

/**
 * The engine side of `vault.search`: ranked text search (BM25 over the in-memory text index),
 * cosine similarity (the SIMD kernel over in-memory matrices), code search (items made by sessions
 * whose code contains a string) and description search. Results are plain `{ list, index, score }`.
 */
export class SearchEngine {
  constructor(private readonly core: ItemsCore) {}

  async text(ctx: CallContext, query: string, options: TextSearchOptions = {}): Promise<TextHit[]> {
    if (typeof query !== 'string') throw new InvalidArgumentError(`a text query must be a string, got ${describe(query)}`)
    checkQuery(query, 'the text query')
    options ??= {}
    const limit = checkLimit(options.limit, 10, 'limit')
    const sources = options.sources ?? ['items']
    const kinds = new Set<number>()
    for (const s of sources) {
      // Own keys only: SOURCES['__proto__'] or ['constructor'] is inherited, and was not an array.
      const k = Object.hasOwn(SOURCES, s) ? SOURCES[s] : undefined
      if (!k) throw new InvalidArgumentError(`unknown text source ${describe(s)}: use items, descriptions or code`)
      k.forEach((x) => kinds.add(x))
    }
    const lists = options.lists === undefined ? undefined : listIds(ctx.db, options.lists)
    const matches = this.core.text(ctx.db).search(query, { kinds, lists, limit })
    return this.toHits(ctx, matches)
  }

  /** Text search over descriptions only (list descriptions and append descriptions). */
  async descriptions(ctx: CallContext, query: string, options: { lists?: string[]; limit?: number } = {}): Promise<DescriptionHit[]> {
    return (await this.text(ctx, query, { ...options, sources: ['descriptions'] })) as DescriptionHit[]
  }

  private toHits(ctx: CallContext, matches: { kind: number; owner: number; ref: number; score: number }[]): TextHit[] {
    if (matches.length === 0) return []
    const names = listNames(ctx.db)
    return matches.map((m): TextHit => {
      if (m.kind === DocKind.Document || m.kind === DocKind.Record) return { list: names.get(m.owner)!, index: m.ref, score: m.score }
      if (m.kind === DocKind.Description) {
        const d = ctx.db.get('SELECT d.name, d.start, d.end, l.length FROM item_descriptions d JOIN item_lists l ON l.id = d.list WHERE d.id = ?', [m.ref])
        return { kind: 'description', list: names.get(m.owner)!, name: (d?.[0] as string | null) ?? null, start: (d?.[1] as number) ?? 0, end: d && (d[2] as number) >= 0 ? (d[2] as number) : ((d?.[3] as number) ?? 0), score: m.score }
      }
      const s = ctx.db.get('SELECT name FROM item_sessions WHERE id = ?', [m.owner])
      return { kind: 'session', session: m.owner, name: (s?.[0] as string) ?? '', cell: m.ref, score: m.score }
    })
  }

  /** Cosine top-k over embedding lists (and description embeddings), exact. */
  async similar(ctx: CallContext, vector: Float32Array, options: SimilarOptions = {}): Promise<TextHit[]> {
    if (!(vector instanceof Float32Array) || vector.length === 0) throw new InvalidArgumentError(`a query vector must be a non-empty Float32Array, got ${describe(vector)}`)
    if (!vector.every(Number.isFinite)) throw new InvalidArgumentError('the query vector has a non-finite number')
    checkQueryVector(vector, 'the query vector')
    options ??= {}
    const k = checkLimit(options.k, 10, 'k')
    const dim = vector.length
    let targets: { id: number; name: string; dim: number }[]
    if (options.lists !== undefined) {
      if (!Array.isArray(options.lists)) throw new InvalidArgumentError('lists must be an array of list names')
      // Each list once (one named twice gave every hit twice), oldest first as without `lists`:
      // equal scores then rank by list and index whatever order the lists are named in.
      const seen = new Set<number>()
      targets = options.lists
        .map((n) => {
          const row = liveList(ctx.db, n, 'embedding')
          if (row.dim !== dim) throw new InvalidArgumentError(`the query has dimension ${dim} but "${row.name}" holds vectors of dimension ${row.dim}`)
          return { id: row.id, name: row.name, dim: row.dim! }
        })
        .filter((t) => !seen.has(t.id) && seen.add(t.id))
        .sort((a, b) => a.id - b.id)
    } else {
      targets = ctx.db
        .all("SELECT id, name, dim FROM item_lists WHERE type = 'embedding' AND deleted_at IS NULL AND dim = ? ORDER BY id", [dim])
        .map((r) => ({ id: r[0] as number, name: r[1] as string, dim: r[2] as number }))
    }
    const query = unitVector(vector)
    const hits: TextHit[] = []
    for (const t of targets) {
      const m = await this.core.vectors.matrix(ctx, t.id, t.dim)
      for (const [score, index] of m.top(query, k)) hits.push({ list: t.name, index, score })
    }
    if (options.descriptions) hits.push(...this.similarDescriptions(ctx, query, k, options.lists))
    hits.sort((a, b) => b.score - a.score)
    return hits.slice(0, k)
  }

  private similarDescriptions(ctx: CallContext, query: Float32Array, k: number, lists: string[] | undefined): DescriptionHit[] {
    const only = lists ? new Set(lists) : undefined
    const top = new TopK(k)
    const rows: unknown[][] = []
    ctx.db.each(
      'SELECT l.name, d.name, d.start, d.end, l.length, d.embedding FROM item_descriptions d JOIN item_lists l ON l.id = d.list WHERE d.dim = ? AND l.deleted_at IS NULL ORDER BY d.id',
      [query.length],
      (r) => {
        if (only && !only.has(r[0] as string)) return
        const v = unitVector(asFloat32(r[5] as Uint8Array))
        let dot = 0
        for (let i = 0; i < v.length; i++) dot += v[i]! * query[i]!
        top.push(dot, rows.length)
        rows.push(r)
      },
    )
    return top.sorted().map(([score, i]) => {
      const r = rows[i]!
      return { kind: 'description', list: r[0] as string, name: r[1] as string | null, start: r[2] as number, end: (r[3] as number) >= 0 ? (r[3] as number) : (r[4] as number), score }
    })
  }

  /**
   * One query combining filters, AND between the kinds given. Each kind narrows the set of
   * (list, index) pairs; the score is the cosine similarity when `similar` is given, else the BM25
   * of `text`, else that of the best matching `description`, else 1. Best first, then list and index.
   */
  async items(ctx: CallContext, options: ItemSearchOptions): Promise<ItemHit[]> {
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('search.items needs an options object')
    const k = checkLimit(options.k, 10, 'k')
    for (const f of ['text', 'description', 'code', 'name', 'mediaType'] as const) {
      if (options[f] !== undefined && typeof options[f] !== 'string') throw new InvalidArgumentError(`search.items: ${f} must be a string, got ${describe(options[f])}`)
    }
    if (options.code === '') throw new InvalidArgumentError('search.items: code must be a non-empty string')
    for (const f of ['text', 'description', 'code'] as const) if (options[f] !== undefined) checkQuery(options[f], `search.items: ${f}`)
    const { text, similar, description, code, name, mediaType } = options
    if ([text, similar, description, code, name, mediaType].every((x) => x === undefined)) {
      throw new InvalidArgumentError('search.items needs at least one of text, similar, description, code, name, mediaType')
    }
    // The lists in play: every live list, narrowed by `lists` and `type`.
    let rows = ctx.db
      .all('SELECT id, name, type, dim, length FROM item_lists WHERE deleted_at IS NULL ORDER BY id')
      .map((r) => ({ id: r[0] as number, name: r[1] as string, type: r[2] as ListType, dim: r[3] as number | null, length: r[4] as number }))
    if (options.lists !== undefined) {
      if (!Array.isArray(options.lists)) throw new InvalidArgumentError('search.items: lists must be an array of list names')
      const wanted = new Set(options.lists.map((n) => (checkListName(n), liveList(ctx.db, n).id)))
      rows = rows.filter((r) => wanted.has(r.id))
    }
    if (options.type !== undefined) {
      if (!LIST_TYPES.includes(options.type)) throw new InvalidArgumentError(`search.items: type must be one of ${LIST_TYPES.join(', ')}, got ${describe(options.type)}`)
      rows = rows.filter((r) => r.type === options.type)
    }
    const byId = new Map(rows.map((r) => [r.id, r]))
    const allowed = new Set(byId.keys())
    // An item's key: its list and index. A string, as an index may reach 2^40 (explicit-index
    // appends): packed into one number with the list id it would lose digits.
    const key = (list: number, index: number): string => `${list}:${index}`
    /** Each kind given: the items it admits, with their score under that kind. */
    const sets: { rank: number; hits: Map<string, number> }[] = []

    if (similar !== undefined) {
      const q = similar instanceof Float32Array ? similar : Array.isArray(similar) ? Float32Array.from(similar) : undefined
      if (!q || q.length === 0 || !q.every(Number.isFinite)) throw new InvalidArgumentError('search.items: similar must be a non-empty vector of finite numbers')
      checkQueryVector(q, 'search.items: similar')
      const query = unitVector(q)
      const hits = new Map<string, number>()
      for (const r of rows) {
        if (r.type !== 'embedding' || r.dim !== q.length || r.length === 0) continue
        const m = await this.core.vectors.matrix(ctx, r.id, r.dim)
        const scores = m.scoreAll(query)
        // One score per stored vector (gaps left by explicit indexes have none).
        for (let row = 0; row < scores.length; row++) hits.set(key(r.id, m.indexOf(row)), scores[row]!)
      }
      sets.push({ rank: 0, hits })
    }
    if (text !== undefined) {
      const total = rows.reduce((n, r) => n + (r.type === 'document' || r.type === 'record' ? r.length : 0), 0)
      const matches = this.core.text(ctx.db).search(text, { kinds: new Set(SOURCES.items), lists: allowed, limit: total })
      sets.push({ rank: 1, hits: new Map(matches.map((m) => [key(m.owner, m.ref), m.score])) })
    }
    if (description !== undefined) {
      const count = (ctx.db.get('SELECT count(*) FROM item_descriptions')?.[0] as number) ?? 0
      const matches = this.core.text(ctx.db).search(description, { kinds: new Set(SOURCES.descriptions), lists: allowed, limit: count })
      const hits = new Map<string, number>()
      for (const m of matches) {
        const row = byId.get(m.owner)
        const d = ctx.db.get('SELECT start, end FROM item_descriptions WHERE id = ?', [m.ref])
        if (!row || !d) continue
        const end = (d[1] as number) < 0 ? row.length : Math.min(d[1] as number, row.length)
        for (const i of itemsWithin(ctx.db, row, d[0] as number, end)) {
          const at = key(row.id, i)
          hits.set(at, Math.max(hits.get(at) ?? -Infinity, m.score))
        }
      }
      sets.push({ rank: 2, hits })
    }
    if (code !== undefined) {
      const hits = new Map<string, number>()
      const sessions = ctx.db.all('SELECT DISTINCT session FROM item_cells WHERE instr(code, ?) > 0', [code]).map((r) => r[0] as number)
      if (sessions.length > 0) {
        const appends = ctx.db.all(`SELECT list, start, end FROM item_events WHERE kind = 1 AND session IN (${sessions.map(() => '?').join(', ')})`, sessions)
        for (const [list, start, end] of appends as [number, number, number][]) {
          if (!allowed.has(list)) continue
          for (let i = start; i < end; i++) hits.set(key(list, i), 1)
        }
      }
      sets.push({ rank: 3, hits })
    }
    if (name !== undefined || mediaType !== undefined) {
      const needle = name?.toLowerCase()
      const hits = new Map<string, number>()
      for (const r of rows) {
        if (r.type !== 'file') continue
        ctx.db.each('SELECT idx, meta FROM items WHERE list = ?', [r.id], (row) => {
          const m = JSON.parse(row[1] as string) as { name: string; type: string }
          if (needle !== undefined && !m.name.toLowerCase().includes(needle)) return
          if (mediaType !== undefined && !(mediaType.endsWith('/') ? m.type.startsWith(mediaType) : m.type === mediaType)) return
          hits.set(key(r.id, row[0] as number), 1)
        })
      }
      sets.push({ rank: 3, hits })
    }

    // AND: walk the smallest set, keep what every other set holds; score by the best-ranked kind.
    const smallest = sets.reduce((a, b) => (b.hits.size < a.hits.size ? b : a))
    const scorer = sets.reduce((a, b) => (b.rank < a.rank ? b : a))
    const out: { list: number; index: number; score: number }[] = []
    for (const at of smallest.hits.keys()) {
      if (!sets.every((s) => s.hits.has(at))) continue
      const colon = at.indexOf(':')
      out.push({ list: Number(at.slice(0, colon)), index: Number(at.slice(colon + 1)), score: scorer.hits.get(at)! })
    }
    out.sort((a, b) => b.score - a.score || a.list - b.list || a.index - b.index)
    return out.slice(0, k).map((h) => ({ list: byId.get(h.list)!.name, index: h.index, score: h.score }))
  }

  /** Items appended by sessions whose code (any cell) contains `substring` (case-sensitive), oldest first. */
  async code(ctx: CallContext, substring: string, options: CodeSearchOptions = {}): Promise<ItemHit[]> {
    if (typeof substring !== 'string' || substring.length === 0) throw new InvalidArgumentError(`code search needs a non-empty string, got ${describe(substring)}`)
    checkQuery(substring, 'the code query')
    options ??= {}
    const limit = checkLimit(options.limit, 1000, 'limit')
    const lists = options.lists === undefined ? undefined : listIds(ctx.db, options.lists)
    const sessions = ctx.db.all('SELECT DISTINCT session FROM item_cells WHERE instr(code, ?) > 0', [substring]).map((r) => r[0] as number)
    if (sessions.length === 0) return []
    const names = listNames(ctx.db)
    const out: ItemHit[] = []
    // Appends in order; deleted lists' appends are skipped (their items are gone).
    const appends = ctx.db.all(
      `SELECT e.list, e.start, e.end FROM item_events e JOIN item_lists l ON l.id = e.list
       WHERE e.kind = 1 AND l.deleted_at IS NULL AND e.session IN (${sessions.map(() => '?').join(', ')}) ORDER BY e.id`,
      sessions,
    )
    for (const [list, start, end] of appends as [number, number, number][]) {
      if (lists && !lists.has(list)) continue
      for (let i = start; i < end && out.length < limit; i++) out.push({ list: names.get(list)!, index: i, score: 1 })
      if (out.length >= limit) break
    }
    return out
  }
}
