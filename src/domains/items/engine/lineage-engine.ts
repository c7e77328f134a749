import type { CallContext } from '../../../engine/context.js'
import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import type { LineageEdge, LineageNode, LineageWalkOptions } from '../shared/item-types.js'
import { checkListName, findList, itemRangesOf, listById, type ListRow } from './list-rows.js'
import { hasUpserts } from './items-schema.js'

const DEFAULT_DEPTH = 16
/** A walk returns at most this many nodes unless told otherwise (a guard against pathological graphs). */
const MAX_NODES = 100_000

interface RawEdge {
  /** The edge's rowid: identity (one edge met through two ranges is one) and order among equals. */
  rowid: number
  event: number
  childList: number
  childStart: number
  childEnd: number
  parentList: number
  parentStart: number
  parentEnd: number
}

/** A list by name for lineage: deleted lists stay answerable. */
function anyList(db: SqliteDatabase, name: unknown): ListRow {
  checkListName(name)
  const row = findList(db, name)
  if (!row) throw new NotFoundError(`item list "${name}" does not exist`)
  return row
}

const PARENT_COLUMNS = 'child_start, child_end, parent_list, parent_start, parent_end, event, rowid'
const PARENT_ORDER = 'ORDER BY child_start, parent_list, parent_start, rowid'

/**
 * A finder of the edges whose child range overlaps `[s, e)` of list `list`, in parentOrder. Made
 * once per query or walk and list: what it learns about the list (its shape, its longest child
 * range) holds for the whole call, which runs in one turn.
 *
 * On a list that took no explicit-index append, every edge's child range is a whole append's
 * (`parents`) or one item's (`itemParents`), so an edge that starts before s and still covers it is
 * the whole append's holding s (replacements, which leave parts of appends' edges, make the list
 * take the other path). Only those and the edges
 * starting inside `[s, e)` are read, through the child index: a walk up a chain of items that one
 * append made (or many single-item appends) costs the same at every step. Scanning from the start
 * of the append holding s, as before, read every item edge in between: quadratic over a long chain.
 */
function parentEdgeFinder(db: SqliteDatabase, list: number): (s: number, e: number) => RawEdge[] {
  const toRaw = (r: SqlValue[]): RawEdge => ({ rowid: r[6] as number, event: r[5] as number, childList: list, childStart: r[0] as number, childEnd: r[1] as number, parentList: r[2] as number, parentStart: r[3] as number, parentEnd: r[4] as number })
  const inside = (s: number, e: number): RawEdge[] =>
    db.all(`SELECT ${PARENT_COLUMNS} FROM item_lineage WHERE child_list = ? AND child_start >= ? AND child_start < ? ${PARENT_ORDER}`, [list, s, e]).map(toRaw)
  if (hasUpserts(db, list)) {
    // Explicit-index appends overlap, so several appends may cover s: an edge covering s starts at
    // most (the longest child range of the list) - 1 before it. One scan of the list's edges per call.
    const span = (db.get('SELECT max(child_end - child_start) FROM item_lineage WHERE child_list = ?', [list])?.[0] as number | null) ?? 0
    return (s, e) => {
      if (span <= 1) return inside(s, e)
      return db.all(`SELECT ${PARENT_COLUMNS} FROM item_lineage WHERE child_list = ? AND child_start > ? AND child_start < ? AND child_end > ? ${PARENT_ORDER}`, [list, s - span, e, s]).map(toRaw)
    }
  }
  // Appends of a list without explicit indexes follow each other: one append holds s, the last
  // starting at or before it, and its whole-append edges are the only ones starting before s.
  return (s, e) => {
    const start = db.get('SELECT max(start) FROM item_events WHERE kind = 1 AND list = ? AND start <= ?', [list, s])?.[0] as number | null
    const covering = start !== null && start !== undefined && start < s
      ? db.all(`SELECT ${PARENT_COLUMNS} FROM item_lineage WHERE child_list = ? AND child_start = ? AND child_end > ? ${PARENT_ORDER}`, [list, start, s]).map(toRaw)
      : []
    return covering.length > 0 ? [...covering, ...inside(s, e)] : inside(s, e)
  }
}

/** Edges whose parent range overlaps `[s, e)` of list `list`. */
function childEdges(db: SqliteDatabase, list: number, maxSpan: number, s: number, e: number): RawEdge[] {
  // An overlapping parent range starts after s - (the longest parent range ever recorded on this list).
  return db
    .all('SELECT child_list, child_start, child_end, parent_start, parent_end, event, rowid FROM item_lineage WHERE parent_list = ? AND parent_start >= ? AND parent_start < ? AND parent_end > ? ORDER BY child_list, child_start, rowid', [list, s - maxSpan, e, s])
    .map((r) => ({ rowid: r[6] as number, event: r[5] as number, childList: r[0] as number, childStart: r[1] as number, childEnd: r[2] as number, parentList: list, parentStart: r[3] as number, parentEnd: r[4] as number }))
}

