import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import { restoreKvEntry, snapshotKvEntry } from '../../kv/engine/kv-entries.js'
import type { Key } from '../../kv/shared/kv-types.js'
import type { JournalEntry, JournalKey } from '../shared/process-types.js'
import { iso, parseJson } from './process-rows.js'

// The journal of operations in flight (`process_journal`) and their undo records (`process_undo`):
// the key-value entries an operation named, as they were when it began. Every function here runs
// inside a write, except `journalOf`.

const SQL = {
  entries: 'SELECT id, op, on_crash, state, started_at FROM process_journal WHERE process = ? ORDER BY id',
  insert: 'INSERT INTO process_journal (process, op, on_crash, state, started_at) VALUES (?, ?, ?, ?, ?)',
  lastId: 'SELECT max(id) FROM process_journal',
  insertUndo: 'INSERT INTO process_undo (entry, ord, ns, key, present, kind, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
  note: 'UPDATE process_journal SET state = ? WHERE id = ? AND process = ?',
  exists: 'SELECT 1 FROM process_journal WHERE id = ? AND process = ?',
  dropUndo: 'DELETE FROM process_undo WHERE entry = ?',
  drop: 'DELETE FROM process_journal WHERE id = ?',
  undo: 'SELECT ns, key, present, kind, value FROM process_undo WHERE entry = ? ORDER BY ord DESC',
  newestFirst: 'SELECT id, op, on_crash FROM process_journal WHERE process = ? ORDER BY id DESC',
}

/**
 * How another domain settles its own operations of a process (the tables domain's write
 * operations): called inside the write that settles the journal, before the entry is dropped,
 * with `keep` (stopped with materialize, or done) or `rollback` (stopped, failed, or recovered).
 */
export type JournalSettler = (db: SqliteDatabase, entry: { process: string; op: string; state: unknown }, how: 'keep' | 'rollback') => void

// By the op name's prefix before the first '.': registered once by the domain's engine module.
const settlers = new Map<string, JournalSettler>()

/** Register the settler of operations named `<prefix>.<anything>`. */
export function registerJournalSettler(prefix: string, settler: JournalSettler): void {
  settlers.set(prefix, settler)
}

function runSettler(db: SqliteDatabase, process: string, entry: number, op: string, how: 'keep' | 'rollback'): void {
  const settler = settlers.get(op.split('.')[0]!)
  if (!settler) return
  const state = db.get('SELECT state FROM process_journal WHERE id = ?', [entry])
  settler(db, { process, op, state: parseJson(state?.[0]) }, how)
}

/** What became of a process's journal when it was settled. */
export interface SettledJournal {
  /** Operations rolled back, oldest first. */
  rolledBack: string[]
  /** Operations kept for the next holder (`onCrash: 'resume'`), oldest first. */
  resumable: string[]
}

/** The operations in flight of process `id`, oldest first. */
export function journalOf(db: SqliteDatabase, id: string): JournalEntry[] {
  return db.all(SQL.entries, [id]).map((j) => ({ id: j[0] as number, op: j[1] as string, onCrash: j[2] as 'rollback' | 'resume', state: parseJson(j[3]), startedAt: j[4] as string }))
}

/**
 * An operation begins: its entry, and a snapshot of each key-value entry it names (value, or
 * absence), in the same commit so a crash can be rolled back. Returns the entry id.
 */
export function beginEntry(db: SqliteDatabase, id: string, op: string, onCrash: 'rollback' | 'resume', state: string | null, keys: JournalKey[], now: number): number {
  db.run(SQL.insert, [id, op, onCrash, state, iso(now)])
  const entry = db.get(SQL.lastId)![0] as number
  keys.forEach((k, ord) => {
    const ns = k.ns ?? 'default'
    const snapshot = snapshotKvEntry(db, ns, k.key as Key)
    db.run(SQL.insertUndo, [entry, ord, ns, k.key as SqlValue, snapshot ? 1 : 0, snapshot ? snapshot.kind : null, snapshot ? snapshot.value : null])
  })
  return entry
}

/** Record an operation's state (JSON); false when process `id` has no such entry. */
export function noteEntry(db: SqliteDatabase, id: string, entry: number, state: string | null): boolean {
  return db.run(SQL.note, [state, entry, id]) !== 0
}

/** True when `entry` is an operation in flight of process `id`. */
export function hasEntry(db: SqliteDatabase, id: string, entry: number): boolean {
  return db.get(SQL.exists, [entry, id]) !== undefined
}

/** Forget an entry and its snapshot (what it did is kept). */
export function dropEntry(db: SqliteDatabase, entry: number): void {
  db.run(SQL.dropUndo, [entry])
  db.run(SQL.drop, [entry])
}

/** Undo an entry: restore every snapshotted key, last named first, then forget the entry. */
function rollbackEntry(db: SqliteDatabase, entry: number): void {
  for (const [ns, key, present, kind, value] of db.all(SQL.undo, [entry])) {
    restoreKvEntry(db, ns as string, key as Key, present === 1 ? { kind: kind as number, value: value! } : undefined)
  }
  dropEntry(db, entry)
}

/**
 * Settle every entry of a process, newest first: `keep` drops them (what they did stays),
 * `rollback` undoes them, `crash` undoes them except those begun with `onCrash: 'resume'`, which
 * stay for the next holder.
 */
export function settleJournal(db: SqliteDatabase, id: string, how: 'keep' | 'rollback' | 'crash'): SettledJournal {
  const out: SettledJournal = { rolledBack: [], resumable: [] }
  for (const [entry, op, onCrash] of db.all(SQL.newestFirst, [id])) {
    if (how === 'keep') {
      runSettler(db, id, entry as number, op as string, 'keep')
      dropEntry(db, entry as number)
    } else if (how === 'crash' && onCrash === 'resume') out.resumable.push(op as string)
    else {
      runSettler(db, id, entry as number, op as string, 'rollback')
      rollbackEntry(db, entry as number)
      out.rolledBack.push(op as string)
    }
  }
  out.rolledBack.reverse()
  out.resumable.reverse()
  return out
}
