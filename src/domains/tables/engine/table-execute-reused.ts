import { tableToIPC } from 'apache-arrow'
import type { CallContext } from '../../../engine/context.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import { checkId, findProcess, iso, storedMessage } from '../../processes/engine/process-rows.js'
import { builderReads } from '../shared/builder-plan.js'
import type { BuilderSpec } from '../shared/builder-types.js'
import { fieldDType } from '../shared/table-arrow.js'
import { tempInstanceId } from '../shared/table-names.js'
import { reuseInstance } from './compute/execute-builders.js'
import type { ExecuteArgs, ExecuteState, TablesExecutor } from './table-execute.js'
import { executeDef, executionPlan } from './table-execute.js'
import { hitFault } from './table-faults.js'
import { insertProcess, lockHolder, type OpCall } from './table-ops.js'
import { findTable, materialize, type StoredColumn } from './table-rows.js'

// An execution where nothing changed, in one commit.
//
// `execute` normally commits three times at least: the process is registered with its lock, the
// builders run (outside any write), the instance is materialised with the takedown. When every
// builder is unchanged from the origin, nothing runs: no builder function is called and the new
// instance is the origin's columns (their blobs, by hash). Then the registration is not needed to
// protect any work, and the whole operation is one write: the process (done), the side effects of
// setup, the instance, its fingerprints. That write is atomic: a crash before it leaves nothing
// (the call was never acknowledged), after it the instance and the done process are both there.
//
// The reuse is decided from reads made before the write (no lock held); inside the write, every
// input it was decided from is read again (`inputsKey`) and compared, and the table must not be
// locked by another process: if anything changed, or the table is locked, nothing is written and
// the execution runs the ordinary way (which waits for the lock). So the result is what an
// ordinary execution started at the moment of the write would have made.

/** Every row an unchanged execution of `args` depends on, as one text (compared inside the write). */
function inputsKey(db: SqliteDatabase, args: ExecuteArgs, specs: readonly BuilderSpec[], origin: ExecuteState['origin']): string {
  const temp = tempInstanceId(args.version)
  const t = findTable(db, args.table)
  if (!t) return 'no table'
  const allSelf = specs.flatMap((s) => s.changedColumns)
  const tables = new Set([args.table, ...(origin ? [origin.table] : [])])
  const modules = new Set<string>()
  for (const s of specs) {
    modules.add(s.function.module)
    for (const d of builderReads(s, allSelf).tables) tables.add(d.table)
  }
  const parts: unknown[] = [
    db.all('SELECT name, text FROM tbl_builders WHERE tbl = ? AND instance = ? ORDER BY name', [t.id, temp]),
    db.all('SELECT name, hash FROM tbl_artifacts WHERE tbl = ? AND instance = ? ORDER BY name', [t.id, temp]),
    [...modules].sort().map((m) => db.get('SELECT text FROM tbl_code WHERE name = ?', [m])?.[0] ?? null),
  ]
  // Which instance a reference resolves to, and which instance is the origin, follow these rows
  // (a materialised instance's columns and fingerprints never change).
  for (const name of [...tables].sort()) {
    const row = db.get('SELECT id, side_effects, multiple_artifacts FROM tbl_tables WHERE name = ?', [name])
    parts.push(name, row, row ? db.all('SELECT id, temp, active, successful, external_edit, origin, rows, seq FROM tbl_instances WHERE tbl = ? ORDER BY id', [row[0] as number]) : null)
  }
  return JSON.stringify(parts)
}

/**
 * Execute `args` in one write when every builder is reused; undefined when it cannot be (a builder
 * must run, an input changed meanwhile, the table is locked, the process id is taken): then the
 * caller executes the ordinary way. Errors of the write itself (a fault) fail the process as the
 * ordinary way does: nothing of the operation is left, the process shows it failed.
 */
export async function executeReused(executor: TablesExecutor, ctx: CallContext, call: OpCall, args: ExecuteArgs, processId: string): Promise<{ processId: string; instanceId: string } | undefined> {
  if (ctx.inTransaction) return undefined
  try {
    checkId(processId)
  } catch {
    return undefined
  }
  let plan
  try {
    plan = executionPlan(ctx.db, args)
  } catch {
    return undefined // the ordinary way reports it, as a process
  }
  if (!plan.origin || args.force) return undefined
  const before = inputsKey(ctx.db, args, plan.specs, plan.origin)
  const origin = await executor.originFor(ctx, plan.origin, false)
  if (!origin) return undefined
  const state: ExecuteState = { origin: plan.origin, deactivated: [], completed: [], artifacts: [] }
  const progress: unknown[] = []
  const result = await reuseInstance({ ...executor.request(ctx, args, plan.specs, processId, state), origin, onProgress: (p) => progress.push(p) })
  if (!result) return undefined
  const pins: string[] = []
  try {
    for (const r of result.builders) pins.push(...(await executor.storeResult(ctx, r, state)))
    const byName = new Map(state.completed.flatMap((r) => r.columns).map((c) => [c.name, c]))
    const columns: StoredColumn[] = []
    for (const f of result.table.schema.fields) {
      columns.push(byName.get(f.name) ?? { name: f.name, dtype: fieldDType(f)?.name ?? 'msgpack?', hash: await executor.putColumn(ctx, tableToIPC(result.table.select([f.name]), 'stream'), pins) })
    }
    const artifactValues: Record<string, (string | null)[]> = {}
    for (const f of result.table.schema.fields) {
      if (fieldDType(f)?.kind === 'artifact') artifactValues[f.name] = (result.table.getChild(f.name)!.toArray() as (string | null)[]).map((v) => v ?? null)
    }
    const last = new Map(progress.map((p) => [(p as { builder: string }).builder, p]))
    try {
      return await ctx.write(() => {
        const db = ctx.db
        if (findProcess(db, processId) || lockHolder(db, [args.table], processId) || inputsKey(db, args, plan.specs, plan.origin) !== before) return undefined
        const now = Date.now()
        // Setup's changes (a table with side effects: its other instances become inactive), then
        // the takedown's: all in this one write.
        executeDef.setup(db, args, now)
        hitFault('execute', 'setup')
        hitFault('execute', 'execute')
        const t = findTable(db, args.table)!
        const instanceId = materialize(db, t, args.version, { columns, rows: result.table.numRows, dependencies: [...result.dependencies], successful: true, artifactValues, uuid: globalThis.crypto.randomUUID(), fingerprints: { ...result.fingerprints } }, now)
        insertProcess(db, processId, 'tables.execute', call.holder, 'done', now)
        db.run('UPDATE processes SET progress = ? WHERE id = ?', [JSON.stringify([...last.values()]), processId])
        return { processId, instanceId }
      })
    } catch (err) {
      // The write rolled back: nothing of the operation is left; the process shows it failed, and why.
      await ctx
        .write(() => {
          if (findProcess(ctx.db, processId)) return
          const now = Date.now()
          insertProcess(ctx.db, processId, 'tables.execute', call.holder, 'done', now)
          ctx.db.run('UPDATE processes SET status = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?', ['failed', storedMessage(err instanceof Error ? `${err.name}: ${err.message}` : String(err)), iso(now), iso(now), processId])
        })
        .catch(() => {})
      throw err
    }
  } finally {
    for (const h of pins) ctx.blobs.unpin(h)
  }
}