/** Merge overlapping or touching ranges. */
function mergeRanges(ranges: [number, number][]): [number, number][] {
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  const out: [number, number][] = []
  for (const r of ranges) {
    const last = out[out.length - 1]
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1])
    else out.push([r[0], r[1]])
  }
  return out
}

/**
 * The item ranges a query names: `[start, end)`, with an empty range meaning the single item at
 * start; in characters (documents), the runs of documents overlapping them.
 */
function queryRanges(db: SqliteDatabase, row: ListRow, range: { start?: number; end?: number; unit?: unknown } | undefined): [number, number][] {
  // A number (`parents('x', 5)`) or an array has no start or end: it was taken for the whole list.
  if (range !== undefined && range !== null && (typeof range !== 'object' || Array.isArray(range))) {
    throw new InvalidArgumentError(`lineage of "${row.name}": a range is { start, end, unit }, got ${Array.isArray(range) ? 'an array' : typeof range}`)
  }
  return itemRangesOf(db, row, range ?? undefined, `lineage of "${row.name}"`)
}

/** The edges found over several ranges, each once, in the order one query would give them. */
function edgesOver(ranges: [number, number][], find: (s: number, e: number) => RawEdge[], order: (a: RawEdge, b: RawEdge) => number): RawEdge[] {
  if (ranges.length === 1) return find(ranges[0]![0], ranges[0]![1])
  const byId = new Map<number, RawEdge>()
  for (const [s, e] of ranges) for (const edge of find(s, e)) byId.set(edge.rowid, edge)
  return [...byId.values()].sort(order)
}

const parentOrder = (a: RawEdge, b: RawEdge): number => a.childStart - b.childStart || a.parentList - b.parentList || a.parentStart - b.parentStart || a.rowid - b.rowid
const childOrder = (a: RawEdge, b: RawEdge): number => a.childList - b.childList || a.childStart - b.childStart || a.rowid - b.rowid

/**
 * The engine side of `vault.lineage`: which item ranges an item range was derived from (parents)
 * and which were derived from it (children), and walks over that graph. Edges outlive deleted
 * lists: they are reported with the deleted list's name and a `deleted` flag.
 */
export class LineageEngine {
  async parents(ctx: CallContext, list: string, range?: { start?: number; end?: number }): Promise<LineageEdge[]> {
    const row = anyList(ctx.db, list)
    const ranges = queryRanges(ctx.db, row, range)
    return this.toEdges(ctx.db, edgesOver(ranges, parentEdgeFinder(ctx.db, row.id), parentOrder))
  }

  async children(ctx: CallContext, list: string, range?: { start?: number; end?: number }): Promise<LineageEdge[]> {
    const row = anyList(ctx.db, list)
    const ranges = queryRanges(ctx.db, row, range)
    return this.toEdges(ctx.db, edgesOver(ranges, (s, e) => childEdges(ctx.db, row.id, row.maxParentSpan, s, e), childOrder))
  }

  /** Everything `list[start, end)` derives from, transitively, nearest first. */
  async ancestors(ctx: CallContext, list: string, options?: LineageWalkOptions): Promise<LineageNode[]> {
    return this.walk(ctx.db, list, options, 'up')
  }

  /** Everything derived from `list[start, end)`, transitively, nearest first. */
  async descendants(ctx: CallContext, list: string, options?: LineageWalkOptions): Promise<LineageNode[]> {
    return this.walk(ctx.db, list, options, 'down')
  }

