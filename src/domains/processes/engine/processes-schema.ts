import type { DomainSchema } from '../../../engine/context.js'
import { KV_IN_BLOB, chunkReferences } from '../../kv/engine/kv-entries.js'

/**
 * Processes: long-running work registered in the vault, so that any tab, worker or Node process
 * can see it and signal it (pause, resume, stop). Everything lives in SQLite and travels through
 * the log like any other write, so a signal reaches a process in another process as soon as that
 * one catches up (at its next checkpoint). Liveness is a lease per holder (a client: a Vault object
 * in some tab or process), renewed by the client's heartbeat; a process whose holder's lease
 * expired shows as `crashed`.
 *
 * The journal records work in flight: `begin(op, { keys })` snapshots key-value entries before the
 * process changes them; `end` forgets the snapshot. What a crashed process left open is rolled back
 * (the keys get their snapshot back) or, for operations begun with `onCrash: 'resume'`, kept for the
 * next holder to adopt.
 */
export const processesSchema: DomainSchema = {
  schema: `
    CREATE TABLE IF NOT EXISTS processes (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      holder TEXT NOT NULL,
      status TEXT NOT NULL,
      request TEXT,
      force INTEGER NOT NULL DEFAULT 0,
      materialize INTEGER NOT NULL DEFAULT 0,
      started_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      finished_at TEXT,
      error TEXT,
      checkpoints INTEGER NOT NULL DEFAULT 0,
      progress TEXT
    );
    CREATE TABLE IF NOT EXISTS process_holders (id TEXT PRIMARY KEY, lease_until REAL NOT NULL, info TEXT);
    CREATE TABLE IF NOT EXISTS process_journal (
      id INTEGER PRIMARY KEY,
      process TEXT NOT NULL,
      op TEXT NOT NULL,
      on_crash TEXT NOT NULL,
      state TEXT,
      started_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS process_undo (
      entry INTEGER NOT NULL,
      ord INTEGER NOT NULL,
      ns TEXT NOT NULL,
      key NOT NULL,
      present INTEGER NOT NULL,
      kind INTEGER,
      value BLOB,
      PRIMARY KEY (entry, ord)
    );`,
  // Snapshots of kv entries whose value is in the blob store (whole or in chunks) keep it alive.
  blobReferences: [`SELECT value FROM process_undo WHERE present = 1 AND kind & ${KV_IN_BLOB}`, chunkReferences('process_undo', 'present = 1')],
}
