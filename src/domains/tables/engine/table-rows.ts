import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { SqliteDatabase, SqlValue } from '../../../sqlite/sqlite-database.js'
import { materializedId, tempInstanceId } from '../shared/table-names.js'
import type { InstanceInfo, InstanceRef, TableInfo } from '../shared/table-types.js'

// Rows of the tables domain (tables-schema.ts): reads, and the changes operations make inside a write.

/** A table's row. */
export interface TableRow {
  id: number
  name: string
  multipleArtifacts: boolean
  sideEffects: boolean
  description: string
  createdAt: string
}

/** A stored column of an instance. */
export interface StoredColumn {
  name: string
  dtype: string
  hash: string
}

const INSTANCE_COLUMNS = 'id, version, temp, active, successful, external_edit, origin, dependencies, description, rows, created_at, materialized_at'

export const iso = (ms: number): string => new Date(ms).toISOString()

function toTable(r: SqlValue[]): TableRow {
  return { id: r[0] as number, name: r[1] as string, multipleArtifacts: r[2] === 1, sideEffects: r[3] === 1, description: r[4] as string, createdAt: r[5] as string }
}

export function findTable(db: SqliteDatabase, name: string): TableRow | undefined {
  const r = db.get('SELECT id, name, multiple_artifacts, side_effects, description, created_at FROM tbl_tables WHERE name = ?', [name])
  return r ? toTable(r) : undefined
}

export function mustFindTable(db: SqliteDatabase, name: string): TableRow {
  const t = findTable(db, name)
  if (!t) throw new NotFoundError(`no table named "${name}"`)
  return t
}

export function allTables(db: SqliteDatabase): TableRow[] {
  return db.all('SELECT id, name, multiple_artifacts, side_effects, description, created_at FROM tbl_tables ORDER BY name').map(toTable)
}

export function tableInfo(t: TableRow): TableInfo {
  return { name: t.name, allowMultipleArtifacts: t.multipleArtifacts, hasSideEffects: t.sideEffects, description: t.description, createdAt: t.createdAt }
}

export function columnsOf(db: SqliteDatabase, tbl: number, instance: string): StoredColumn[] {
  return db.all('SELECT name, dtype, hash FROM tbl_columns WHERE tbl = ? AND instance = ? ORDER BY ord', [tbl, instance]).map((r) => ({ name: r[0] as string, dtype: r[1] as string, hash: r[2] as string }))
}

function toInstance(db: SqliteDatabase, t: TableRow, r: SqlValue[]): InstanceInfo {
  const id = r[0] as string
  return {
    table: t.name,
    instanceId: id,
    version: r[1] as string,
    temporary: r[2] === 1,
    active: r[3] === 1,
    successful: r[4] === 1,
    externalEdit: r[5] === 1,
    origin: r[6] ? (JSON.parse(r[6] as string) as InstanceRef) : null,
    dependencies: JSON.parse(r[7] as string) as InstanceRef[],
    description: r[8] as string,
    rows: r[9] as number,
    columns: columnsOf(db, t.id, id).map((c) => ({ name: c.name, dtype: c.dtype })),
    createdAt: r[10] as string,
    materializedAt: (r[11] as string | null) ?? null,
  }
}

export function findInstance(db: SqliteDatabase, t: TableRow, id: string): InstanceInfo | undefined {
  const r = db.get(`SELECT ${INSTANCE_COLUMNS} FROM tbl_instances WHERE tbl = ? AND id = ?`, [t.id, id])
  return r ? toInstance(db, t, r) : undefined
}

export function mustFindInstance(db: SqliteDatabase, t: TableRow, id: string): InstanceInfo {
  const i = findInstance(db, t, id)
  if (!i) throw new NotFoundError(`table "${t.name}" has no instance "${id}"`)
  return i
}