  private walk(db: SqliteDatabase, list: string, options: LineageWalkOptions | undefined, direction: 'up' | 'down'): LineageNode[] {
    const row = anyList(db, list)
    const start = queryRanges(db, row, options)
    const maxDepth = options?.depth ?? DEFAULT_DEPTH
    if (typeof maxDepth !== 'number' || !Number.isInteger(maxDepth) || maxDepth < 0) throw new InvalidArgumentError('depth must be a non-negative integer')
    const maxNodes = options?.maxNodes ?? MAX_NODES
    if (typeof maxNodes !== 'number' || !Number.isInteger(maxNodes) || maxNodes < 1) throw new InvalidArgumentError('maxNodes must be a positive integer')
    const lists = new Map<number, ListRow | undefined>([[row.id, row]])
    const finders = new Map<number, (s: number, e: number) => RawEdge[]>()
    const parentsOf = (id: number): ((s: number, e: number) => RawEdge[]) => {
      let find = finders.get(id)
      if (!find) finders.set(id, (find = parentEdgeFinder(db, id)))
      return find
    }
    const rowOf = (id: number): ListRow | undefined => {
      if (!lists.has(id)) lists.set(id, listById(db, id))
      return lists.get(id)
    }
    // Ranges already reached per list: a range reached again (a diamond or a cycle) is not re-walked.
    const seen = new Map<number, [number, number][]>([[row.id, start]])
    let frontier = new Map<number, [number, number][]>(start.length > 0 ? [[row.id, start]] : [])
    const out: LineageNode[] = []
    // Before, the guard was looked at between depths only (a walk could return 150,001 nodes) and a
    // walk it stopped looked complete: now it stops at maxNodes and says so on its last node.
    for (let depth = 1; depth <= maxDepth && frontier.size > 0; depth++) {
      const reached = new Map<number, [number, number][]>()
      for (const [id, ranges] of frontier) {
        const r = rowOf(id)
        for (const [a, b] of ranges) {
          const edges = direction === 'up' ? parentsOf(id)(a, b) : childEdges(db, id, r?.maxParentSpan ?? 0, a, b)
          for (const edge of edges) {
            const [to, ts, te] = direction === 'up' ? [edge.parentList, edge.parentStart, edge.parentEnd] : [edge.childList, edge.childStart, edge.childEnd]
            let bucket = reached.get(to)
            if (!bucket) reached.set(to, (bucket = []))
            bucket.push([ts, te])
          }
        }
      }
      frontier = new Map()
      for (const [id, ranges] of reached) {
        const fresh = subtract(mergeRanges(ranges), seen.get(id) ?? [])
        if (fresh.length === 0) continue
        seen.set(id, mergeRanges([...(seen.get(id) ?? []), ...fresh]))
        frontier.set(id, fresh)
        const r = rowOf(id)
        for (const [a, b] of fresh) {
          if (out.length === maxNodes) {
            out[out.length - 1]!.truncated = true
            return out
          }
          const node: LineageNode = { list: r?.name ?? `#${id}`, start: a, end: b, depth }
          if (r?.deleted) node.deleted = true
          out.push(node)
        }
      }
    }
    return out
  }

  private toEdges(db: SqliteDatabase, raw: RawEdge[]): LineageEdge[] {
    const rows = new Map<number, ListRow | undefined>()
    const rowOf = (id: number): ListRow | undefined => {
      if (!rows.has(id)) rows.set(id, listById(db, id))
      return rows.get(id)
    }
    // Character ranges recorded with edges (unit 'chars'): the n-th row of a key belongs to the n-th
    // edge of that key by rowid (an append inserts its edges in characters first, in that order).
    // n counts every edge of the key, not only those this query found: a query over r[1, 2) finds
    // the whole append's edge r[0, 3) without r[0]'s own edge of the same key, which may come first.
    const keyWhere = 'child_list = ? AND child_start = ? AND event = ? AND parent_list = ? AND parent_start = ?'
    const charsOf = (r: RawEdge): { start: number; end: number } | undefined => {
      const key = [r.childList, r.childStart, r.event, r.parentList, r.parentStart]
      const row = db.get(`SELECT char_start, char_end FROM item_lineage_chars WHERE ${keyWhere} ORDER BY rowid LIMIT 1 OFFSET (SELECT count(*) FROM item_lineage WHERE ${keyWhere} AND rowid < ?)`, [...key, ...key, r.rowid])
      return row ? { start: row[0] as number, end: row[1] as number } : undefined
    }
    return raw.map((r) => {
      const c = rowOf(r.childList)
      const p = rowOf(r.parentList)
      const edge: LineageEdge = { child: c?.name ?? `#${r.childList}`, childStart: r.childStart, childEnd: r.childEnd, parent: p?.name ?? `#${r.parentList}`, parentStart: r.parentStart, parentEnd: r.parentEnd }
      const chars = charsOf(r)
      if (chars) edge.parentChars = chars
      if (c?.deleted) edge.childDeleted = true
      if (p?.deleted) edge.parentDeleted = true
      return edge
    })
  }
}

/** Parts of `ranges` (merged) not covered by `covered` (merged). */
function subtract(ranges: [number, number][], covered: [number, number][]): [number, number][] {
  const out: [number, number][] = []
  for (const [a0, b] of ranges) {
    let a = a0
    for (const [c, d] of covered) {
      if (d <= a || c >= b) continue
      if (c > a) out.push([a, c])
      a = Math.max(a, d)
      if (a >= b) break
    }
    if (a < b) out.push([a, b])
  }
  return out
}
