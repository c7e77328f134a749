import { AlreadyExistsError, ConflictError, InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import { builderText, checkBuilderName } from '../shared/builder-text.js'
import { parseBuilder } from '../shared/builder-spec.js'
import { checkObjectName, checkTableName, indexBuilderName, tempInstanceId } from '../shared/table-names.js'
import type { InstanceRef } from '../shared/table-types.js'
import { registerOp, type OpDef } from './table-ops.js'
import {
  columnsOf, dropInstance, findInstance, findTable, insertTemp, instancesOf, iso, materialize, mustFindInstance, mustFindTable, setColumns,
  type Materialization, type StoredColumn,
} from './table-rows.js'

// The write operations of the tables domain, as OpDefs (table-ops.ts): setup validates and plans,
// execute applies. They run inside writes (synchronous SQL); bulk bytes were put in the blob store
// before (see tables-engine.ts), so arguments carry only hashes.

function def<A, S, R>(d: OpDef<A, S, R>): OpDef<A, S, R> {
  registerOp(d)
  return d
}

export const createTable = def({
  name: 'create',
  resumable: true,
  locks: (a: { name: string; multipleArtifacts: boolean; sideEffects: boolean; description: string }) => [a.name],
  setup(db, a) {
    checkTableName(a.name)
    if (findTable(db, a.name)) throw new AlreadyExistsError(`a table named "${a.name}" exists`)
    return {}
  },
  execute(db, a, _s, now) {
    db.run('INSERT INTO tbl_tables (name, multiple_artifacts, side_effects, description, created_at) VALUES (?, ?, ?, ?, ?)', [a.name, a.multipleArtifacts ? 1 : 0, a.sideEffects ? 1 : 0, a.description, iso(now)])
    return {}
  },
})

export const renameTable = def({
  name: 'rename',
  resumable: true,
  locks: (a: { from: string; to: string }) => [a.from, a.to],
  setup(db, a) {
    mustFindTable(db, a.from)
    checkTableName(a.to, 'the new table name')
    if (findTable(db, a.to)) throw new AlreadyExistsError(`a table named "${a.to}" exists`)
    return {}
  },
  execute(db, a) {
    const t = mustFindTable(db, a.from)
    db.run('UPDATE tbl_tables SET name = ? WHERE id = ?', [a.to, t.id])
    // The index builder is named after its table.
    db.run('UPDATE tbl_builders SET name = ? WHERE tbl = ? AND name = ?', [indexBuilderName(a.to), t.id, indexBuilderName(a.from)])
    // Instance references name their table: every instance's origin and dependencies (in any
    // table) that point into the renamed table follow it. Left with the old name, a temporary
    // instance made with `copy: true` before the rename could not be executed after it
    // (NotFoundError: no table named <from>), and a table later created with the old name would
    // be taken for this one.
    const renamed = (r: InstanceRef): InstanceRef => (r.table === a.from ? { ...r, table: a.to } : r)
    for (const r of db.all("SELECT tbl, id, origin, dependencies FROM tbl_instances WHERE origin IS NOT NULL OR dependencies != '[]'")) {
      const origin = r[2] === null ? null : (JSON.parse(r[2] as string) as InstanceRef)
      const deps = JSON.parse(r[3] as string) as InstanceRef[]
      if (origin?.table !== a.from && !deps.some((d) => d.table === a.from)) continue
      db.run('UPDATE tbl_instances SET origin = ?, dependencies = ? WHERE tbl = ? AND id = ?', [origin ? JSON.stringify(renamed(origin)) : null, JSON.stringify(deps.map(renamed)), r[0], r[1]])
    }
    return {}
  },
})

export const dropTable = def({
  name: 'delete',
  resumable: true,
  locks: (a: { name: string }) => [a.name],
  setup(db, a) {
    mustFindTable(db, a.name)
    return {}
  },
  execute(db, a) {
    const t = mustFindTable(db, a.name)
    for (const table of ['tbl_columns', 'tbl_builders', 'tbl_artifacts', 'tbl_fingerprints', 'tbl_instances']) db.run(`DELETE FROM ${table} WHERE tbl = ?`, [t.id])
    db.run('DELETE FROM tbl_tables WHERE id = ?', [t.id])
    return {}
  },
})

interface CreateInstanceArgs {
  table: string
  version: string
  origin: InstanceRef | null
  copy: boolean
  externalEdit: boolean
  builders: string[]
  description: string
}

export const createInstance = def({
  name: 'createInstance',
  resumable: true,
  locks: (a: CreateInstanceArgs) => [a.table],
  setup(db, a) {
    const t = mustFindTable(db, a.table)
    const temp = tempInstanceId(a.version)
    if (findInstance(db, t, temp)) throw new AlreadyExistsError(`table "${a.table}" has a temporary instance "${temp}" already (one per version: execute, write or delete it first)`)
    let origin = a.origin
    if (origin) {
      const ot = mustFindTable(db, origin.table)
      const oi = mustFindInstance(db, ot, origin.instanceId)
      if (oi.temporary) throw new InvalidArgumentError(`origin "${origin.instanceId}" of table "${origin.table}" is temporary; an origin is a materialised instance`)
    } else if (a.copy) {
      const latest = instancesOf(db, t, undefined, false).at(-1)
      origin = latest ? { table: t.name, instanceId: latest.instanceId } : null
    }
    for (const b of a.builders) {
      checkObjectName(b, 'a builder name')
      checkBuilderName(a.table, b, undefined)
    }
    return { origin }
  },
  execute(db, a, s: { origin: InstanceRef | null }, now) {
    const t = mustFindTable(db, a.table)
    const id = insertTemp(db, t, a.version, { externalEdit: a.externalEdit, origin: s.origin, description: a.description }, now)
    if (s.origin) {
      const ot = mustFindTable(db, s.origin.table)
      // Builders come with the origin (its index builder renamed after this table).
      for (const r of db.all('SELECT name, text FROM tbl_builders WHERE tbl = ? AND instance = ?', [ot.id, s.origin.instanceId])) {
        const name = r[0] === indexBuilderName(ot.name) ? indexBuilderName(t.name) : (r[0] as string)
        db.run('INSERT OR REPLACE INTO tbl_builders (tbl, instance, name, text) VALUES (?, ?, ?, ?)', [t.id, id, name, r[1]])
      }
      // Artifacts come too (the origin's, or its table's one set): input files carry over to the new version.
      const owner = ot.multipleArtifacts ? s.origin.instanceId : ''
      db.run('INSERT OR REPLACE INTO tbl_artifacts (tbl, instance, name, hash, size) SELECT ?, ?, name, hash, size FROM tbl_artifacts WHERE tbl = ? AND instance = ?', [t.id, id, ot.id, owner])
      if (a.externalEdit) {
        const oi = mustFindInstance(db, ot, s.origin.instanceId)
        setColumns(db, t.id, id, columnsOf(db, ot.id, oi.instanceId), oi.rows)
      }
    } else if (!a.externalEdit) {
      db.run('INSERT OR IGNORE INTO tbl_builders (tbl, instance, name, text) VALUES (?, ?, ?, NULL)', [t.id, id, indexBuilderName(t.name)])
    }
    for (const b of a.builders) db.run('INSERT OR IGNORE INTO tbl_builders (tbl, instance, name, text) VALUES (?, ?, ?, NULL)', [t.id, id, b])
    return { instanceId: id }
  },
})

export const deleteInstance = def({
  name: 'deleteInstance',
  resumable: true,
  locks: (a: { table: string; instanceId: string }) => [a.table],
  setup(db, a) {
    mustFindInstance(db, mustFindTable(db, a.table), a.instanceId)
    return {}
  },
  execute(db, a) {
    dropInstance(db, mustFindTable(db, a.table).id, a.instanceId)
    return {}
  },
})

/** The temporary instance builders of `version` are edited in. */
function tempFor(db: SqliteDatabase, table: string, version: string) {
  const t = mustFindTable(db, table)
  const temp = tempInstanceId(version)
  if (!findInstance(db, t, temp)) throw new NotFoundError(`table "${table}" has no temporary instance "${temp}": builders are edited in one (createInstance first)`)
  return { t, temp }
}

export const createBuilder = def({
  name: 'buildersCreate',
  resumable: true,
  locks: (a: { table: string; name: string; text: string; version: string }) => [a.table],
  setup(db, a) {
    tempFor(db, a.table, a.version)
    checkObjectName(a.name, 'a builder name')
    checkBuilderName(a.table, a.name, builderText(a.text, `builder "${a.name}"`).spec)
    // The builder language's own checks (fields, references, the index rule).
    parseBuilder(a.text, { table: a.table, name: a.name })
    return {}
  },
  execute(db, a) {
    const { t, temp } = tempFor(db, a.table, a.version)
    db.run('INSERT OR REPLACE INTO tbl_builders (tbl, instance, name, text) VALUES (?, ?, ?, ?)', [t.id, temp, a.name, a.text])
    return {}
  },
})

export const deleteBuilder = def({
  name: 'buildersDelete',
  resumable: true,
  locks: (a: { table: string; name: string; version: string }) => [a.table],
  setup(db, a) {
    const { t, temp } = tempFor(db, a.table, a.version)
    if (!db.get('SELECT 1 FROM tbl_builders WHERE tbl = ? AND instance = ? AND name = ?', [t.id, temp, a.name])) throw new NotFoundError(`instance "${temp}" of table "${a.table}" has no builder "${a.name}"`)
    return {}
  },
  execute(db, a) {
    const { t, temp } = tempFor(db, a.table, a.version)
    db.run('DELETE FROM tbl_builders WHERE tbl = ? AND instance = ? AND name = ?', [t.id, temp, a.name])
    return {}
  },
})

export const createCode = def({
  name: 'codeCreate',
  resumable: true,
  locks: () => [],
  setup(db, a: { name: string; text: string; replace: boolean }) {
    checkObjectName(a.name, 'a code module name')
    if (!a.replace && db.get('SELECT 1 FROM tbl_code WHERE name = ?', [a.name])) throw new AlreadyExistsError(`a code module named "${a.name}" exists (pass { replace: true } to replace it)`)
    return {}
  },
  execute(db, a, _s, now) {
    // Checked again: code operations lock no table, so between a paused operation's setup and its
    // resumed execution (calling again, or restart) another call may have created this module;
    // without `replace` it must not be overwritten (it was, silently, losing that module's text).
    if (!a.replace && db.get('SELECT 1 FROM tbl_code WHERE name = ?', [a.name])) throw new AlreadyExistsError(`a code module named "${a.name}" exists (pass { replace: true } to replace it)`)
    db.run('INSERT OR REPLACE INTO tbl_code (name, text, created_at) VALUES (?, ?, ?)', [a.name, a.text, iso(now)])
    return {}
  },
})

export const deleteCode = def({
  name: 'codeDelete',
  resumable: true,
  locks: () => [],
  setup(db, a: { name: string }) {
    if (!db.get('SELECT 1 FROM tbl_code WHERE name = ?', [a.name])) throw new NotFoundError(`no code module named "${a.name}"`)
    return {}
  },
  execute(db, a) {
    db.run('DELETE FROM tbl_code WHERE name = ?', [a.name])
    return {}
  },
})

export const describe = def({
  name: 'describe',
  resumable: true,
  locks: (a: { table: string; text: string; instanceId: string | null }) => [a.table],
  setup(db, a) {
    const t = mustFindTable(db, a.table)
    if (a.instanceId !== null) mustFindInstance(db, t, a.instanceId)
    return {}
  },
  execute(db, a) {
    const t = mustFindTable(db, a.table)
    if (a.instanceId === null) db.run('UPDATE tbl_tables SET description = ? WHERE id = ?', [a.text, t.id])
    else db.run('UPDATE tbl_instances SET description = ? WHERE tbl = ? AND id = ?', [a.text, t.id, a.instanceId])
    return {}
  },
})

export const putArtifact = def({
  name: 'artifactsPut',
  resumable: true,
  locks: (a: { table: string; instanceId: string; name: string; hash: string; size: number }) => [a.table],
  setup(db, a) {
    const t = mustFindTable(db, a.table)
    const i = mustFindInstance(db, t, a.instanceId)
    if (!i.temporary) throw new ConflictError(`instance "${a.instanceId}" of table "${a.table}" is materialised: its artifacts are fixed (put them in a temporary instance)`)
    return { blobs: [a.hash] }
  },
  execute(db, a) {
    const t = mustFindTable(db, a.table)
    db.run('INSERT OR REPLACE INTO tbl_artifacts (tbl, instance, name, hash, size) VALUES (?, ?, ?, ?, ?)', [t.id, a.instanceId, a.name, a.hash, a.size])
    return {}
  },
})

/** Arguments of a write: the data's columns are already in the blob store. */
export interface WriteArgs {
  table: string
  version: string
  columns: StoredColumn[]
  rows: number
  dependencies: InstanceRef[]
  artifactValues: Record<string, (string | null)[]>
  uuid: string
}

function writeMaterialization(a: WriteArgs, successful: boolean): Materialization {
  return { columns: a.columns, rows: a.rows, dependencies: a.dependencies, successful, artifactValues: a.artifactValues, uuid: a.uuid }
}

export const writeInstance = def({
  name: 'write',
  resumable: false,
  locks: (a: WriteArgs) => [a.table],
  setup(db, a) {
    const t = mustFindTable(db, a.table)
    const temp = findInstance(db, t, tempInstanceId(a.version))
    if (temp && !temp.externalEdit) throw new InvalidArgumentError(`instance "${temp.instanceId}" of table "${a.table}" is built by execute(); write() fills an instance created with externalEdit: true`)
    for (const d of a.dependencies) mustFindInstance(db, mustFindTable(db, d.table), d.instanceId)
    return { blobs: a.columns.map((c) => c.hash), createTemp: !temp }
  },
  execute(db, a, s: { createTemp: boolean }, now) {
    const t = mustFindTable(db, a.table)
    if (s.createTemp && !findInstance(db, t, tempInstanceId(a.version))) insertTemp(db, t, a.version, { externalEdit: true, origin: null, description: '' }, now)
    return { instanceId: materialize(db, t, a.version, writeMaterialization(a, true), now) }
  },
  keep(db, a, s: { createTemp: boolean }, now) {
    const t = findTable(db, a.table)
    if (!t) return
    if (!findInstance(db, t, tempInstanceId(a.version))) insertTemp(db, t, a.version, { externalEdit: true, origin: null, description: '' }, now)
    materialize(db, t, a.version, writeMaterialization(a, false), now)
  },
})

