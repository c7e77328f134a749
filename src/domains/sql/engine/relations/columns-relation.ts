import type { CallContext } from '../../../../engine/context.js'
import { decodeMany, parseDType, type DType } from '../../../columns/shared/dtypes.js'
import { isoMs, jsonText, unreadableData, type RelationDef, type RelationProvider, type SqlColumnType } from './relation.js'
import { foldCase } from '../../shared/sql-names.js'

/** `columns`: one row per typed column. */
export const COLUMNS_RELATION: RelationDef = {
  schema: 'main',
  name: 'columns',
  columns: [
    { name: 'name', type: 'VARCHAR' },
    { name: 'dtype', type: 'VARCHAR' },
    { name: 'length', type: 'BIGINT' },
    { name: 'created_at', type: 'TIMESTAMP' },
  ],
}

/** The DuckDB type of a column's values. */
function valueType(dtype: DType): SqlColumnType {
  switch (dtype.kind) {
    case 'i32':
    case 'i64':
      return 'BIGINT'
    case 'f32':
    case 'f64':
      return 'DOUBLE'
    case 'bool':
      return 'BOOLEAN'
    case 'bytes':
      return 'BLOB'
    case 'str':
      return 'VARCHAR'
    case 'vec':
      // 64-bit integers do not fit a DOUBLE exactly (2^53 + 1 was written as 2^53): i64 as BIGINT[],
      // u64 (which may pass i64's range) as JSON text, where jsonText writes big values as decimals.
      return dtype.vec?.name === 'i64' ? 'BIGINT[]' : dtype.vec?.name === 'u64' ? 'VARCHAR' : 'DOUBLE[]'
    default:
      return 'VARCHAR'
  }
}

/** A value as its relation column holds it. */
function cell(type: SqlColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null
  if (type === 'VARCHAR') return typeof v === 'string' ? v : jsonText(v)
  if (type === 'DOUBLE[]') return Array.from(v as ArrayLike<number>, Number)
  if (type === 'BIGINT[]') return Array.from(v as ArrayLike<bigint>)
  if (type === 'BOOLEAN') return Boolean(v)
  return v
}

/** Every value of a column, chunk by chunk (inline or in the blob store). */
async function columnValues(ctx: CallContext, id: number, dtype: DType): Promise<ArrayLike<unknown>[]> {
  const out: ArrayLike<unknown>[] = []
  const chunks = ctx.db.all('SELECT count, nbytes, data, lens, hash FROM col_chunks WHERE col = ? ORDER BY start', [id])
  // The chunks' blobs are pinned from this tick (their rows' read) until all are loaded.
  const blobs = chunks.filter((c) => c[4]).map((c) => c[4] as string)
  await ctx.blobs.reading(blobs, async () => {
    for (const [count, nbytes, data, lens, hash] of chunks) {
      const bytes = hash ? await ctx.blobs.get(hash as string) : (data as Uint8Array)
      const lensCopy = lens ? new Uint32Array((lens as Uint8Array).slice(0, (count as number) * 4).buffer) : undefined
      out.push(decodeMany(dtype, { count: count as number, bytes: bytes.subarray(0, nbytes as number), ...(lensCopy ? { lens: lensCopy } : {}) }))
    }
  })
  return out
}

/**
 * Typed columns: the `columns` catalog and one relation per column in schema `col` (`idx`,
 * `value`). A column's generation number (`col_meta.gen`) changes with every write to it, so a
 * refresh reloads only the columns written since the last one.
 */
export const columnRelations: RelationProvider<Map<number, { gen: number; def: RelationDef }>> = {
  name: 'columns',
  tables: ['col_meta', 'col_chunks'],
  async sync(ctx, sink, previous) {
    const rows = ctx.db.all('SELECT id, name, dtype, length, gen, created_at FROM col_meta ORDER BY id')
    sink.replace(COLUMNS_RELATION, { name: rows.map((r) => r[1]), dtype: rows.map((r) => r[2]), length: rows.map((r) => r[3]), created_at: rows.map((r) => isoMs(r[5])) }, rows.length)
    const state = new Map<number, { gen: number; def: RelationDef }>()
    const taken = new Set<string>()
    for (const [id, name, spec, length, gen] of rows) {
      // DuckDB names are case-insensitive: of columns whose names differ only in case, the oldest has a relation.
      if (taken.has(foldCase(name as string))) continue
      taken.add(foldCase(name as string))
      const before = previous?.get(id as number)
      if (before && before.gen === gen && before.def.name === name) {
        state.set(id as number, before)
        continue
      }
      const dtype = parseDType(spec)
      const type = valueType(dtype)
      const def: RelationDef = { schema: 'col', name: name as string, columns: [{ name: 'idx', type: 'BIGINT' }, { name: 'value', type }] }
      const values: unknown[] = []
      try {
        for (const chunk of await columnValues(ctx, id as number, dtype)) for (let i = 0; i < chunk.length; i++) values.push(cell(type, chunk[i]))
      } catch (err) {
        // A damaged chunk fails this column's relation alone.
        if (!unreadableData(err)) throw err
        sink.unreadable(def, err)
        state.set(id as number, { gen: -1, def })
        continue
      }
      sink.replace(def, { idx: Array.from({ length: length as number }, (_, i) => i), value: values }, length as number)
      state.set(id as number, { gen: gen as number, def })
    }
    return { relations: [COLUMNS_RELATION, ...[...state.values()].map((s) => s.def)], state }
  },
}
