import type { DomainSchema } from '../../../engine/context.js'

/**
 * Versioned tables (docs/format.md, "Tables"). A table (`tbl_tables`) has instances
 * (`tbl_instances`); an instance's data is stored column by column (`tbl_columns`), each column as
 * one Arrow IPC stream in the blob store, so reading an instance is one blob read per column and no
 * per-row work. Builders (`tbl_builders`) and artifacts (`tbl_artifacts`) belong to an instance
 * (artifacts with `instance = ''` to the table). Code modules (`tbl_code`) are source text.
 * `tbl_fingerprints` keeps, per materialised instance, each builder's fingerprint (row reuse).
 * `tbl_ops` holds each write operation running as a process (its arguments, step and staged state)
 * and `tbl_locks` the tables it holds locked.
 */
export const tablesSchema: DomainSchema = {
  schema: `
    CREATE TABLE IF NOT EXISTS tbl_tables (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      multiple_artifacts INTEGER NOT NULL,
      side_effects INTEGER NOT NULL,
      description TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS tbl_instances (
      tbl INTEGER NOT NULL,
      id TEXT NOT NULL,
      version TEXT NOT NULL,
      temp INTEGER NOT NULL,
      active INTEGER NOT NULL,
      successful INTEGER NOT NULL,
      external_edit INTEGER NOT NULL,
      origin TEXT,
      dependencies TEXT NOT NULL,
      description TEXT NOT NULL,
      rows INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      created_at TEXT NOT NULL,
      materialized_at TEXT,
      PRIMARY KEY (tbl, id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS tbl_columns (
      tbl INTEGER NOT NULL,
      instance TEXT NOT NULL,
      ord INTEGER NOT NULL,
      name TEXT NOT NULL,
      dtype TEXT NOT NULL,
      hash TEXT NOT NULL,
      PRIMARY KEY (tbl, instance, ord)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS tbl_builders (
      tbl INTEGER NOT NULL,
      instance TEXT NOT NULL,
      name TEXT NOT NULL,
      text TEXT,
      PRIMARY KEY (tbl, instance, name)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS tbl_artifacts (
      tbl INTEGER NOT NULL,
      instance TEXT NOT NULL,
      name TEXT NOT NULL,
      hash TEXT NOT NULL,
      size INTEGER NOT NULL,
      PRIMARY KEY (tbl, instance, name)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS tbl_code (name TEXT PRIMARY KEY, text TEXT NOT NULL, created_at TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS tbl_ops (process TEXT PRIMARY KEY, op TEXT NOT NULL, args TEXT NOT NULL, step TEXT NOT NULL, state TEXT);
    CREATE TABLE IF NOT EXISTS tbl_locks (tbl_name TEXT NOT NULL, process TEXT NOT NULL, PRIMARY KEY (tbl_name, process)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS tbl_fingerprints (tbl INTEGER NOT NULL, instance TEXT NOT NULL, builder TEXT NOT NULL, fingerprint TEXT NOT NULL, PRIMARY KEY (tbl, instance, builder)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS tbl_seq (id INTEGER PRIMARY KEY CHECK (id = 1), next INTEGER NOT NULL);`,
  blobReferences: ['SELECT hash FROM tbl_columns', 'SELECT hash FROM tbl_artifacts', "SELECT value FROM tbl_ops, json_each(tbl_ops.state, '$.blobs')", "SELECT json_extract(c.value, '$.hash') FROM tbl_ops, json_each(tbl_ops.state, '$.completed') AS b, json_each(b.value, '$.columns') AS c"],
}
