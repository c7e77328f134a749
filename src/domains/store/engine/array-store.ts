import type { CallContext } from '../../../engine/context.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import type { ArrayStats, CompactResult, PredictionArrays } from '../shared/store-types.js'
import { SegmentCache, encodeSegment, rowBytes, type SegmentRow } from './array-segments.js'

// Where each prediction's arrays are (store_array_rows), the segments (store_array_segments), and
// what is done with them inside a write: record a new segment, tombstone rows, compact a dataset.
// A segment's blob is written and synced before the write that records it, so a crash leaves at
// worst an unreferenced blob (collected later), never a row pointing at missing bytes.

/** Compaction writes segments of about this many bytes of array values. */
const SEGMENT_TARGET_BYTES = 16 * 1024 * 1024

/** Pending tombstones in one dataset past which a committed delete compacts it (as nirs4all's 64). */
export const AUTO_COMPACT_TOMBSTONES = 64

/** Bind parameters per IN (…) list. */
const IN_CHUNK = 500

function placeholders(n: number): string {
  return new Array<string>(n).fill('?').join(', ')
}

/** Run `fn` over `items` in chunks of at most IN_CHUNK. */
export function inChunks<T>(items: readonly T[], fn: (chunk: T[]) => void): void {
  for (let i = 0; i < items.length; i += IN_CHUNK) fn(items.slice(i, i + IN_CHUNK))
}

function bumpGeneration(db: SqliteDatabase, dataset: string): void {
  const g = (db.get('SELECT generation FROM store_array_datasets WHERE dataset_name = ?', [dataset])?.[0] as number | undefined) ?? 0
  db.run('INSERT OR REPLACE INTO store_array_datasets (dataset_name, generation) VALUES (?, ?)', [dataset, g + 1])
}

function generationOf(db: SqliteDatabase, dataset: string): number {
  return (db.get('SELECT generation FROM store_array_datasets WHERE dataset_name = ?', [dataset])?.[0] as number | undefined) ?? 0
}

/** Write a segment's blob of `dataset` (pinned: unpin it once the write recording it settled). */
export async function putSegment(ctx: CallContext, dataset: string, rows: readonly SegmentRow[]): Promise<{ hash: string; bytes: number }> {
  const bytes = encodeSegment(rows, dataset)
  return { hash: await ctx.blobs.put(bytes), bytes: bytes.length }
}

/**
 * Inside a write: record segment `hash` of `dataset` holding `ids` (row i is ids[i]). Earlier live
 * arrays of those predictions become tombstones.
 */
export function recordSegment(db: SqliteDatabase, dataset: string, hash: string, bytes: number, ids: readonly string[], replacing = true): void {
  // Compaction moves rows that are the only live ones of their predictions: nothing to tombstone.
  if (replacing) tombstonePredictions(db, ids)
  db.run('INSERT OR IGNORE INTO store_array_segments (hash, dataset_name, rows, bytes) VALUES (?, ?, ?, ?)', [hash, dataset, ids.length, bytes])
  // Rows in statements of up to ROWS_PER_INSERT (fewer statements to run and to log; the texts
  // differ only by the size of the last one).
  for (let at = 0; at < ids.length; at += ROWS_PER_INSERT) {
    const n = Math.min(ROWS_PER_INSERT, ids.length - at)
    const params: SqlValue[] = []
    for (let i = at; i < at + n; i++) params.push(hash, i, ids[i]!, dataset)
    db.run(`INSERT OR REPLACE INTO store_array_rows (segment, row_idx, prediction_id, dataset_name, tomb) VALUES ${ROW_VALUES.slice(0, n).join(', ')}`, params)
  }
  bumpGeneration(db, dataset)
}

const ROWS_PER_INSERT = 100
const ROW_VALUES = new Array<string>(ROWS_PER_INSERT).fill('(?, ?, ?, ?, 0)')

/** Inside a write: tombstone the live arrays of these predictions. Returns the datasets touched. */
export function tombstonePredictions(db: SqliteDatabase, ids: readonly string[]): Set<string> {
  const touched = new Set<string>()
  inChunks(ids, (chunk) => {
    const where = `prediction_id IN (${placeholders(chunk.length)}) AND tomb = 0`
    for (const r of db.all(`SELECT DISTINCT dataset_name FROM store_array_rows WHERE ${where}`, chunk)) touched.add(r[0] as string)
    if (touched.size > 0) db.run(`UPDATE store_array_rows SET tomb = 1 WHERE ${where}`, chunk)
  })
  for (const d of touched) bumpGeneration(db, d)
  return touched
}

