import type { CallContext } from '../../../../engine/context.js'
import { findList, type ListRow } from '../../../items/engine/list-rows.js'
import { LIST_KINDS } from '../../../items/engine/list-kinds.js'
import { EventKind, hasUpserts, lastEvent, stillHolds, type EventMark } from '../../../items/engine/items-schema.js'
import { distinctColumnNames, isoMs, unreadableData, type ColumnValues, type RelationDef, type RelationProvider, type RelationSink, type SqlColumnType } from './relation.js'
import { columnType, fieldValue, inferFieldTypes, mergeTypes, type InferredType } from './record-columns.js'
import { foldCase } from '../../shared/sql-names.js'

/** `lists`: one row per live item list. */
export const LISTS_RELATION: RelationDef = {
  schema: 'main',
  name: 'lists',
  columns: [
    { name: 'name', type: 'VARCHAR' },
    { name: 'type', type: 'VARCHAR' },
    { name: 'length', type: 'BIGINT' },
    { name: 'dim', type: 'BIGINT' },
    { name: 'fields', type: 'VARCHAR[]' },
    { name: 'created_at', type: 'TIMESTAMP' },
  ],
}

/** `lineage`: one row per lineage edge, by list name and item ranges (end exclusive). */
export const LINEAGE_RELATION: RelationDef = {
  schema: 'main',
  name: 'lineage',
  columns: ['child_list', 'child_start', 'child_end', 'parent_list', 'parent_start', 'parent_end'].map((name) => ({ name, type: name.endsWith('list') ? 'VARCHAR' : 'BIGINT' }) as const),
}

/** What the provider remembers between refreshes: where the journal stood, and each list's relation. */
interface ItemsState {
  mark: EventMark
  lists: Map<number, { length: number; def: RelationDef; types: InferredType[] }>
}

/** How many items a refresh reads at a time (bounds the memory of one step). */
const BATCH = 65_536

/**
 * The index column's name: `idx`, unless a record field has that name (in any case: DuckDB's
 * names are case-insensitive); then `item_idx`, or, when a field has that name too, the first of
 * `item_idx_2`, `item_idx_3`, … no field has.
 */
function indexColumn(row: ListRow): string {
  const fields = new Set((row.fields ?? []).map(foldCase))
  if (!fields.has('idx')) return 'idx'
  if (!fields.has('item_idx')) return 'item_idx'
  let n = 2
  while (fields.has(`item_idx_${n}`)) n++
  return `item_idx_${n}`
}

/** The relation of one list, for its type (records: the fields' inferred types). */
function listRelation(row: ListRow, types: InferredType[]): RelationDef {
  const idx = { name: indexColumn(row), type: 'BIGINT' as const }
  const columns: { name: string; type: SqlColumnType }[] = [idx]
  switch (row.type) {
    case 'document':
      columns.push({ name: 'text', type: 'VARCHAR' })
      break
    case 'embedding':
      columns.push({ name: 'embedding', type: 'FLOAT[]' })
      break
    case 'file':
      columns.push({ name: 'name', type: 'VARCHAR' }, { name: 'type', type: 'VARCHAR' }, { name: 'size', type: 'BIGINT' }, { name: 'hash', type: 'VARCHAR' })
      break
    case 'record':
      // Fields whose names clash (`a` and `A`) get distinct columns (relation.ts, distinctColumnNames).
      distinctColumnNames(row.fields!, [idx.name]).forEach((name, i) => columns.push({ name, type: columnType(types[i] ?? 'NULL') }))
      break
  }
  return { schema: 'items', name: row.name, columns }
}

/** Items [s, e) of a list as column values (and, for records, the fields' types over them). */
async function readItems(ctx: CallContext, row: ListRow, s: number, e: number): Promise<{ values: ColumnValues; records?: unknown[] }> {
  const idx = Array.from({ length: e - s }, (_, i) => s + i)
  const key = indexColumn(row)
  switch (row.type) {
    case 'document':
      return { values: { [key]: idx, text: (await LIST_KINDS.document.slice(ctx, row, s, e)) as unknown[] } }
    case 'embedding': {
      const flat = (await LIST_KINDS.embedding.slice(ctx, row, s, e)) as Float32Array
      const dim = row.dim!
      return { values: { [key]: idx, embedding: idx.map((_, i) => Array.from(flat.subarray(i * dim, (i + 1) * dim))) } }
    }
    case 'file': {
      const metas = ctx.db.all('SELECT meta, body FROM items WHERE list = ? AND idx >= ? AND idx < ? ORDER BY idx', [row.id, s, e])
      const parsed = metas.map((m) => JSON.parse(m[0] as string) as { name: string; type: string; size: number })
      return { values: { [key]: idx, name: parsed.map((m) => m.name), type: parsed.map((m) => m.type), size: parsed.map((m) => m.size), hash: metas.map((m) => m[1] as string) } }
    }
    case 'record': {
      const records = (await LIST_KINDS.record.slice(ctx, row, s, e)) as unknown[]
      return { values: { [key]: idx }, records }
    }
  }
}

