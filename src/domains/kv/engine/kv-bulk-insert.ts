import type { CallContext } from '../../../engine/context.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import type { Key } from '../shared/kv-types.js'
import { writeNamespace } from './kv-entries.js'

// How setMany writes its rows: a bulk write is where the key-value store spends its time, so its
// rows go in as multi-row INSERTs and, from a size on, in key order (see writeRows).

/** One row, written or replaced. */
export const UPSERT = 'INSERT OR REPLACE INTO kv (ns, key, kind, value) VALUES (?, ?, ?, ?)'

/** Rows per multi-row INSERT in setMany: fewer statement steps, same parameters. */
const ROWS_PER_INSERT = 64
const MULTI_INSERT = `INSERT OR REPLACE INTO kv (ns, key, kind, value) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?)').join(', ')}`

/** Batches at least this large are written in key order (see `writeRows`). */
const SORTED_INSERT_FROM = 2 * ROWS_PER_INSERT

/**
 * Row indices of `keys` in the order SQLite keeps them (text before blobs; text by code unit, which
 * is UTF-8 byte order but for astral characters: only speed depends on it), stable for equal keys;
 * undefined when they already are in order.
 */
function keyOrder(keys: Key[]): Uint32Array | undefined {
  let sorted = true
  for (let i = 1; i < keys.length && sorted; i++) sorted = compareKeys(keys[i - 1]!, keys[i]!) <= 0
  if (sorted) return undefined
  const order = new Uint32Array(keys.length)
  for (let i = 0; i < order.length; i++) order[i] = i
  // Typed-array sort is not guaranteed stable: ties are broken by position.
  return order.sort((a, b) => compareKeys(keys[a]!, keys[b]!) || a - b)
}

function compareKeys(a: Key, b: Key): number {
  if (typeof a === 'string') return typeof b === 'string' ? (a < b ? -1 : a > b ? 1 : 0) : -1
  return typeof b === 'string' ? 1 : 0
}

/** Write the rows of a batch (entry `i`: `keys[i]`, `kinds[i]`, `values[i]`) in one commit; returns how many. */
export function writeRows(ctx: CallContext, ns: string, keys: Key[], kinds: number[], values: SqlValue[]): Promise<number> {
  const n = keys.length
  // Rows go in in key order: SQLite then appends to the key B-tree instead of splitting pages all
  // over it (100k keys: about a quarter off a bulk write). The sort is stable, so a later duplicate
  // of a key is still written after the earlier one and wins, as with one set() after another.
  const order = n >= SORTED_INSERT_FROM ? keyOrder(keys) : undefined
  return ctx.write(() => {
    const id = writeNamespace(ctx.db, ns)
    let i = 0
    for (; i + ROWS_PER_INSERT <= n; i += ROWS_PER_INSERT) {
      const params: SqlValue[] = new Array(ROWS_PER_INSERT * 4)
      for (let j = 0; j < ROWS_PER_INSERT; j++) {
        const r = order ? order[i + j]! : i + j
        params[j * 4] = id
        params[j * 4 + 1] = keys[r]!
        params[j * 4 + 2] = kinds[r]!
        params[j * 4 + 3] = values[r]!
      }
      ctx.db.run(MULTI_INSERT, params)
    }
    for (; i < n; i++) {
      const r = order ? order[i]! : i
      ctx.db.run(UPSERT, [id, keys[r]!, kinds[r]!, values[r]!])
    }
    return n
  })
}
