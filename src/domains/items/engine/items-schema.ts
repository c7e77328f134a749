import type { DomainSchema } from '../../../engine/context.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'

/**
 * Tables of item lists, sessions, lineage and descriptions (docs/format.md, "Item lists").
 *
 * - `item_lists`: one row per list ever created. A deleted list keeps its row (`deleted_at` set) so
 *   its name stays reserved and lineage pointing at it still names it.
 * - `item_session_states`: a session's status (`running`, `completed`, `failed` with its error
 *   text), its parent session and when it ended. A table of its own rather than columns of
 *   `item_sessions`, so that re-running this script on a vault made before it (schema version 1)
 *   adds it without an ALTER that a newer vault would refuse; a session without a row (made
 *   before version 2) reads as running with no parent.
 * - `item_events`: the journal of every change the in-memory indexes must follow (appends,
 *   descriptions, session cells, deletions), in order. `stamp` is a random number made in JS: a
 *   cache that remembers (id, stamp) of the last event it saw can tell "still the same history"
 *   from "rolled back and rewritten with the same ids" with one point lookup.
 *   Append events also say which session and cell made the items `[start, end)`.
 * - `items`: documents (pos = character start, body = text), records (body = msgpack) and files
 *   (body = blob hash, meta = JSON name/type/size). WITHOUT ROWID: one B-tree keyed by (list, idx).
 * - `item_vectors`: embeddings, one row per append (a segment of `count` vectors), inline when
 *   small, else in a content-addressed blob, so a bulk load does not bloat the SQLite image.
 * - `item_lineage`: one edge per (append or item, parent range). Child ranges of one list never
 *   partly overlap (each is a slice of one append), which makes "edges overlapping a child range"
 *   an index range scan; for parent ranges `item_lists.max_parent_span` bounds the scan.
 * - `item_lineage_chars`: for an edge recorded with a parent range in characters (`unit: 'chars'`,
 *   document parents), that range; the edge itself holds the documents it covers, so walks and
 *   range queries stay in items. Schema version 3.
 * - `item_upserts`: one row per list that ever took an append at an explicit index (TableVault's
 *   `index=`: overwrite and gaps allowed). Such a list loses the append-only shape the fast paths
 *   rely on (contiguous vector segments, documents in position order, one append per child
 *   range), so its reads take the general paths; `max_chars` bounds the length of its documents
 *   (a character-range scan starts that far back). A table of its own for the same reason as
 *   `item_session_states` (schema version 3 adds it to older vaults).
 */
export const itemsSchema: DomainSchema = {
  schema: `
    CREATE TABLE IF NOT EXISTS item_lists (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      type TEXT NOT NULL,
      dim INTEGER,
      fields TEXT,
      created_at TEXT NOT NULL,
      session INTEGER,
      length INTEGER NOT NULL DEFAULT 0,
      chars INTEGER NOT NULL DEFAULT 0,
      max_parent_span INTEGER NOT NULL DEFAULT 0,
      deleted_at TEXT
    );
    CREATE TABLE IF NOT EXISTS item_sessions (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      user TEXT NOT NULL,
      kind TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS item_session_states (
      session INTEGER PRIMARY KEY,
      parent INTEGER,
      status TEXT NOT NULL,
      error TEXT,
      ended_at TEXT
    );
    CREATE INDEX IF NOT EXISTS item_session_children ON item_session_states (parent) WHERE parent IS NOT NULL;
    CREATE TABLE IF NOT EXISTS item_cells (
      session INTEGER NOT NULL,
      cell INTEGER NOT NULL,
      code TEXT NOT NULL,
      created_at TEXT NOT NULL,
      PRIMARY KEY (session, cell)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS item_events (
      id INTEGER PRIMARY KEY,
      stamp INTEGER NOT NULL,
      kind INTEGER NOT NULL,
      list INTEGER,
      start INTEGER,
      end INTEGER,
      session INTEGER,
      cell INTEGER,
      ref INTEGER,
      created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS item_events_appends ON item_events (list, start) WHERE kind = 1;
    CREATE INDEX IF NOT EXISTS item_events_sessions ON item_events (session) WHERE kind = 1;
    CREATE TABLE IF NOT EXISTS items (
      list INTEGER NOT NULL,
      idx INTEGER NOT NULL,
      pos INTEGER,
      body,
      meta TEXT,
      PRIMARY KEY (list, idx)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS items_positions ON items (list, pos) WHERE pos IS NOT NULL;
    CREATE TABLE IF NOT EXISTS item_vectors (
      event INTEGER PRIMARY KEY,
      list INTEGER NOT NULL,
      start INTEGER NOT NULL,
      count INTEGER NOT NULL,
      data BLOB,
      hash TEXT
    );
    CREATE INDEX IF NOT EXISTS item_vectors_list ON item_vectors (list, start);
    CREATE TABLE IF NOT EXISTS item_lineage (
      child_list INTEGER NOT NULL,
      child_start INTEGER NOT NULL,
      child_end INTEGER NOT NULL,
      parent_list INTEGER NOT NULL,
      parent_start INTEGER NOT NULL,
      parent_end INTEGER NOT NULL,
      event INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS item_lineage_child ON item_lineage (child_list, child_start);
    CREATE INDEX IF NOT EXISTS item_lineage_parent ON item_lineage (parent_list, parent_start);
    CREATE TABLE IF NOT EXISTS item_lineage_chars (
      child_list INTEGER NOT NULL,
      child_start INTEGER NOT NULL,
      event INTEGER NOT NULL,
      parent_list INTEGER NOT NULL,
      parent_start INTEGER NOT NULL,
      char_start INTEGER NOT NULL,
      char_end INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS item_lineage_chars_child ON item_lineage_chars (child_list, child_start);
    CREATE TABLE IF NOT EXISTS item_upserts (
      list INTEGER PRIMARY KEY,
      max_chars INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE IF NOT EXISTS item_descriptions (
      id INTEGER PRIMARY KEY,
      list INTEGER NOT NULL,
      name TEXT,
      text TEXT NOT NULL,
      start INTEGER NOT NULL,
      end INTEGER NOT NULL,
      dim INTEGER,
      embedding BLOB,
      session INTEGER,
      created_at TEXT NOT NULL,
      UNIQUE (list, name)
    );`,
  blobReferences: [
    `SELECT body FROM items WHERE meta IS NOT NULL`,
    `SELECT hash FROM item_vectors WHERE hash IS NOT NULL`,
  ],
}

