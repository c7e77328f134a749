/**
 * An empty DuckDB database file (storage of duckdb-wasm 1.32, DuckDB v1.4.3; 12 KiB: a file header
 * and two database headers), as runs of its non-zero bytes. A new OPFS database file is seeded with
 * it: duckdb-wasm must be handed an access handle before it opens a file, and DuckDB refuses the
 * empty file that handle would otherwise show as "not a valid DuckDB database file". Made by
 * duckdb-wasm itself (open a new file, CHECKPOINT, close) and read back by native DuckDB 1.5.
 */
const SIZE = 12288
const RUNS: [number, string][] = [
  [0, '67fd9328818d2eb34455434b40'], [52, '76312e342e33'], [84, '64316463383866393530'],
  [4096, 'c48025b08a4e3fd2'], [4112, 'ffffffffffffffffffffffffffffffff'], [4138, '04'], [4145, '08'], [4152, '01'], [4180, '64316463383866393530'],
  [8192, 'c48025b08a4e3fd2'], [8208, 'ffffffffffffffffffffffffffffffff'], [8234, '04'], [8241, '08'], [8248, '01'], [8276, '64316463383866393530'],
]

/** The bytes of an empty DuckDB database. */
export function emptyDuckDbFile(): Uint8Array {
  const out = new Uint8Array(SIZE)
  for (const [at, hex] of RUNS) for (let i = 0; i < hex.length; i += 2) out[at + i / 2] = parseInt(hex.slice(i, i + 2), 16)
  return out
}
