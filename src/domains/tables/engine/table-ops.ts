import { ConflictError, LockTimeoutError, StoppedError, VaultError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import type { EngineServices } from '../../../engine/engine-services.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import { beginEntry, registerJournalSettler } from '../../processes/engine/process-journal.js'
import { checkId, currentStatus, findProcess, iso, renewLease, storedMessage } from '../../processes/engine/process-rows.js'
import { hitFault } from './table-faults.js'

/**
 * Every write operation of the tables domain is a process (TableVault's setup → execute →
 * takedown), run by {@link OpRunner}:
 *
 * - without a process id, setup and execution run in one write: any error rolls the whole
 *   operation back (nothing is left, not even a process record); a success records a done process;
 * - with one, the operation is registered (a `processes` row, a journal entry begun with
 *   `onCrash: 'resume'`, its arguments in `tbl_ops`, its locks in `tbl_locks`), then setup and
 *   execution each commit on their own. The library's own errors roll it back (the process
 *   fails); any other error pauses it where it was (locks kept): calling the operation again with
 *   the same id, or `restart`, resumes it at that step; `processes.stop(id, { force })` rolls it
 *   back through the journal settler below (`materialize` keeps a write's or an execute's partial
 *   result as an instance).
 *
 * Operations make no visible change before their execution step, except what their `undo` reverts.
 */
export interface OpDef<A = any, S = any, R = any> {
  /** Its name, as the fault hook and `processes` (`tables.<name>`) know it. */
  readonly name: string
  /** false: calling it again cannot resume it (a write: its data came with the first call). */
  readonly resumable: boolean
  /** Names of the tables it locks (another process's lock on one makes it wait). */
  locks(args: A): string[]
  /** Validate and plan (no change that `undo` does not revert); returns its JSON state. */
  setup(db: SqliteDatabase, args: A, now: number): S
  /** Apply; returns its JSON result. */
  execute(db: SqliteDatabase, args: A, state: S, now: number): R
  /** Revert what setup changed (rolled back or stopped). */
  undo?(db: SqliteDatabase, args: A, state: S): void
  /** Stopped with `materialize`: keep the partial result. */
  keep?(db: SqliteDatabase, args: A, state: S, now: number): void
}

/** Who calls, and how (every write method of the tables engine gets one). */
export interface OpCall {
  holder: string
  processId?: string | null
  lockTimeoutMs: number
  /** The client made the process id itself (to follow progress or abort): errors roll back as without one. */
  auto?: boolean
}

const OP_PREFIX = 'tables.'

/** Every operation the runner and the journal settler know, by name. */
const registry = new Map<string, OpDef>()

export function registerOp(def: OpDef): void {
  registry.set(def.name, def)
}

export interface OpRow {
  op: string
  args: unknown
  step: 'setup' | 'execute'
  state: unknown
}

export function findOp(db: SqliteDatabase, process: string): OpRow | undefined {
  const r = db.get('SELECT op, args, step, state FROM tbl_ops WHERE process = ?', [process])
  if (!r) return undefined
  return { op: r[0] as string, args: JSON.parse(r[1] as string), step: r[2] as OpRow['step'], state: r[3] === null ? null : JSON.parse(r[3] as string) }
}

export function forgetOp(db: SqliteDatabase, process: string): void {
  db.run('DELETE FROM tbl_ops WHERE process = ?', [process])
  db.run('DELETE FROM tbl_locks WHERE process = ?', [process])
}

/** StoppedError when the operation of `process` was settled (stopped) since it began. */
function stillRegistered(db: SqliteDatabase, process: string): void {
  if (!findOp(db, process)) throw new StoppedError(`process "${process}" was stopped`)
}

/** The process holding a lock on one of `tables`, other than `process`. */
export function lockHolder(db: SqliteDatabase, tables: string[], process: string): { table: string; process: string } | undefined {
  for (const table of tables) {
    const r = db.get('SELECT process FROM tbl_locks WHERE tbl_name = ? AND process != ? LIMIT 1', [table, process])
    if (r) return { table, process: r[0] as string }
  }
  return undefined
}

export function insertProcess(db: SqliteDatabase, id: string, name: string, holder: string, status: 'running' | 'done', now: number): void {
  db.run('INSERT INTO processes (id, name, holder, status, started_at, updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [id, name, holder, status, iso(now), iso(now), status === 'done' ? iso(now) : null])
}

// Stopping, failing or recovering a process settles its journal: the operation is reverted (or
// kept, with materialize) in the same write, so the vault is as before the operation at once.
registerJournalSettler('tables', (db, entry, how) => {
  const row = findOp(db, entry.process)
  if (!row) return
  const def = registry.get(row.op)
  if (def && row.state !== null) {
    if (how === 'keep' && def.keep) def.keep(db, row.args, row.state, Date.now())
    else def.undo?.(db, row.args, row.state)
  }
  forgetOp(db, entry.process)
})

/** True for an error the library raised on purpose (rolls back even with a process id). */
function isLibraryError(err: unknown): boolean {
  return err instanceof VaultError || err instanceof RangeError
}

/** Runs write operations as processes (see {@link OpDef}). */
export class OpRunner {
  /** Operations that run outside this runner's steps (execute computes between writes): how restart resumes them. */
  readonly resumers = new Map<string, (ctx: CallContext, holder: string, processId: string) => Promise<void>>()

  constructor(private readonly services: () => EngineServices | undefined) {}

  private get leaseMs(): number {
    return this.services()?.processLeaseMs ?? 10_000
  }

  private async waitForLock(deadline: number, busy: { table: string; process: string }): Promise<void> {
    const left = deadline - Date.now()
    if (left <= 0) throw new LockTimeoutError(`table "${busy.table}" is locked by process "${busy.process}" (it is executing or paused); waited for its lock`)
    const services = this.services()
    await (services ? services.nextChange(Math.min(left, 100)) : new Promise((r) => setTimeout(r, Math.min(left, 20))))
  }

  /** Run `def` with `args`; resolves to its result and the process id. */
  async run<A, S, R>(ctx: CallContext, call: OpCall, def: OpDef<A, S, R>, args: A): Promise<{ processId: string; result: R }> {
    if (call.processId === undefined || call.processId === null) return this.runAtOnce(ctx, call, def, args)
    checkId(call.processId)
    return this.runAsProcess(ctx, call, def, args, call.processId)
  }

  private async runAtOnce<A, S, R>(ctx: CallContext, call: OpCall, def: OpDef<A, S, R>, args: A): Promise<{ processId: string; result: R }> {
    const processId = globalThis.crypto.randomUUID()
    const deadline = Date.now() + call.lockTimeoutMs
    for (;;) {
      const now = Date.now()
      const out = await ctx.write(() => {
        const busy = lockHolder(ctx.db, def.locks(args), processId)
        if (busy) return { busy }
        const state = def.setup(ctx.db, args, now)
        hitFault(def.name, 'setup')
        const result = def.execute(ctx.db, args, state, now)
        hitFault(def.name, 'execute')
        insertProcess(ctx.db, processId, OP_PREFIX + def.name, call.holder, 'done', now)
        return { result }
      })
      if ('result' in out) return { processId, result: out.result as R }
      await this.waitForLock(deadline, out.busy)
    }
  }

  /** Register (or take up again) the operation of `processId`; returns the step it is at. */
  async register<A>(ctx: CallContext, call: OpCall, def: OpDef<A>, args: A, processId: string): Promise<OpRow> {
    const deadline = Date.now() + call.lockTimeoutMs
    for (;;) {
      const now = Date.now()
      const out = await ctx.write((): { busy: { table: string; process: string } } | { row: OpRow } => {
        const db = ctx.db
        const p = findProcess(db, processId)
        const row = findOp(db, processId)
        if (p && !row) throw new ConflictError(`process id "${processId}" was used already (${p.name}, ${p.status}); get a new one from vault.processes.newId()`)
        if (p && row) {
          if (row.op !== def.name) throw new ConflictError(`process "${processId}" is a ${row.op} operation, not ${def.name}`)
          if (!def.resumable) throw new ConflictError(`process "${processId}": a ${def.name} cannot be re-executed (its data came with the first call); stop it with vault.processes.stop(id, { force: true, materialize })`)
          const status = currentStatus(db, p, now)
          if (status === 'running' && p.holder !== call.holder) throw new ConflictError(`process "${processId}" is running elsewhere`)
          renewLease(db, call.holder, now, this.leaseMs)
          db.run('UPDATE processes SET holder = ?, status = ?, request = NULL, error = NULL, finished_at = NULL, updated_at = ? WHERE id = ?', [call.holder, 'running', iso(now), processId])
          return { row }
        }
        const tables = def.locks(args)
        const busy = lockHolder(db, tables, processId)
        if (busy) return { busy }
        renewLease(db, call.holder, now, this.leaseMs)
        insertProcess(db, processId, OP_PREFIX + def.name, call.holder, 'running', now)
        beginEntry(db, processId, OP_PREFIX + def.name, 'resume', null, [], now)
        db.run('INSERT INTO tbl_ops (process, op, args, step, state) VALUES (?, ?, ?, ?, NULL)', [processId, def.name, JSON.stringify(args), 'setup'])
        for (const t of new Set(tables)) db.run('INSERT INTO tbl_locks (tbl_name, process) VALUES (?, ?)', [t, processId])
        return { row: { op: def.name, args, step: 'setup', state: null } }
      })
      if ('row' in out) return out.row
      await this.waitForLock(deadline, out.busy)
    }
  }

  private async runAsProcess<A, S, R>(ctx: CallContext, call: OpCall, def: OpDef<A, S, R>, givenArgs: A, processId: string): Promise<{ processId: string; result: R }> {
    const row = await this.register(ctx, call, def, givenArgs, processId)
    return this.continue(ctx, def, row as OpRow & { args: A; state: S }, processId)
  }

  /** Go on with a registered operation from its step (also what `restart` runs). */
  async continue<A, S, R>(ctx: CallContext, def: OpDef<A, S, R>, row: { args: A; step: 'setup' | 'execute'; state: S | null }, processId: string): Promise<{ processId: string; result: R }> {
    const args = row.args
    let state = row.state
    try {
      if (row.step === 'setup') {
        state = await ctx.write(() => {
          stillRegistered(ctx.db, processId)
          const s = def.setup(ctx.db, args, Date.now())
          hitFault(def.name, 'setup')
          ctx.db.run('UPDATE tbl_ops SET step = ?, state = ? WHERE process = ?', ['execute', JSON.stringify(s), processId])
          return s
        })
      }
      const result = await ctx.write(() => {
        stillRegistered(ctx.db, processId)
        const now = Date.now()
        const r = def.execute(ctx.db, args, state as S, now)
        hitFault(def.name, 'execute')
        // Takedown: the journal entry, the operation and its locks go; the process is done.
        ctx.db.run("DELETE FROM process_journal WHERE process = ? AND op LIKE 'tables.%'", [processId])
        forgetOp(ctx.db, processId)
        ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ?, finished_at = ? WHERE id = ?', ['done', iso(now), iso(now), processId])
        return r
      })
      return { processId, result }
    } catch (err) {
      await this.interrupted(ctx, processId, err)
      throw err
    }
  }

  /** An operation with a process id failed: roll it back (the library's errors) or pause it. */
  async interrupted(ctx: CallContext, processId: string, err: unknown): Promise<void> {
    const message = storedMessage(err instanceof Error ? `${err.name}: ${err.message}` : String(err))
    const rollback = isLibraryError(err)
    await ctx
      .write(() => {
        // Stopped meanwhile (its operation was settled then): nothing is left to do.
        if (!findOp(ctx.db, processId)) return
        const now = iso(Date.now())
        if (rollback) {
          const row = findOp(ctx.db, processId)
          const def = row && registry.get(row.op)
          if (row && def && row.state !== null) def.undo?.(ctx.db, row.args, row.state)
          ctx.db.run("DELETE FROM process_journal WHERE process = ? AND op LIKE 'tables.%'", [processId])
          forgetOp(ctx.db, processId)
          ctx.db.run('UPDATE processes SET status = ?, request = NULL, error = ?, updated_at = ?, finished_at = ? WHERE id = ?', ['failed', message, now, now, processId])
        } else {
          ctx.db.run('UPDATE processes SET status = ?, request = NULL, error = ?, updated_at = ? WHERE id = ?', ['paused', message, now, processId])
        }
      })
      .catch(() => {})
  }

  /**
   * Resume every operation whose process crashed or is paused (`openVault(..., { restart: true })`):
   * an operation that cannot be resumed (a write) is rolled back. Returns the process ids resumed
   * and rolled back; an operation failing again stays paused and is reported as failed.
   */
  async restart(ctx: CallContext, holder: string): Promise<{ resumed: string[]; rolledBack: string[]; failed: string[] }> {
    const out = { resumed: [] as string[], rolledBack: [] as string[], failed: [] as string[] }
    const now = Date.now()
    const candidates = ctx.db.all('SELECT process FROM tbl_ops ORDER BY rowid').map((r) => r[0] as string)
    for (const processId of candidates) {
      const p = findProcess(ctx.db, processId)
      const row = findOp(ctx.db, processId)
      const def = row && registry.get(row.op)
      if (!p || !row || !def) continue
      const status = currentStatus(ctx.db, p, now)
      if (status !== 'crashed' && status !== 'paused') continue
      if (!def.resumable) {
        await ctx.write(() => {
          if (row.state !== null) def.undo?.(ctx.db, row.args, row.state)
          ctx.db.run("DELETE FROM process_journal WHERE process = ? AND op LIKE 'tables.%'", [processId])
          forgetOp(ctx.db, processId)
          ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ?, finished_at = ? WHERE id = ?', ['stopped', iso(now), iso(now), processId])
        })
        out.rolledBack.push(processId)
        continue
      }
      const resumer = this.resumers.get(row.op)
      if (resumer) {
        try {
          await resumer(ctx, holder, processId)
          out.resumed.push(processId)
        } catch {
          out.failed.push(processId)
        }
        continue
      }
      await ctx.write(() => {
        renewLease(ctx.db, holder, Date.now(), this.leaseMs)
        ctx.db.run('UPDATE processes SET holder = ?, status = ?, request = NULL, error = NULL, finished_at = NULL, updated_at = ? WHERE id = ?', [holder, 'running', iso(Date.now()), processId])
      })
      try {
        await this.continue(ctx, def, row, processId)
        out.resumed.push(processId)
      } catch {
        out.failed.push(processId)
      }
    }
    return out
  }
}