/** `item_events.kind`. */
export const EventKind = {
  Append: 1,
  Describe: 2,
  Cell: 3,
  DeleteList: 4,
} as const

/** A random stamp for an event row: made in JS so the log replays it exactly. */
export function newStamp(): number {
  return Math.floor(Math.random() * 2 ** 52)
}

/** Current time as stored (ISO 8601, made in JS). */
export function nowIso(): string {
  return new Date().toISOString()
}

/** Where a cache stands in the event journal. */
export interface EventMark {
  id: number
  stamp: number
}

/** The mark of an empty journal. */
export const NO_EVENTS: EventMark = { id: 0, stamp: 0 }

/** `item_events.ref` of an append that replaced items already there (indexes must drop them). */
export const OVERWROTE = 1

/** True when list `list` ever took an append at an explicit index (see `item_upserts`). */
export function hasUpserts(db: SqliteDatabase, list: number): boolean {
  return db.get('SELECT 1 FROM item_upserts WHERE list = ?', [list]) !== undefined
}

/** The longest document an upserted list may hold (0 for other lists). */
export function upsertMaxChars(db: SqliteDatabase, list: number): number {
  return (db.get('SELECT max_chars FROM item_upserts WHERE list = ?', [list])?.[0] as number | undefined) ?? 0
}

/** Record an event (inside a write); returns its id. Ids are max+1: deterministic on replay. */
export function insertEvent(
  db: SqliteDatabase,
  kind: number,
  fields: { list?: number | null; start?: number | null; end?: number | null; session?: number | null; cell?: number | null; ref?: number | null },
): EventMark {
  const id = ((db.get('SELECT max(id) FROM item_events')?.[0] as number | null) ?? 0) + 1
  const stamp = newStamp()
  db.run(
    'INSERT INTO item_events (id, stamp, kind, list, start, end, session, cell, ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [id, stamp, kind, fields.list ?? null, fields.start ?? null, fields.end ?? null, fields.session ?? null, fields.cell ?? null, fields.ref ?? null, nowIso()],
  )
  return { id, stamp }
}

/** The last event of the journal. */
export function lastEvent(db: SqliteDatabase): EventMark {
  const row = db.get('SELECT id, stamp FROM item_events ORDER BY id DESC LIMIT 1')
  return row ? { id: row[0] as number, stamp: row[1] as number } : NO_EVENTS
}

/** True when the journal still holds `mark` as it was (no rollback rewrote it). */
export function stillHolds(db: SqliteDatabase, mark: EventMark): boolean {
  if (mark.id === 0) return true
  return db.get('SELECT stamp FROM item_events WHERE id = ?', [mark.id])?.[0] === mark.stamp
}
