import { decodeValue } from '../../../codec/value-codec.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import { EventKind, lastEvent, NO_EVENTS, OVERWROTE, stillHolds, type EventMark } from './items-schema.js'
import { recordText, tokenize } from './tokenize.js'
import { documentText } from './list-rows.js'

/** What a text-index entry is. */
export const DocKind = { Document: 0, Record: 1, Description: 2, Code: 3 } as const

/** One ranked entry. */
export interface TextMatch {
  kind: number
  /** The list (items, descriptions) or the session (code). */
  owner: number
  /** Item index, description id, or cell number. */
  ref: number
  score: number
}

/** Filters of a query. */
export interface TextFilter {
  /** Which DocKinds to return. */
  kinds: ReadonlySet<number>
  /** Only entries of these list ids (code entries are not filtered by list). */
  lists?: ReadonlySet<number>
  limit: number
}

const K1 = 1.2
const B = 0.75

/**
 * An in-memory inverted index with BM25 ranking over documents, records, descriptions and session
 * code. SQLite stays the source of truth: the index is derived from it, built lazily at the first
 * query and then kept current by following the `item_events` journal (appends apply their own
 * items right after they commit; anything else is caught up before each query; a journal that was
 * rewritten by a rollback makes it rebuild).
 *
 * Why not FTS4 (which sql.js has): measured on 100k short documents, FTS4 with matchinfo() costs
 * ~3 µs per matching row, so a term in half the documents takes ~170 ms to rank and even a rare
 * term ~1.8 ms; inserting 100k rows into it takes ~1.6 s. Postings in JS arrays rank the same
 * queries in well under a millisecond, and indexing costs only tokenizing.
 *
 * Postings: per term one packed array `[doc, tf, doc, tf, …]`, doc numbers ascending (entries are
 * numbered in the order they are indexed), so an AND of terms is a merge of sorted lists.
 */
export class TextIndex {
  mark: EventMark = NO_EVENTS
  private kinds = new Uint8Array(1024)
  private owners = new Int32Array(1024)
  // Float64: a ref is an item index, and explicit-index appends reach 2^40 (an Int32Array wrapped
  // an item at 2^31 + 5 to -2^31 + 5 and one at 2^40 to 0: search named the wrong item).
  private refs = new Float64Array(1024)
  private lengths = new Int32Array(1024)
  private count = 0
  private totalLength = 0
  private readonly postings = new Map<string, number[]>()
  private readonly dead = new Set<number>()
  private listTypes = new Map<number, string>()

  /** Number of indexed entries. */
  get size(): number {
    return this.count
  }

  /** Bring the index up to the journal's end (rebuilding when the journal was rewritten). */
  refresh(db: SqliteDatabase): TextIndex {
    const last = lastEvent(db)
    if (last.id === this.mark.id && last.stamp === this.mark.stamp) return this
    const rewritten = !stillHolds(db, this.mark) || last.id < this.mark.id
    // An append that replaced items (explicit index) leaves stale entries behind, and a deleted
    // list leaves entries that search skips but BM25's statistics (entry count, average length,
    // document frequencies) still counted: a deleted list's text changed the scores of live items
    // until something else made the index rebuild. Either: start afresh.
    const stale = 'SELECT 1 FROM item_events WHERE id > ? AND id <= ? AND ((kind = ? AND ref = ?) OR kind = ?) LIMIT 1'
    const changed = (from: number): boolean => db.get(stale, [from, last.id, EventKind.Append, OVERWROTE, EventKind.DeleteList]) !== undefined
    const replaced = !rewritten && changed(this.mark.id)
    if (rewritten || replaced) {
      const fresh = new TextIndex()
      // Replaying the journal would index a replaced item once per append that wrote it, and a
      // deleted list's items: when the journal holds such events, index what the tables hold now.
      if (replaced || changed(0)) fresh.build(db, last)
      else fresh.catchUp(db, last)
      return fresh
    }
    this.catchUp(db, last)
    return this
  }

  /** Index what the tables hold now (items of live lists, descriptions, session code), as of `last`. */
  private build(db: SqliteDatabase, last: EventMark): void {
    this.listTypes = new Map()
    const lists: [number, string, boolean][] = []
    db.each('SELECT id, type, deleted_at FROM item_lists ORDER BY id', [], (r) => {
      this.listTypes.set(r[0] as number, r[1] as string)
      lists.push([r[0] as number, r[1] as string, r[2] !== null])
    })
    for (const [list, type, deleted] of lists) {
      if (deleted) this.dead.add(list)
      else if (type === 'document') db.each('SELECT idx, body FROM items WHERE list = ? ORDER BY idx', [list], (r) => this.add(DocKind.Document, list, r[0] as number, documentText(r[1]!)))
      else if (type === 'record') db.each('SELECT idx, body FROM items WHERE list = ? ORDER BY idx', [list], (r) => this.add(DocKind.Record, list, r[0] as number, recordText(decodeValue(r[1] as Uint8Array)).join(' ')))
    }
    // Descriptions of live lists only, as items: a deleted list's entries would weigh in the ranking.
    db.each('SELECT d.id, d.list, d.text FROM item_descriptions d JOIN item_lists l ON l.id = d.list WHERE l.deleted_at IS NULL ORDER BY d.id', [], (r) =>
      this.add(DocKind.Description, r[1] as number, r[0] as number, r[2] as string),
    )
    db.each('SELECT session, cell, code FROM item_cells ORDER BY session, cell', [], (r) => this.add(DocKind.Code, r[0] as number, r[1] as number, r[2] as string))
    this.mark = last
  }

