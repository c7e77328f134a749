import { tableFromIPC, type Vector } from 'apache-arrow'
import { keepingLeadingBoms } from '../../../../codec/arrow-strings.js'
import type { CallContext } from '../../../../engine/context.js'
import { parseTableDType, type TableDType } from '../../../tables/shared/table-dtypes.js'
import { distinctColumnNames, isoMs, unreadableData, type RelationDef, type RelationProvider, type SqlColumnType } from './relation.js'
import { foldCase } from '../../shared/sql-names.js'

// Versioned tables (src/domains/tables): `tables` and `table_instances` describe them; the data of
// each table's latest materialised active instance is `tables."<table>"`, and of every materialised
// instance `instances."<instance id>"`. An instance's data never changes once materialised, so a
// relation is written once and kept while its instance exists (the state remembers them).

const TABLES: RelationDef = {
  schema: 'main',
  name: 'tables',
  columns: [
    { name: 'name', type: 'VARCHAR' },
    { name: 'description', type: 'VARCHAR' },
    { name: 'allow_multiple_artifacts', type: 'BOOLEAN' },
    { name: 'has_side_effects', type: 'BOOLEAN' },
    { name: 'latest_instance', type: 'VARCHAR' },
    { name: 'created_at', type: 'TIMESTAMP' },
  ],
}

const INSTANCES: RelationDef = {
  schema: 'main',
  name: 'table_instances',
  columns: [
    { name: 'table_name', type: 'VARCHAR' },
    { name: 'instance_id', type: 'VARCHAR' },
    { name: 'version', type: 'VARCHAR' },
    { name: 'temporary', type: 'BOOLEAN' },
    { name: 'active', type: 'BOOLEAN' },
    { name: 'successful', type: 'BOOLEAN' },
    { name: 'rows', type: 'BIGINT' },
    { name: 'description', type: 'VARCHAR' },
    { name: 'created_at', type: 'TIMESTAMP' },
    { name: 'materialized_at', type: 'TIMESTAMP' },
  ],
}

/** The DuckDB column type of a table dtype (structured values as JSON text or bytes). */
function sqlType(dt: TableDType): SqlColumnType {
  switch (dt.kind) {
    case 'i32':
    case 'i64':
      return 'BIGINT'
    case 'f32':
    case 'f64':
      return 'DOUBLE'
    case 'bool':
      return 'BOOLEAN'
    case 'bytes':
    case 'msgpack':
    case 'cbor':
      return 'BLOB'
    case 'vec': {
      const t = dt.column!.vec!.name
      return t === 'f32' ? 'FLOAT[]' : t === 'f64' ? 'DOUBLE[]' : 'BIGINT[]'
    }
    default:
      return 'VARCHAR'
  }
}

/** A column's values as the sink takes them. */
function values(v: Vector, type: SqlColumnType): unknown[] {
  const out: unknown[] = new Array(v.length)
  for (let i = 0; i < v.length; i++) {
    const x = v.get(i) as unknown
    if (x === null || x === undefined) out[i] = null
    else if (type.endsWith('[]')) out[i] = Array.from((x as { toArray?: () => ArrayLike<unknown> }).toArray?.() ?? (x as ArrayLike<unknown>))
    else out[i] = x
  }
  return out
}

/** `[name, dtype, hash]` of an instance's columns, in order. */
function columnsOf(ctx: CallContext, tbl: number, instance: string): [string, string, string][] {
  return ctx.db.all('SELECT name, dtype, hash FROM tbl_columns WHERE tbl = ? AND instance = ? ORDER BY ord', [tbl, instance]) as [string, string, string][]
}

/** Write one instance's data (its columns `cols`, their blobs pinned by the caller) as relation `schema.name`. */
async function writeInstance(ctx: CallContext, sink: Parameters<RelationProvider['sync']>[1], def: RelationDef, cols: [string, string, string][], rows: number): Promise<RelationDef> {
  // No prototype: a column named "__proto__" is a key here, not the object's prototype (its values were lost: all NULL).
  const data: Record<string, unknown[]> = Object.create(null) as Record<string, unknown[]>
  for (const [i, [, , hash]] of cols.entries()) {
    // Read with a leading U+FEFF kept (arrow-js's reads drop it; codec/arrow-strings.ts).
    const column = keepingLeadingBoms(tableFromIPC(await ctx.blobs.get(hash)).getChildAt(0)!)
    // By position: the relation's column may be renamed (distinctColumnNames).
    data[def.columns[i]!.name] = values(column, def.columns[i]!.type)
  }
  sink.replace(def, data, rows)
  return def
}