/** Instances of a table, materialised ones oldest first, then temporary ones (when asked for). */
export function instancesOf(db: SqliteDatabase, t: TableRow, version: string | undefined, includeTemp: boolean): InstanceInfo[] {
  const rows = db.all(`SELECT ${INSTANCE_COLUMNS} FROM tbl_instances WHERE tbl = ? ORDER BY temp, seq`, [t.id])
  return rows.map((r) => toInstance(db, t, r)).filter((i) => (includeTemp || !i.temporary) && (version === undefined || i.version === version))
}

/** The next value of the vault's instance sequence (orders instances by materialisation). */
export function nextSeq(db: SqliteDatabase): number {
  const r = db.get('SELECT next FROM tbl_seq WHERE id = 1')
  const next = r ? (r[0] as number) : 1
  db.run('INSERT OR REPLACE INTO tbl_seq (id, next) VALUES (1, ?)', [next + 1])
  return next
}

/** Inside a write: a new temporary instance. */
export function insertTemp(db: SqliteDatabase, t: TableRow, version: string, fields: { externalEdit: boolean; origin: InstanceRef | null; description: string }, now: number): string {
  const id = tempInstanceId(version)
  db.run(`INSERT INTO tbl_instances (tbl, ${INSTANCE_COLUMNS}, seq) VALUES (?, ?, ?, 1, 1, 1, ?, ?, '[]', ?, 0, ?, NULL, ?)`, [
    t.id, id, version, fields.externalEdit ? 1 : 0, fields.origin ? JSON.stringify(fields.origin) : null, fields.description, iso(now), nextSeq(db),
  ])
  return id
}

/** Inside a write: set an instance's columns (replacing what it had). */
export function setColumns(db: SqliteDatabase, tbl: number, instance: string, columns: StoredColumn[], rows: number): void {
  db.run('DELETE FROM tbl_columns WHERE tbl = ? AND instance = ?', [tbl, instance])
  columns.forEach((c, ord) => db.run('INSERT INTO tbl_columns (tbl, instance, ord, name, dtype, hash) VALUES (?, ?, ?, ?, ?, ?)', [tbl, instance, ord, c.name, c.dtype, c.hash]))
  db.run('UPDATE tbl_instances SET rows = ? WHERE tbl = ? AND id = ?', [rows, tbl, instance])
}

/** Inside a write: remove an instance and everything tied to it. */
export function dropInstance(db: SqliteDatabase, tbl: number, instance: string): void {
  for (const table of ['tbl_columns', 'tbl_builders', 'tbl_artifacts', 'tbl_fingerprints']) db.run(`DELETE FROM ${table} WHERE tbl = ? AND instance = ?`, [tbl, instance])
  db.run('DELETE FROM tbl_instances WHERE tbl = ? AND id = ?', [tbl, instance])
}

/** Artifact names of an instance ('' = the table's own). */
export function artifactNames(db: SqliteDatabase, tbl: number, instance: string): Set<string> {
  return new Set(db.all('SELECT name FROM tbl_artifacts WHERE tbl = ? AND instance = ?', [tbl, instance]).map((r) => r[0] as string))
}

/** What a materialised instance is made of. */
export interface Materialization {
  columns: StoredColumn[]
  rows: number
  dependencies: InstanceRef[]
  successful: boolean
  /** Values of each `artifact` column, checked against the instance's artifacts. */
  artifactValues: Record<string, (string | null)[]>
  uuid: string
  /** Builder → fingerprint of what built it (execute). */
  fingerprints?: Record<string, string>
}

/**
 * Inside a write: the temporary instance of `version` becomes a materialised one, with `m`'s data;
 * its builders and artifacts go with it (artifacts to the table when it keeps one set of them).
 * Returns the new id.
 */