  private catchUp(db: SqliteDatabase, last: EventMark): void {
    this.listTypes = new Map()
    db.each('SELECT id, type FROM item_lists', [], (r) => this.listTypes.set(r[0] as number, r[1] as string))
    const events: number[][] = []
    db.each('SELECT kind, list, start, end, ref, cell FROM item_events WHERE id > ? AND id <= ? ORDER BY id', [this.mark.id, last.id], (r) =>
      events.push(r as number[]),
    )
    for (const [kind, list, start, end, ref, cell] of events) {
      if (kind === EventKind.Append) {
        const type = this.listTypes.get(list!)
        if (type !== 'document' && type !== 'record') continue
        db.each('SELECT idx, body FROM items WHERE list = ? AND idx >= ? AND idx < ?', [list!, start!, end!], (r) => {
          if (type === 'document') this.add(DocKind.Document, list!, r[0] as number, documentText(r[1]!))
          else this.add(DocKind.Record, list!, r[0] as number, recordText(decodeValue(r[1] as Uint8Array)).join(' '))
        })
      } else if (kind === EventKind.Describe) {
        const d = db.get('SELECT list, text FROM item_descriptions WHERE id = ?', [ref!])
        if (d) this.add(DocKind.Description, d[0] as number, ref!, d[1] as string)
      } else if (kind === EventKind.Cell) {
        const c = db.get('SELECT code FROM item_cells WHERE session = ? AND cell = ?', [ref!, cell!])
        if (c) this.add(DocKind.Code, ref!, cell!, c[0] as string)
      } else if (kind === EventKind.DeleteList) {
        this.dead.add(list!)
      }
    }
    this.mark = last
  }

  /**
   * Index items that were just committed by an append, when the index stood exactly at the event
   * before it (`previous`); otherwise leave them to the next refresh.
   */
  applyAppend(previous: EventMark, mark: EventMark, kind: number, list: number, start: number, texts: string[]): void {
    if (this.mark.id !== previous.id || this.mark.stamp !== previous.stamp) return
    for (let i = 0; i < texts.length; i++) this.add(kind, list, start + i, texts[i]!)
    this.mark = mark
  }

  private add(kind: number, owner: number, ref: number, text: string): void {
    const doc = this.count++
    if (doc === this.kinds.length) this.grow()
    const tokens = tokenize(text)
    this.kinds[doc] = kind
    this.owners[doc] = owner
    this.refs[doc] = ref
    this.lengths[doc] = tokens.length
    this.totalLength += tokens.length
    for (const t of tokens) {
      let p = this.postings.get(t)
      if (!p) this.postings.set(t, (p = []))
      // Repeats of a token in one text are adjacent in its postings: bump the tf instead.
      if (p.length > 0 && p[p.length - 2] === doc) p[p.length - 1]!++
      else p.push(doc, 1)
    }
  }

  private grow(): void {
    const n = this.kinds.length * 2
    const k = new Uint8Array(n)
    k.set(this.kinds)
    this.kinds = k
    const o = new Int32Array(n)
    o.set(this.owners)
    this.owners = o
    const r = new Float64Array(n)
    r.set(this.refs)
    this.refs = r
    const l = new Int32Array(n)
    l.set(this.lengths)
    this.lengths = l
  }

  /** The best entries containing every token of `query`, BM25-ranked. */
  search(query: string, filter: TextFilter): TextMatch[] {
    const terms = [...new Set(tokenize(query))]
    if (terms.length === 0 || this.count === 0 || filter.limit <= 0) return []
    const lists: number[][] = []
    for (const t of terms) {
      const p = this.postings.get(t)
      if (!p) return []
      lists.push(p)
    }
    lists.sort((a, b) => a.length - b.length)
    const n = this.count
    const avg = this.totalLength / n
    const idf = lists.map((p) => {
      const df = p.length / 2
      return Math.log(1 + (n - df + 0.5) / (df + 0.5))
    })
    const kindOk = new Uint8Array(4)
    for (const k of filter.kinds) kindOk[k] = 1
    // Equal scores rank by what the entry is, never by when it was indexed: entry numbers follow
    // the order items were indexed in (appends as they came live, list by list when the index is
    // rebuilt from the tables), so ties came back in one order live and another after a rebuild
    // or a reopen. Items (documents and records alike) by list (oldest first) then index, then
    // descriptions by list and id, then code by session and cell.
    const group = (doc: number): number => Math.max(this.kinds[doc]!, DocKind.Record)
    const after = (a: number, b: number): boolean =>
      group(a) !== group(b) ? group(a) > group(b) : this.owners[a] !== this.owners[b] ? this.owners[a]! > this.owners[b]! : this.refs[a]! > this.refs[b]!
    const top = new TopK(filter.limit, after)
    const first = lists[0]!
    const cursors = new Int32Array(lists.length)
    const lengths = this.lengths
    const norm = (doc: number): number => K1 * (1 - B + (B * lengths[doc]!) / avg)
    outer: for (let i = 0; i < first.length; i += 2) {
      const doc = first[i]!
      const kind = this.kinds[doc]!
      if (!kindOk[kind]) continue
      if (kind !== DocKind.Code) {
        const owner = this.owners[doc]!
        if (this.dead.has(owner) || (filter.lists && !filter.lists.has(owner))) continue
      }
      const nd = norm(doc)
      let tf = first[i + 1]!
      let score = (idf[0]! * tf * (K1 + 1)) / (tf + nd)
      for (let j = 1; j < lists.length; j++) {
        const p = lists[j]!
        const at = seek(p, cursors[j]!, doc)
        cursors[j] = at
        if (at >= p.length || p[at] !== doc) continue outer
        tf = p[at + 1]!
        score += (idf[j]! * tf * (K1 + 1)) / (tf + nd)
      }
      top.push(score, doc)
    }
    return top.sorted().map(([score, doc]) => ({ kind: this.kinds[doc]!, owner: this.owners[doc]!, ref: this.refs[doc]!, score }))
  }
}