/** Record values in their columns' types (field i is column i + 1, after the index; its name may differ from the field's). */
function recordColumns(row: ListRow, def: RelationDef, records: unknown[], into: ColumnValues): ColumnValues {
  row.fields!.forEach((f, i) => {
    const { name, type } = def.columns[i + 1]!
    // defineProperty: a field named `__proto__` is a column; `into[name] =` set the object's
    // prototype instead, the column had no values, and DuckDB's refusal failed every query.
    Object.defineProperty(into, name, { value: records.map((r) => fieldValue(type, (r as Record<string, unknown>)[f])), enumerable: true, writable: true, configurable: true })
  })
  return into
}

/** Index ranges `[s, e)`, in order; each holds only written items. */
type Runs = [number, number][]

/**
 * The written items of a list that took appends at explicit indexes, as runs of consecutive
 * indexes: the gaps between them were never written and have no row (a relation row per index up
 * to an item at 2^40 would never end; search skips gaps too). Vectors: the union of the segments.
 */
function writtenRuns(ctx: CallContext, row: ListRow): Runs {
  if (row.type === 'embedding') {
    const runs: Runs = []
    for (const [start, count] of ctx.db.all('SELECT start, count FROM item_vectors WHERE list = ? ORDER BY start', [row.id]) as [number, number][]) {
      const last = runs[runs.length - 1]
      if (last && start <= last[1]) last[1] = Math.max(last[1], start + count)
      else runs.push([start, start + count])
    }
    return runs
  }
  // Consecutive indexes share idx − rank (gaps and islands).
  return ctx.db.all(
    'SELECT min(idx), max(idx) + 1 FROM (SELECT idx, idx - row_number() OVER (ORDER BY idx) AS island FROM items WHERE list = ?) GROUP BY island ORDER BY 1',
    [row.id],
  ) as Runs
}

/** Write the items of `runs` of a non-record list: replace its relation or append to it. */
async function writeItems(ctx: CallContext, sink: RelationSink, row: ListRow, def: RelationDef, runs: Runs, replace: boolean): Promise<void> {
  if (replace) sink.replace(def, {}, 0)
  for (const [s, e] of runs) {
    for (let at = s; at < e; at += BATCH) {
      const end = Math.min(e, at + BATCH)
      sink.append(def, (await readItems(ctx, row, at, end)).values, end - at)
    }
  }
}

function sameTypes(a: readonly InferredType[], b: readonly InferredType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i])
}

/**
 * Write the records of `runs` of a record list in one pass, typing its columns from the values: an
 * append (`existing`) keeps the relation's types, a rebuild takes the first batch's. Resolves to the
 * relation and its types, or to `{ widen }` when a later batch needs wider types than the rows
 * already written (the caller rebuilds with them: types only widen, so this ends).
 */
async function writeRecords(
  ctx: CallContext, sink: RelationSink, row: ListRow, runs: Runs, existing: { def: RelationDef; types: InferredType[] } | undefined, start: InferredType[],
): Promise<{ def: RelationDef; types: InferredType[] } | { widen: InferredType[] }> {
  let types = existing?.types ?? start
  let def = existing?.def
  for (const [at, end] of batches(runs)) {
    const { values, records } = await readItems(ctx, row, at, end)
    const batch = inferFieldTypes(row.fields!, records!)
    const merged = types.length === 0 ? batch : types.map((t, i) => mergeTypes(t, batch[i]!))
    if (!sameTypes(merged, types)) {
      if (def) return { widen: merged }
      types = merged
    }
    if (!def) {
      def = listRelation(row, types)
      sink.replace(def, {}, 0)
    }
    sink.append(def, recordColumns(row, def, records!, values), end - at)
  }
  if (!def) {
    def = listRelation(row, types)
    sink.replace(def, {}, 0)
  }
  return { def, types }
}

/** `runs` cut into steps of at most BATCH items. */
function* batches(runs: Runs): Generator<[number, number]> {
  for (const [s, e] of runs) for (let at = s; at < e; at += BATCH) yield [at, Math.min(e, at + BATCH)]
}