export function materialize(db: SqliteDatabase, t: TableRow, version: string, m: Materialization, now: number): string {
  const temp = tempInstanceId(version)
  const tempRow = findInstance(db, t, temp)
  if (!tempRow) throw new NotFoundError(`table "${t.name}" has no temporary instance "${temp}" to materialise`)
  const present = artifactNames(db, t.id, temp)
  for (const [column, values] of Object.entries(m.artifactValues)) {
    values.forEach((v, row) => {
      if (v !== null && !present.has(v)) throw new InvalidArgumentError(`column "${column}" row ${row} names artifact "${v}", which instance "${temp}" of table "${t.name}" does not have`)
    })
  }
  let seconds = Math.floor(now / 1000)
  let id = materializedId(version, seconds, m.uuid)
  while (findInstance(db, t, id)) id = materializedId(version, ++seconds, m.uuid)
  db.run(`INSERT INTO tbl_instances (tbl, ${INSTANCE_COLUMNS}, seq) VALUES (?, ?, ?, 0, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    t.id, id, version, m.successful ? 1 : 0, tempRow.externalEdit ? 1 : 0, tempRow.origin ? JSON.stringify(tempRow.origin) : null, JSON.stringify(m.dependencies), tempRow.description, m.rows, tempRow.createdAt, iso(now), nextSeq(db),
  ])
  db.run('DELETE FROM tbl_columns WHERE tbl = ? AND instance = ?', [t.id, temp])
  setColumns(db, t.id, id, m.columns, m.rows)
  db.run('UPDATE tbl_builders SET instance = ? WHERE tbl = ? AND instance = ?', [id, t.id, temp])
  db.run('DELETE FROM tbl_fingerprints WHERE tbl = ? AND instance = ?', [t.id, temp])
  for (const [builder, fp] of Object.entries(m.fingerprints ?? {})) db.run('INSERT INTO tbl_fingerprints (tbl, instance, builder, fingerprint) VALUES (?, ?, ?, ?)', [t.id, id, builder, fp])
  if (t.multipleArtifacts) {
    db.run('UPDATE tbl_artifacts SET instance = ? WHERE tbl = ? AND instance = ?', [id, t.id, temp])
  } else {
    // One artifact set per table: the new instance's replaces it, and only the newest instance is live.
    db.run("DELETE FROM tbl_artifacts WHERE tbl = ? AND instance = ''", [t.id])
    db.run("UPDATE tbl_artifacts SET instance = '' WHERE tbl = ? AND instance = ?", [t.id, temp])
    db.run('UPDATE tbl_instances SET active = 0 WHERE tbl = ? AND id != ? AND temp = 0', [t.id, id])
  }
  db.run('DELETE FROM tbl_instances WHERE tbl = ? AND id = ?', [t.id, temp])
  return id
}

/**
 * The instance `get` reads: the one named, else the latest materialised one of `version` passing
 * the filters. Its id and row count only (one query: `get` runs often and reads nothing else).
 */
export function pickInstance(db: SqliteDatabase, t: TableRow, o: { instanceId?: string; version?: string; activeOnly: boolean; successfulOnly: boolean }): { instanceId: string; rows: number } {
  if (o.instanceId !== undefined) {
    const r = db.get('SELECT id, active, successful, rows FROM tbl_instances WHERE tbl = ? AND id = ?', [t.id, o.instanceId])
    if (!r) throw new NotFoundError(`table "${t.name}" has no instance "${o.instanceId}"`)
    if (o.activeOnly && r[1] !== 1) throw new NotFoundError(`instance "${o.instanceId}" of table "${t.name}" is not active (pass activeOnly: false to read it)`)
    if (o.successfulOnly && r[2] !== 1) throw new NotFoundError(`instance "${o.instanceId}" of table "${t.name}" did not complete successfully`)
    return { instanceId: r[0] as string, rows: r[3] as number }
  }
  const r = db.get(
    'SELECT id, rows FROM tbl_instances WHERE tbl = ? AND temp = 0 AND (? IS NULL OR version = ?) AND (active = 1 OR ? = 0) AND (successful = 1 OR ? = 0) ORDER BY seq DESC LIMIT 1',
    [t.id, o.version ?? null, o.version ?? null, o.activeOnly ? 1 : 0, o.successfulOnly ? 1 : 0],
  )
  if (!r) throw new NotFoundError(`table "${t.name}" has no ${o.activeOnly ? 'active ' : ''}materialised instance${o.version !== undefined ? ` of version "${o.version}"` : ''}`)
  return { instanceId: r[0] as string, rows: r[1] as number }
}