/** First position ≥ `from` (even) in a `[doc, tf, …]` array whose doc is ≥ `doc`: galloping search. */
function seek(p: number[], from: number, doc: number): number {
  const n = p.length / 2
  let lo = from / 2
  if (lo >= n || p[lo * 2]! >= doc) return lo * 2
  let step = 1
  let hi = lo + 1
  while (hi < n && p[hi * 2]! < doc) {
    lo = hi
    step *= 2
    hi = lo + step
  }
  if (hi > n) hi = n
  // p[lo] < doc ≤ p[hi] (or hi = n)
  while (lo + 1 < hi) {
    const mid = (lo + hi) >>> 1
    if (p[mid * 2]! < doc) lo = mid
    else hi = mid
  }
  return hi * 2
}

/**
 * Keeps the k best (score, id) pairs — higher score first, and between equal scores the lower id (or
 * the order the constructor's `after` gives) —
 * in a binary heap whose root is the worst kept, so each push is O(log k). The result depends only
 * on the pairs pushed, not on their order.
 */
export class TopK {
  private scores: Float64Array
  private ids: Float64Array
  private n = 0

  /**
   * @param after Between equal scores, true when id `a` ranks after id `b`; by default the higher id
   *   ranks after.
   */
  constructor(
    private readonly k: number,
    private readonly after?: (a: number, b: number) => boolean,
  ) {
    // The heap grows as pairs come, up to k: a k of the caller's (search's `limit: 2 ** 53`, any k
    // past the items there are) allocated k slots at once, a raw RangeError or gigabytes for nothing.
    this.scores = new Float64Array(Math.max(1, Math.min(k, 1024)))
    this.ids = new Float64Array(this.scores.length)
  }

  private grow(): void {
    const size = Math.min(this.k, this.scores.length * 2)
    const scores = new Float64Array(size)
    const ids = new Float64Array(size)
    scores.set(this.scores)
    ids.set(this.ids)
    this.scores = scores
    this.ids = ids
  }

  /** The smallest score kept, once full (a candidate must reach it). */
  get threshold(): number {
    return this.n < this.k ? -Infinity : this.scores[0]!
  }

  /** True when (score a, id ia) ranks below (score b, id ib). */
  private worse(a: number, ia: number, b: number, ib: number): boolean {
    return a < b || (a === b && (this.after ? this.after(ia, ib) : ia > ib))
  }

  push(score: number, id: number): void {
    if (this.n < this.k && this.n === this.scores.length) this.grow()
    const s = this.scores
    const ids = this.ids
    if (this.n < this.k) {
      let i = this.n++
      while (i > 0) {
        const parent = (i - 1) >> 1
        if (!this.worse(score, id, s[parent]!, ids[parent]!)) break
        s[i] = s[parent]!
        ids[i] = ids[parent]!
        i = parent
      }
      s[i] = score
      ids[i] = id
      return
    }
    if (!this.worse(s[0]!, ids[0]!, score, id)) return
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= this.n) break
      const r = l + 1
      const c = r < this.n && this.worse(s[r]!, ids[r]!, s[l]!, ids[l]!) ? r : l
      if (!this.worse(s[c]!, ids[c]!, score, id)) break
      s[i] = s[c]!
      ids[i] = ids[c]!
      i = c
    }
    s[i] = score
    ids[i] = id
  }

  /** Kept pairs, best first (ties: as `after` orders them, by default the lower id first). */
  sorted(): [number, number][] {
    const out: [number, number][] = []
    for (let i = 0; i < this.n; i++) out.push([this.scores[i]!, this.ids[i]!])
    return out.sort((a, b) => b[0] - a[0] || (this.after ? (this.after(a[1], b[1]) ? 1 : this.after(b[1], a[1]) ? -1 : 0) : a[1] - b[1]))
  }
}