/** Datasets with more pending tombstones than the auto-compaction threshold. */
export function datasetsToCompact(db: SqliteDatabase, among: Iterable<string>): string[] {
  const out: string[] = []
  for (const d of among) {
    const n = db.get('SELECT count(*) FROM store_array_rows WHERE dataset_name = ? AND tomb = 1', [d])![0] as number
    if (n > AUTO_COMPACT_TOMBSTONES) out.push(d)
  }
  return out
}

/** The engine's reader of segments, with its cache. */
export class ArrayStore {
  private readonly cache = new SegmentCache()

  /** Live arrays of the given predictions (optionally of one dataset), by id. */
  async load(ctx: CallContext, ids: readonly string[], dataset: string | null): Promise<Map<string, PredictionArrays>> {
    const where: { segment: string; row: number; id: string }[] = []
    inChunks(ids, (chunk) => {
      const sql = `SELECT segment, row_idx, prediction_id FROM store_array_rows WHERE prediction_id IN (${placeholders(chunk.length)}) AND tomb = 0${dataset === null ? '' : ' AND dataset_name = ?'}`
      ctx.db.each(sql, dataset === null ? chunk : [...chunk, dataset], (r) => where.push({ segment: r[0] as string, row: r[1] as number, id: r[2] as string }))
    })
    where.sort((a, b) => (a.segment < b.segment ? -1 : a.segment > b.segment ? 1 : a.row - b.row))
    const found = new Map<string, PredictionArrays>()
    // The segments' blobs are pinned now, in the tick their rows were read (BlobStore.reading).
    await ctx.blobs.reading(
      where.map((w) => w.segment),
      async () => {
        for (const w of where) {
          const seg = await this.cache.get(w.segment, (h) => ctx.blobs.get(h))
          found.set(w.id, seg.arrays(w.row))
        }
      },
    )
    // In the order asked for.
    const out = new Map<string, PredictionArrays>()
    for (const id of ids) {
      const a = found.get(id)
      if (a) out.set(id, a)
    }
    return out
  }