/** A record list's relation brought up to date: appended to when its types hold, else rebuilt. */
async function syncRecords(ctx: CallContext, sink: RelationSink, row: ListRow, before: { length: number; def: RelationDef; types: InferredType[] } | undefined, all: () => Runs) {
  let result = before ? await writeRecords(ctx, sink, row, [[before.length, row.length]], before, []) : { widen: [] as InferredType[] }
  while ('widen' in result) result = await writeRecords(ctx, sink, row, all(), undefined, result.widen)
  return { length: row.length, ...result }
}

/**
 * Item lists: the `lists` catalog, one relation per live list in schema `items`, and `lineage`.
 * Lists only grow (items are appended, never changed) and the journal (`item_events`) says what
 * happened since the last refresh: while it still holds the event the relations were made at,
 * only the new items of each list are appended. Anything else (a rolled-back or rewritten journal,
 * a record field whose values change type) rebuilds the list's relation.
 */
export const itemRelations: RelationProvider<ItemsState> = {
  name: 'items',
  tables: ['item_lists', 'items', 'item_vectors', 'item_lineage', 'item_events'],
  async sync(ctx, sink, previous) {
    const db = ctx.db
    const holds = previous !== undefined && stillHolds(db, previous.mark)
    const mark = lastEvent(db)
    const live = db.all('SELECT name FROM item_lists WHERE deleted_at IS NULL ORDER BY id').map((r) => findList(db, r[0] as string)!)
    sink.replace(
      LISTS_RELATION,
      {
        name: live.map((l) => l.name),
        type: live.map((l) => l.type),
        length: live.map((l) => l.length),
        dim: live.map((l) => l.dim),
        fields: live.map((l) => l.fields),
        created_at: live.map((l) => isoMs(l.createdAt)),
      },
      live.length,
    )
    const lists = new Map<number, { length: number; def: RelationDef; types: InferredType[] }>()
    const relations: RelationDef[] = [LISTS_RELATION, LINEAGE_RELATION]
    const taken = new Set<string>()
    for (const row of live) {
      // DuckDB names are case-insensitive: of lists whose names differ only in case, the oldest has a relation.
      if (taken.has(foldCase(row.name))) continue
      taken.add(foldCase(row.name))
      const kept = holds ? previous.lists.get(row.id) : undefined
      // A list only grows: a shorter one than before was rolled back and rewritten. One that took an
      // append at an explicit index since may have had items replaced below its old length, or gaps
      // left (hasUpserts): it is rebuilt from the items written.
      const upserted = hasUpserts(db, row.id)
      const changed = upserted && kept !== undefined && db.get('SELECT 1 FROM item_events WHERE id > ? AND kind = ? AND list = ? LIMIT 1', [previous!.mark.id, EventKind.Append, row.id]) !== undefined
      const before = kept && kept.length <= row.length && !changed ? kept : undefined
      const all = (): Runs => (upserted ? writtenRuns(ctx, row) : [[0, row.length]])
      try {
        if (row.type === 'record') {
          lists.set(row.id, await syncRecords(ctx, sink, row, before, all))
        } else if (before) {
          await writeItems(ctx, sink, row, before.def, [[before.length, row.length]], false)
          lists.set(row.id, { ...before, length: row.length })
        } else {
          const def = listRelation(row, [])
          await writeItems(ctx, sink, row, def, all(), true)
          lists.set(row.id, { length: row.length, def, types: [] })
        }
      } catch (err) {
        // Vectors in a damaged blob fail this list's relation alone.
        if (!unreadableData(err)) throw err
        const def = before?.def ?? listRelation(row, [])
        sink.unreadable(def, err)
        lists.set(row.id, { length: 0, def, types: [] })
      }
      relations.push(lists.get(row.id)!.def)
    }
    // Lineage edges are appended with their event: follow the journal, or reload them all.
    const edgeSql = `SELECT c.name, e.child_start, e.child_end, p.name, e.parent_start, e.parent_end FROM item_lineage e
      JOIN item_lists c ON c.id = e.child_list JOIN item_lists p ON p.id = e.parent_list`
    const incremental = holds && !db.get('SELECT 1 FROM item_events WHERE id > ? AND kind = ? LIMIT 1', [previous.mark.id, EventKind.DeleteList])
    const edges = incremental ? db.all(`${edgeSql} WHERE e.event > ? ORDER BY e.event`, [previous.mark.id]) : db.all(`${edgeSql} WHERE c.deleted_at IS NULL ORDER BY e.event`)
    const cols = ['child_list', 'child_start', 'child_end', 'parent_list', 'parent_start', 'parent_end']
    const values = Object.fromEntries(cols.map((c, i) => [c, edges.map((r) => r[i])]))
    if (incremental) sink.append(LINEAGE_RELATION, values, edges.length)
    else sink.replace(LINEAGE_RELATION, values, edges.length)
    return { relations, state: { mark, lists } }
  },
}
