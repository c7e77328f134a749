// Parquet in and out, offline, in a browser and on Node. This file is the light facade the rest of
// labvault imports: the writer (hyparquet-writer + zstd in wasm) and the reader (hyparquet +
// hyparquet-compressors) are loaded by dynamic import on first use, so a page that never touches
// Parquet downloads none of it. Why these libraries and not parquet-wasm: docs/store.md ("Parquet").
import type { Table } from 'apache-arrow'

/** Where the zstd compressor's wasm comes from in a browser: a URL, or its bytes. */
export type ZstdWasmSource = string | URL | Uint8Array | ArrayBuffer

/** Options of {@link writeParquet}. */
export interface ParquetWriteOptions {
  /** Page compression: `'zstd'` (default, as nirs4all writes its arrays), `'snappy'` or `'none'`. */
  compression?: 'zstd' | 'snappy' | 'none'
  /** zstd level, 1 to 22 (default 3). */
  level?: number
  /** Rows per row group (default 100 000). */
  rowGroupSize?: number
  /** Key-value metadata stored in the file footer. */
  metadata?: Record<string, string>
  /**
   * Browser only: where `zstd.wasm` is (default: `assetBase`, else next to labvault's module). Node
   * reads it from the installed package.
   */
  zstdWasm?: ZstdWasmSource
}

let defaultZstdWasm: ZstdWasmSource | undefined

/**
 * @internal Where `zstd.wasm` is when a write names no `zstdWasm`: openVault's `assetBase` sets it
 * (a bundler that re-bundles labvault does not copy the wasm next to its chunks).
 */
export function setDefaultZstdWasm(source: ZstdWasmSource): void {
  defaultZstdWasm = source
}

/**
 * Writes an Arrow table as one Parquet file (zstd-compressed pages by default). Columns of type
 * int8/16/32/64, uint8/16/32/64, float16/32/64, bool, utf8, binary, date, timestamp, dictionary of
 * those, null and list of those are supported; any other type is an `UnsupportedError` naming the
 * column. A table with no rows is a valid file with its schema and no row group.
 */
export async function writeParquet(table: Table, options: ParquetWriteOptions = {}): Promise<Uint8Array> {
  const { writeParquetNow } = await import('./parquet/parquet-writer.js')
  return writeParquetNow(table, options.zstdWasm === undefined && defaultZstdWasm !== undefined ? { ...options, zstdWasm: defaultZstdWasm } : options)
}

/** Reads a Parquet file (any common codec) into plain row objects, keyed by column name. */
export async function readParquetRows(bytes: Uint8Array | ArrayBuffer): Promise<Record<string, unknown>[]> {
  const { readRowsNow } = await import('./parquet/parquet-reader.js')
  return readRowsNow(bytes)
}

/** Reads a Parquet file into an Arrow table (flat columns and lists of primitives). */
export async function readParquet(bytes: Uint8Array | ArrayBuffer): Promise<Table> {
  const { readTableNow } = await import('./parquet/parquet-reader.js')
  return readTableNow(bytes)
}