  /**
   * Rewrite `dataset`'s segments with only its live rows, in segments of about 16 MiB, as one
   * write. Rows and bytes before and after are reported. When another writer changed the dataset's
   * arrays meanwhile (its generation moved) the work is redone from the new state.
   */
  async compact(ctx: CallContext, dataset: string): Promise<CompactResult> {
    for (let attempt = 0; ; attempt++) {
      const generation = generationOf(ctx.db, dataset)
      // The dataset's segments are those its rows are in (and any filed under it that no row is in).
      // Its rows decide, not how the segment is filed: in a vault written before segments carried
      // their dataset, the same rows saved under two datasets made the very same segment, filed
      // under the first while its rows were the second's. Going by the filing, compacting the first
      // dropped the second's live rows (their arrays were gone) and compacting the second left them
      // in place beside their copies. docs/format.md, "Array segments".
      const segments = ctx.db.all(
        `SELECT hash, bytes, dataset_name FROM store_array_segments s
         WHERE hash IN (SELECT segment FROM store_array_rows WHERE dataset_name = ?)
            OR (dataset_name = ? AND NOT EXISTS (SELECT 1 FROM store_array_rows r WHERE r.segment = s.hash))
         ORDER BY hash`,
        [dataset, dataset],
      )
      const rowsBefore = ctx.db.get('SELECT count(*) FROM store_array_rows WHERE dataset_name = ?', [dataset])![0] as number
      const bytesBefore = segments.reduce((n, s) => n + (s[1] as number), 0)
      const live = ctx.db.all(
        `SELECT r.segment, r.row_idx FROM store_array_rows r LEFT JOIN store_predictions p ON p.prediction_id = r.prediction_id
         WHERE r.dataset_name = ? AND r.tomb = 0 ORDER BY p.partition, p.fold_id, r.prediction_id`,
        [dataset],
      )
      // One segment filed under another dataset is rewritten all the same: filed under this one.
      const unchanged = live.length === rowsBefore && segments.length <= 1 && segments.every((s) => s[2] === dataset)
      if (unchanged) return { rowsBefore, rowsAfter: rowsBefore, rowsRemoved: 0, bytesBefore, bytesAfter: bytesBefore }
      // The segments' blobs are pinned now, in the tick their rows were read, until this attempt
      // settles: they load one after another, and a checkpoint meanwhile (after another process
      // compacted the dataset) must not collect those not loaded yet.
      const inputs = segments.map((s) => s[0] as string)
      for (const hash of inputs) ctx.blobs.hold(hash)
      const outputs: { hash: string; bytes: number; ids: string[] }[] = []
      try {
        let batch: SegmentRow[] = []
        let batchBytes = 0
        const flush = async () => {
          if (batch.length === 0) return
          const put = await putSegment(ctx, dataset, batch)
          outputs.push({ ...put, ids: batch.map((r) => r.predictionId) })
          batch = []
          batchBytes = 0
        }
        for (const r of live) {
          const seg = await this.cache.get(r[0] as string, (h) => ctx.blobs.get(h))
          const row = seg.row(r[1] as number)
          batch.push(row)
          batchBytes += rowBytes(row)
          if (batchBytes >= SEGMENT_TARGET_BYTES) await flush()
        }
        await flush()
        const applied = await ctx.write(() => {
          if (generationOf(ctx.db, dataset) !== generation) return false
          const old = segments.map((s) => s[0] as string)
          inChunks(old, (chunk) => {
            ctx.db.run(`DELETE FROM store_array_rows WHERE dataset_name = ? AND segment IN (${placeholders(chunk.length)})`, [dataset, ...chunk])
          })
          // A segment with rows of another dataset left (only in a vault written before segments
          // carried their dataset) stays, filed under that dataset, whose compaction rewrites it.
          for (const hash of old) {
            const other = ctx.db.get('SELECT min(dataset_name) FROM store_array_rows WHERE segment = ?', [hash])![0] as string | null
            if (other === null) ctx.db.run('DELETE FROM store_array_segments WHERE hash = ?', [hash])
            else ctx.db.run('UPDATE store_array_segments SET dataset_name = ? WHERE hash = ?', [other, hash])
          }
          for (const o of outputs) recordSegment(ctx.db, dataset, o.hash, o.bytes, o.ids, false)
          return true
        })
        if (applied || attempt >= 3) {
          const bytesAfter = outputs.reduce((n, o) => n + o.bytes, 0)
          const rowsAfter = outputs.reduce((n, o) => n + o.ids.length, 0)
          if (!applied) return { rowsBefore, rowsAfter: rowsBefore, rowsRemoved: 0, bytesBefore, bytesAfter: bytesBefore }
          return { rowsBefore, rowsAfter, rowsRemoved: rowsBefore - rowsAfter, bytesBefore, bytesAfter }
        }
      } finally {
        for (const o of outputs) ctx.blobs.unpin(o.hash)
        for (const hash of inputs) ctx.blobs.unpin(hash)
      }
    }
  }
}

/** Rows, tombstones, segments and bytes by dataset. */
export function arrayStats(db: SqliteDatabase): ArrayStats {
  const byDataset = new Map<string, { datasetName: string; rows: number; tombstones: number; segments: number; bytes: number }>()
  const entry = (d: string) => {
    let e = byDataset.get(d)
    if (!e) byDataset.set(d, (e = { datasetName: d, rows: 0, tombstones: 0, segments: 0, bytes: 0 }))
    return e
  }
  db.each('SELECT dataset_name, count(*), total(bytes) FROM store_array_segments GROUP BY dataset_name', [], (r: SqlValue[]) => {
    const e = entry(r[0] as string)
    e.segments = r[1] as number
    e.bytes = r[2] as number
  })
  db.each('SELECT dataset_name, tomb, count(*) FROM store_array_rows GROUP BY dataset_name, tomb', [], (r: SqlValue[]) => {
    const e = entry(r[0] as string)
    if (r[1] === 1) e.tombstones = r[2] as number
    else e.rows = r[2] as number
  })
  const datasets = [...byDataset.values()].sort((a, b) => (a.datasetName < b.datasetName ? -1 : a.datasetName > b.datasetName ? 1 : 0))
  const sum = (k: 'rows' | 'tombstones' | 'segments' | 'bytes') => datasets.reduce((n, d) => n + d[k], 0)
  return { datasets, rows: sum('rows'), tombstones: sum('tombstones'), segments: sum('segments'), bytes: sum('bytes') }
}
