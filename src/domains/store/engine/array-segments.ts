import { Field, Float64, Int32, List, Table, Utf8, makeData, makeVector, tableFromIPC, tableToIPC, vectorFromArray, type Data, type Vector } from 'apache-arrow'
import { CorruptionError } from '../../../errors/errors.js'
import { ARRAY_KINDS, type ArrayKind, type WireArrays } from '../shared/store-wire.js'
import type { PredictionArrays } from '../shared/store-types.js'

/**
 * A segment: the arrays of some predictions of one dataset, as one Arrow IPC file in the blob store
 * (columns `predictionId` utf8, then one nullable list column per array kind: float64 lists for
 * yTrue, yPred, yProba and weights, int32 lists for yProbaShape and sampleIndices). Immutable: its
 * name is the SHA-256 of its bytes, and it is only ever replaced as a whole (compaction).
 */

const INT32_KINDS: ReadonlySet<ArrayKind> = new Set(['yProbaShape', 'sampleIndices'])

/** One row to write: a prediction's id and its arrays. */
export interface SegmentRow {
  predictionId: string
  arrays: WireArrays
}

function listVector(items: (Float64Array | Int32Array | null)[], int32: boolean): Vector {
  let total = 0
  for (const a of items) if (a) total += a.length
  const type = int32 ? new Int32() : new Float64()
  const values = int32 ? new Int32Array(total) : new Float64Array(total)
  const offsets = new Int32Array(items.length + 1)
  const bitmap = new Uint8Array((items.length + 7) >> 3)
  let nullCount = 0
  for (let i = 0; i < items.length; i++) {
    const a = items[i]
    if (a) {
      values.set(a, offsets[i]!)
      bitmap[i >> 3]! |= 1 << (i & 7)
      offsets[i + 1] = offsets[i]! + a.length
    } else {
      offsets[i + 1] = offsets[i]!
      nullCount++
    }
  }
  const child = makeData({ type: type as Float64, length: total, data: values as Float64Array })
  return makeVector(makeData({ type: new List(new Field('item', type, false)), length: items.length, nullCount, nullBitmap: bitmap, valueOffsets: offsets, child }))
}

/**
 * The bytes of a segment of `dataset` holding `rows`. The dataset's name is in the schema's
 * metadata so that the same rows in two datasets make two segments: a segment is named by the hash
 * of its bytes and belongs to one dataset (store_array_segments), and an upsert moving a prediction
 * to another dataset with the same arrays made the very same bytes, whose segment stayed filed
 * under the old dataset; compacting that one then deleted the live row (found by a probe).
 */
export function encodeSegment(rows: readonly SegmentRow[], dataset: string): Uint8Array {
  const columns: Record<string, Vector> = { predictionId: vectorFromArray(rows.map((r) => r.predictionId), new Utf8()) as Vector }
  for (const k of ARRAY_KINDS) columns[k] = listVector(rows.map((r) => r.arrays[k]), INT32_KINDS.has(k))
  const table = new Table(columns)
  table.schema.metadata.set('labvault.dataset', dataset)
  return tableToIPC(table, 'file')
}

/** A segment read back: its ids and, per array kind, the list data to slice rows from. */
export class DecodedSegment {
  readonly ids: string[]
  private readonly lists = new Map<ArrayKind, Data>()

  constructor(
    readonly hash: string,
    readonly byteLength: number,
    bytes: Uint8Array,
  ) {
    let table: Table
    try {
      table = tableFromIPC(bytes)
    } catch (err) {
      throw new CorruptionError(`array segment ${hash} cannot be read`, { cause: err })
    }
    if (table.batches.length > 1) throw new CorruptionError(`array segment ${hash} has ${table.batches.length} record batches, one expected`)
    const ids = table.getChild('predictionId')
    if (!ids) throw new CorruptionError(`array segment ${hash} has no predictionId column`)
    this.ids = ids.toArray() as string[]
    for (const k of ARRAY_KINDS) {
      const col = table.getChild(k)
      if (col && col.data.length === 1) this.lists.set(k, col.data[0]!)
    }
  }

  /** A copy of array `kind` of row `row`, or null. */
  private value(kind: ArrayKind, row: number): Float64Array | Int32Array | null {
    const d = this.lists.get(kind)
    if (!d || !d.getValid(row)) return null
    const offsets = d.valueOffsets as Int32Array
    const child = d.children[0]!
    const values = child.values as Float64Array | Int32Array
    const at = child.offset
    return values.slice(at + offsets[d.offset + row]!, at + offsets[d.offset + row + 1]!)
  }

  /** The arrays of row `row`, as the store returns them. */
  arrays(row: number): PredictionArrays {
    const shape = this.value('yProbaShape', row)
    return {
      yTrue: this.value('yTrue', row) as Float64Array | null,
      yPred: this.value('yPred', row) as Float64Array | null,
      yProba: this.value('yProba', row) as Float64Array | null,
      yProbaShape: shape ? Array.from(shape) : null,
      sampleIndices: this.value('sampleIndices', row) as Int32Array | null,
      weights: this.value('weights', row) as Float64Array | null,
    }
  }

  /** Row `row` in the form a new segment is written from. */
  row(row: number): SegmentRow {
    const a = this.arrays(row)
    return {
      predictionId: this.ids[row]!,
      arrays: { ...a, yProbaShape: a.yProbaShape ? Int32Array.from(a.yProbaShape) : null },
    }
  }
}

/**
 * Decoded segments kept for the next read, by hash (their content never changes, so a cached one is
 * never stale), up to a byte budget, least recently used first out.
 */
export class SegmentCache {
  private readonly entries = new Map<string, DecodedSegment>()
  private bytes = 0

  constructor(private readonly budget = 64 * 1024 * 1024) {}

  async get(hash: string, read: (hash: string) => Promise<Uint8Array>): Promise<DecodedSegment> {
    const hit = this.entries.get(hash)
    if (hit) {
      this.entries.delete(hash)
      this.entries.set(hash, hit)
      return hit
    }
    const bytes = await read(hash)
    const seg = new DecodedSegment(hash, bytes.length, bytes)
    this.entries.set(hash, seg)
    this.bytes += seg.byteLength
    for (const [h, s] of this.entries) {
      if (this.bytes <= this.budget || h === hash) break
      this.entries.delete(h)
      this.bytes -= s.byteLength
    }
    return seg
  }
}

/** The bytes of array values a row holds (what compaction sizes its output segments by). */
export function rowBytes(r: SegmentRow): number {
  let n = 0
  for (const k of ARRAY_KINDS) n += r.arrays[k]?.byteLength ?? 0
  return n
}