/** What the provider wrote last: relation key → the instance it holds. */
type State = Record<string, string>

export const tableRelations: RelationProvider<State> = {
  name: 'tables',
  tables: ['tbl_tables', 'tbl_instances', 'tbl_columns'],
  async sync(ctx, sink, state) {
    const before: State = state ?? {}
    const now: State = {}
    const made: RelationDef[] = [TABLES, INSTANCES]
    const tables = ctx.db.all('SELECT id, name, description, multiple_artifacts, side_effects, created_at FROM tbl_tables ORDER BY name') as [number, string, string, number, number, string][]
    const instances = ctx.db.all(
      'SELECT i.tbl, t.name, i.id, i.version, i.temp, i.active, i.successful, i.rows, i.description, i.created_at, i.materialized_at, i.seq FROM tbl_instances i JOIN tbl_tables t ON t.id = i.tbl ORDER BY t.name, i.temp, i.seq',
    ) as [number, string, string, string, number, number, number, number, string, string, string | null, number][]
    const latest = new Map<number, (typeof instances)[number]>()
    for (const r of instances) if (!r[4] && r[5]) latest.set(r[0], r)
    sink.replace(TABLES, {
      name: tables.map((t) => t[1]), description: tables.map((t) => t[2]), allow_multiple_artifacts: tables.map((t) => t[3] !== 0),
      has_side_effects: tables.map((t) => t[4] !== 0), latest_instance: tables.map((t) => latest.get(t[0])?.[2] ?? null), created_at: tables.map((t) => isoMs(t[5])),
    }, tables.length)
    sink.replace(INSTANCES, {
      table_name: instances.map((r) => r[1]), instance_id: instances.map((r) => r[2]), version: instances.map((r) => r[3]), temporary: instances.map((r) => r[4] !== 0),
      active: instances.map((r) => r[5] !== 0), successful: instances.map((r) => r[6] !== 0), rows: instances.map((r) => r[7]), description: instances.map((r) => r[8]),
      created_at: instances.map((r) => isoMs(r[9])), materialized_at: instances.map((r) => isoMs(r[10])),
    }, instances.length)
    const want: [string, string, number, string, number][] = []
    // DuckDB names are case-insensitive: of tables whose names differ only in case (`Foo`, `foo`),
    // the oldest has a relation, as for lists and columns (else `tables."Foo"` read whichever was
    // written last).
    const taken = new Set<string>()
    for (const r of instances) if (!r[4] && !taken.has(foldCase(r[2]))) {
      taken.add(foldCase(r[2]))
      want.push(['instances', r[2], r[0], r[2], r[7]])
    }
    taken.clear()
    for (const [id, name] of [...tables].sort((a, b) => a[0] - b[0])) {
      const r = latest.get(id)
      if (!r || taken.has(foldCase(name))) continue
      taken.add(foldCase(name))
      want.push(['tables', name, id, r[2], r[7]])
    }
    // Every wanted instance's columns are read in this tick, with the instances, and the blobs of
    // those to load pinned until loaded: a call that deletes an instance while one loads (and a
    // checkpoint then) neither empties the later ones' column lists nor collects their blobs.
    const plans = want.map(([schema, name, tbl, instance, rows]) => {
      const key = `${schema}.${name}`
      const cols = columnsOf(ctx, tbl, instance)
      // Columns whose names clash (`a` and `A`) get distinct names (relation.ts, distinctColumnNames).
      const names = distinctColumnNames(cols.map(([n]) => n))
      const def: RelationDef = { schema, name, columns: cols.map(([, dtype], i) => ({ name: names[i]!, type: sqlType(parseTableDType(dtype)) })) }
      // Materialised data never changes: a relation already holding this instance is kept as is.
      return { key, instance, rows, cols, def, load: before[key] !== instance }
    })
    await ctx.blobs.reading(plans.flatMap((p) => (p.load ? p.cols.map((c) => c[2]) : [])), async () => {
      for (const p of plans) {
        try {
          made.push(p.load ? await writeInstance(ctx, sink, p.def, p.cols, p.rows) : p.def)
        } catch (err) {
          // A damaged column blob fails this instance's relation alone.
          if (!unreadableData(err)) throw err
          sink.unreadable(p.def, err)
          made.push(p.def)
          continue
        }
        now[p.key] = p.instance
      }
    })
    return { relations: made, state: now }
  },
}
