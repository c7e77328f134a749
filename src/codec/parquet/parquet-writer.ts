// The Parquet writer, loaded on first use by ../parquet.ts.
import type { Table } from 'apache-arrow'
import { parquetWriteBuffer, type ColumnSource, type SchemaElement } from 'hyparquet-writer'
import { InvalidArgumentError } from '../../errors/errors.js'
import type { ParquetWriteOptions } from '../parquet.js'
import { parquetColumn } from './arrow-to-parquet.js'
import { zstdCompressor } from './zstd-compressor.js'

function checkOptions(options: ParquetWriteOptions): void {
  const { compression, level, rowGroupSize } = options
  if (compression !== undefined && compression !== 'zstd' && compression !== 'snappy' && compression !== 'none') {
    throw new InvalidArgumentError(`compression must be 'zstd', 'snappy' or 'none', got ${JSON.stringify(compression)}`)
  }
  if (level !== undefined && !(Number.isInteger(level) && level >= 1 && level <= 22)) throw new InvalidArgumentError(`level must be an integer from 1 to 22, got ${String(level)}`)
  if (rowGroupSize !== undefined && !(Number.isInteger(rowGroupSize) && rowGroupSize >= 1)) throw new InvalidArgumentError(`rowGroupSize must be a positive integer, got ${String(rowGroupSize)}`)
  if (options.metadata !== undefined) {
    for (const [k, v] of Object.entries(options.metadata)) if (typeof v !== 'string') throw new InvalidArgumentError(`metadata[${JSON.stringify(k)}] must be a string`)
  }
}

/** See `writeParquet` in ../parquet.ts. */
export async function writeParquetNow(table: Table, options: ParquetWriteOptions): Promise<Uint8Array> {
  if (table === null || typeof table !== 'object' || !('schema' in table) || typeof (table as Table).getChildAt !== 'function') {
    throw new InvalidArgumentError('table must be an Arrow Table')
  }
  checkOptions(options)
  if (table.numCols === 0) throw new InvalidArgumentError('table has no columns: a Parquet file needs at least one')
  const columns = table.schema.fields.map((field, i) => parquetColumn(field, table.getChildAt(i)!))
  const schema: SchemaElement[] = [{ name: 'root', num_children: columns.length }, ...columns.flatMap((c) => c.schema)]
  const columnData = columns.map((c) => ({ name: c.name, data: c.data, ...(c.encoding ? { encoding: c.encoding } : {}) }) as ColumnSource)
  const compression = options.compression ?? 'zstd'
  const codec = compression === 'zstd' ? 'ZSTD' : compression === 'snappy' ? 'SNAPPY' : 'UNCOMPRESSED'
  const compressors = compression === 'zstd' ? { ZSTD: await zstdCompressor(options.level ?? 3, options.zstdWasm) } : undefined
  const buffer = parquetWriteBuffer({
    columnData,
    schema,
    codec,
    ...(compressors ? { compressors } : {}),
    rowGroupSize: options.rowGroupSize ?? 100_000,
    kvMetadata: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    createdBy: 'labvault (hyparquet-writer)',
  })
  return new Uint8Array(buffer)
}
