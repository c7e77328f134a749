import type { DomainSchema } from '../../../engine/context.js'

/**
 * Column tables (docs/format.md, "Columns"). A column is a run of chunks ordered by `start` (the index
 * of a chunk's first element). A chunk holds `count` elements in `nbytes` bytes, either inline in
 * `data` or, once it is a full chunk of at least {@link BLOB_CHUNK_BYTES}, in the blob store
 * under `hash`. Variable-size dtypes keep the byte length of every element of the chunk in `lens`
 * (u32 little-endian), the chunk's index of element ranges. `col_meta.gen` changes with every
 * write: it tells the engine's in-memory directory whether it is still current. `col_patches`
 * (schema version 2) holds replaced elements of blob chunks (chunk-patches.ts): element `idx` of
 * chunk `chunk` reads as `data` instead of its bytes in the blob.
 */
export const columnsSchema: DomainSchema = {
  schema: `
    CREATE TABLE IF NOT EXISTS col_meta (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      dtype TEXT NOT NULL,
      elem_size INTEGER NOT NULL,
      length INTEGER NOT NULL,
      min_chunk INTEGER NOT NULL,
      max_chunk INTEGER NOT NULL,
      gen INTEGER NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS col_chunks (
      id INTEGER PRIMARY KEY,
      col INTEGER NOT NULL,
      start INTEGER NOT NULL,
      count INTEGER NOT NULL,
      cap INTEGER NOT NULL,
      nbytes INTEGER NOT NULL,
      data BLOB,
      lens BLOB,
      hash TEXT
    );
    CREATE INDEX IF NOT EXISTS col_chunks_by_start ON col_chunks (col, start);
    CREATE TABLE IF NOT EXISTS col_patches (
      chunk INTEGER NOT NULL,
      idx INTEGER NOT NULL,
      data BLOB,
      PRIMARY KEY (chunk, idx)
    ) WITHOUT ROWID;`,
  blobReferences: ['SELECT hash FROM col_chunks WHERE hash IS NOT NULL'],
}

/** Default capacity of a column's first chunk. */
export const DEFAULT_MIN_CHUNK = 16 * 1024
/** Default capacity chunks grow to. */
export const DEFAULT_MAX_CHUNK = 4 * 1024 * 1024
/**
 * Full chunks at least this large live in the blob store: the SQLite image (held in wasm memory and
 * rewritten at every checkpoint) stays small, and the log records a 64-character hash instead of
 * the bytes. Smaller and partly filled chunks stay inline, where an append or an element update is
 * logged as just the changed bytes (SQL `substr`/`||` splices).
 */
export const BLOB_CHUNK_BYTES = 256 * 1024

/**
 * Every statement of the column engine, in one place: the directory, the write plans and the
 * method surface share them. `||` on blobs yields TEXT with the same bytes (UTF-8 database, no
 * conversion); CAST turns it back. substr() of a zero-length blob is NULL, hence ifnull(…, x'')
 * where data may be empty ('' strings).
 */
export const SQL = {
  meta: 'SELECT id, dtype, elem_size, length, min_chunk, max_chunk, gen FROM col_meta WHERE name = ?',
  gen: 'SELECT gen FROM col_meta WHERE id = ?',
  setMeta: 'UPDATE col_meta SET length = ?, gen = ? WHERE id = ?',
  create: 'INSERT INTO col_meta (id, name, dtype, elem_size, length, min_chunk, max_chunk, gen, created_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)',
  idTaken: 'SELECT 1 FROM col_meta WHERE id = ?',
  list: 'SELECT name, dtype, length FROM col_meta ORDER BY name',
  dropChunks: 'DELETE FROM col_chunks WHERE col = ?',
  // Chunk ids are rowids, which SQLite may give again to a new chunk: a chunk's patches go with it.
  dropPatches: 'DELETE FROM col_patches WHERE chunk IN (SELECT id FROM col_chunks WHERE col = ?)',
  deletePatches: 'DELETE FROM col_patches WHERE chunk = ?',
  patches: 'SELECT idx, data FROM col_patches WHERE chunk = ? ORDER BY idx',
  patch: 'INSERT OR REPLACE INTO col_patches (chunk, idx, data) VALUES (?, ?, ?)',
  fold: 'UPDATE col_chunks SET hash = ?, lens = ?, count = ?, nbytes = ? WHERE id = ?',
  dropMeta: 'DELETE FROM col_meta WHERE id = ?',
  chunks: 'SELECT id, start, count, cap, nbytes, hash FROM col_chunks WHERE col = ? ORDER BY start',
  parts: 'SELECT data, lens FROM col_chunks WHERE id = ?',
  insertChunk: 'INSERT INTO col_chunks (col, start, count, cap, nbytes, data, lens, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  appendInline: 'UPDATE col_chunks SET data = CAST(data || ? AS BLOB), lens = CAST(lens || ? AS BLOB), count = count + ?, nbytes = nbytes + ? WHERE id = ?',
  seal: 'UPDATE col_chunks SET data = NULL, hash = ?, lens = CAST(lens || ? AS BLOB), count = count + ?, nbytes = nbytes + ? WHERE id = ?',
  spliceInline:
    "UPDATE col_chunks SET data = CAST(ifnull(substr(data, 1, ?), x'') || ? || ifnull(substr(data, ?), x'') AS BLOB), lens = CAST(substr(lens, 1, ?) || ? || substr(lens, ?) AS BLOB), count = ?, nbytes = ? WHERE id = ?",
  spliceBlob: 'UPDATE col_chunks SET hash = ?, lens = CAST(substr(lens, 1, ?) || ? || substr(lens, ?) AS BLOB), count = ?, nbytes = ? WHERE id = ?',
  splitInline:
    "INSERT INTO col_chunks (col, start, count, cap, nbytes, data, lens, hash) SELECT col, ?, ?, cap, ?, ifnull(substr(data, ?, ?), x''), substr(lens, ?, ?), NULL FROM col_chunks WHERE id = ?",
  splitBlob: 'INSERT INTO col_chunks (col, start, count, cap, nbytes, data, lens, hash) SELECT col, ?, ?, cap, ?, NULL, substr(lens, ?, ?), ? FROM col_chunks WHERE id = ?',
  truncate: "UPDATE col_chunks SET data = CASE WHEN hash IS NULL THEN ifnull(substr(data, 1, ?), x'') END, lens = substr(lens, 1, ?), count = ?, nbytes = ? WHERE id = ?",
  shift: 'UPDATE col_chunks SET start = start + ? WHERE col = ? AND start > ?',
  deleteChunk: 'DELETE FROM col_chunks WHERE id = ?',
}
