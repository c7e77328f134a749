import { ConflictError, InvalidArgumentError, NotFoundError, StoppedError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import type { EngineServices } from '../../../engine/engine-services.js'
import { checkName } from '../../../codec/checks.js'
import { checkKey, checkNamespace } from '../../kv/shared/kv-keys.js'
import type { JournalKey, ProcessInfo, RecoveryResult } from '../shared/process-types.js'
import { beginEntry, dropEntry, hasEntry, journalOf, noteEntry, settleJournal } from './process-journal.js'
import {
  LIVE,
  allProcesses,
  checkId,
  currentStatus,
  endLease,
  findProcess,
  iso,
  liveProcesses,
  mustFindProcess,
  parseJson,
  pruneExpiredLeases,
  renewLease,
  storedMessage,
  toJson,
  type ProcessRow,
} from './process-rows.js'

export { processesSchema } from './processes-schema.js'

// The processes domain in parts: processes-schema.ts (tables), process-rows.ts (process rows and
// holders' leases), process-journal.ts (operations in flight and their kv snapshots, through the kv
// engine's kv-entries.ts) and, here, the method surface: lifecycle, signals, journal calls, recovery.

/**
 * A journal entry number as `begin` returned it. Anything else is InvalidArgumentError: an object
 * reached sql.js's bind, which threw a bare string ("Wrong API use: tried to bind a value of an
 * unknown type"), not even an Error (found by a probe); a string or a fraction named no entry.
 */
function checkEntry(entry: unknown): asserts entry is number {
  if (typeof entry !== 'number' || !Number.isSafeInteger(entry)) throw new InvalidArgumentError(`a journal entry is the whole number begin() returned, got ${typeof entry === 'number' ? String(entry) : typeof entry}`)
}

/**
 * `options` is undefined or an object whose own keys are all in `known`: InvalidArgumentError
 * naming the first other one (a misspelt option must not be ignored).
 */
function checkOptions(options: unknown, known: readonly string[], what: string): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(`${what} must be an object (${known.join(', ')}), got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`)
  for (const k of Object.keys(options)) if (!known.includes(k)) throw new InvalidArgumentError(`${what}: unknown option "${k}" (${known.join(', ')})`)
}

/** The engine side of `vault.processes`. */
export class ProcessesEngine {
  private services: EngineServices | undefined

  attach(services: EngineServices): void {
    this.services = services
  }

  private get leaseMs(): number {
    return this.services?.processLeaseMs ?? 10_000
  }

  /** The lease of processes (clients renew at a third of it). */
  async config(_ctx: CallContext): Promise<{ leaseMs: number }> {
    return { leaseMs: this.leaseMs }
  }

  private info(ctx: CallContext, r: ProcessRow, now: number): ProcessInfo {
    return {
      id: r.id,
      name: r.name,
      holder: r.holder,
      status: currentStatus(ctx.db, r, now),
      request: r.request,
      startedAt: r.startedAt,
      updatedAt: r.updatedAt,
      finishedAt: r.finishedAt,
      error: r.error,
      checkpoints: r.checkpoints,
      progress: parseJson(r.progress),
      inFlight: journalOf(ctx.db, r.id),
    }
  }

  private renew(ctx: CallContext, holder: string, now: number): void {
    renewLease(ctx.db, holder, now, this.leaseMs)
  }

  /**
   * Inside a write (a process starts or is adopted, crashed ones are recovered): drop the lease
   * rows of holders dead for more than a lease. The margin keeps a row a little while after it
   * expired, for a reader whose clock is a little behind ours; past it, the row says nothing a
   * missing row does not.
   */
  private forgetDeadHolders(ctx: CallContext, now: number): void {
    pruneExpiredLeases(ctx.db, now - this.leaseMs)
  }

  /** The process `id`, which `holder` must be running; ConflictError when another holder runs it. */
  private heldRow(ctx: CallContext, id: string, holder: string): ProcessRow {
    const r = mustFindProcess(ctx.db, id)
    if (r.holder !== holder) throw new ConflictError(`process "${r.id}" is run by another holder (it was adopted or recovered)`)
    return r
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Register a process run by `holder`; `id` is made by the client (unique). */
  async start(ctx: CallContext, id: string, name: string, holder: string, now: number): Promise<ProcessInfo> {
    checkId(id)
    checkId(holder)
    checkName(name, 'a process name', 200)
    if (typeof now !== 'number') throw new InvalidArgumentError('now must be a number')
    await ctx.write(() => {
      if (findProcess(ctx.db, id)) throw new ConflictError(`a process with id "${id}" exists`)
      this.renew(ctx, holder, now)
      this.forgetDeadHolders(ctx, now)
      ctx.db.run('INSERT INTO processes (id, name, holder, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [id, name, holder, 'running', iso(now), iso(now)])
    })
    return this.info(ctx, mustFindProcess(ctx.db, id), now)
  }

  /** Renew the lease of a holder (the client calls this at a third of the lease). */
  async heartbeat(ctx: CallContext, holder: string, now: number): Promise<void> {
    checkId(holder)
    await ctx.write(() => this.renew(ctx, holder, now))
  }

  /** A holder that goes away cleanly: its lease ends now (its live processes show as crashed). */
  async leave(ctx: CallContext, holder: string): Promise<void> {
    checkId(holder)
    await ctx.write(() => endLease(ctx.db, holder))
  }

  async get(ctx: CallContext, id: string, now: number): Promise<ProcessInfo> {
    checkId(id)
    return this.info(ctx, mustFindProcess(ctx.db, id), now)
  }

  /** Processes running, paused, or crashed and not yet recovered. */
  async active(ctx: CallContext, now: number): Promise<ProcessInfo[]> {
    return liveProcesses(ctx.db).map((r) => this.info(ctx, r, now))
  }

  /** Every process, newest first (optionally only those with `name`). */
  async list(ctx: CallContext, now: number, name?: string): Promise<ProcessInfo[]> {
    // A name is checked as start() checks it: an object reached sql.js's bind, which threw a bare
    // string (not a typed error), and a number or null silently listed nothing (found by a probe).
    if (name !== undefined) checkName(name, 'a process name', 200)
    return allProcesses(ctx.db, name).map((r) => this.info(ctx, r, now))
  }

  /** True when the process finished with `done()`. */
  async completed(ctx: CallContext, id: string): Promise<boolean> {
    checkId(id)
    return mustFindProcess(ctx.db, id).status === 'done'
  }

  /** The process finished its work: what it began and did not end is kept. */
  async done(ctx: CallContext, id: string, holder: string, progress: unknown, now: number): Promise<void> {
    checkId(id)
    const json = toJson(progress, 'progress')
    await ctx.write(() => {
      const r = this.heldRow(ctx, id, holder)
      if (r.status === 'stopped') throw new StoppedError(`process "${id}" was stopped`)
      if (!LIVE.has(r.status)) throw new ConflictError(`process "${id}" is ${r.status} already`)
      settleJournal(ctx.db, id, 'keep')
      ctx.db.run('UPDATE processes SET status = ?, request = NULL, progress = COALESCE(?, progress), updated_at = ?, finished_at = ? WHERE id = ?', ['done', json, iso(now), iso(now), id])
    })
  }

  /** The process failed: its operations in flight are rolled back, the message is recorded. */
  async fail(ctx: CallContext, id: string, holder: string, message: string, now: number): Promise<void> {
    checkId(id)
    await ctx.write(() => {
      const r = this.heldRow(ctx, id, holder)
      if (!LIVE.has(r.status)) return
      settleJournal(ctx.db, id, 'rollback')
      ctx.db.run('UPDATE processes SET status = ?, request = NULL, error = ?, updated_at = ?, finished_at = ? WHERE id = ?', ['failed', storedMessage(message), iso(now), iso(now), id])
    })
  }

  // ---- signals -------------------------------------------------------------------------------

  /** Ask a running process to pause at its next checkpoint. */
  async pause(ctx: CallContext, id: string, now: number): Promise<void> {
    checkId(id)
    await ctx.write(() => {
      const r = mustFindProcess(ctx.db, id)
      const status = currentStatus(ctx.db, r, now)
      const request = r.request
      if (!LIVE.has(status)) throw new ConflictError(`process "${id}" is ${status}; only a running process can be paused`)
      if (request === 'pause') return
      if (request) throw new ConflictError(`process "${id}" already has a pending "${request}" request`)
      if (status === 'paused') return
      ctx.db.run('UPDATE processes SET request = ?, updated_at = ? WHERE id = ?', ['pause', iso(now), id])
    })
  }

  /** Let a paused process go on. */
  async resume(ctx: CallContext, id: string, now: number): Promise<void> {
    checkId(id)
    await ctx.write(() => {
      const r = mustFindProcess(ctx.db, id)
      const status = currentStatus(ctx.db, r, now)
      const request = r.request
      if (request === 'resume') return
      if (request) throw new ConflictError(`process "${id}" already has a pending "${request}" request`)
      if (status !== 'paused') throw new InvalidArgumentError(`process "${id}" is ${status}, not paused`)
      ctx.db.run('UPDATE processes SET request = ?, updated_at = ? WHERE id = ?', ['resume', iso(now), id])
    })
  }

  /**
   * Stop a process. Without `force` the request waits for its next checkpoint, where it gets
   * StoppedError; a paused process is stopped at once (below). With `force` it is stopped at once,
   * whether or not its holder cooperates (a stuck or crashed process). `materialize`: keep what its
   * operations in flight did; otherwise they are rolled back.
   */
  async stop(ctx: CallContext, id: string, options: { force?: boolean; materialize?: boolean } | undefined, now: number): Promise<void> {
    checkId(id)
    const force = options?.force === true
    const materialize = options?.materialize === true
    await ctx.write(() => {
      const r = mustFindProcess(ctx.db, id)
      const status = currentStatus(ctx.db, r, now)
      const request = r.request
      if (!LIVE.has(status) && !(force && status === 'crashed')) throw new ConflictError(`process "${id}" is ${status}; it cannot be stopped`)
      if (!force) {
        if (request === 'stop') return
        if (request) throw new ConflictError(`process "${id}" already has a pending "${request}" request`)
        // A paused process is between two items of work already, which is all a checkpoint would
        // wait for: it is stopped now, as a forced stop would. Waiting instead left a table
        // operation paused by an error (nothing runs it until it is called again or restarted)
        // paused for good, its locks held, with the stop pending (found by a probe); one paused at
        // a checkpoint or between builders gets StoppedError when it wakes, as before.
        if (status !== 'paused') {
          ctx.db.run('UPDATE processes SET request = ?, force = 0, materialize = ?, updated_at = ? WHERE id = ?', ['stop', materialize ? 1 : 0, iso(now), id])
          return
        }
      }
      settleJournal(ctx.db, id, materialize ? 'keep' : 'rollback')
      ctx.db.run('UPDATE processes SET status = ?, request = NULL, force = ?, materialize = ?, updated_at = ?, finished_at = ? WHERE id = ?', ['stopped', force ? 1 : 0, materialize ? 1 : 0, iso(now), iso(now), id])
    })
  }

  /**
   * A process's checkpoint: applies a pending signal. Returns when the process may go on; waits
   * (without spinning: it sleeps until the vault changes) while it is paused; throws StoppedError
   * when it was stopped. `progress` (JSON) is recorded when given.
   */
  async checkpoint(ctx: CallContext, id: string, holder: string, progress: unknown, nowArg: number): Promise<void> {
    checkId(id)
    // Checked before anything, refused as a whole: nothing is written (not even the lease).
    toJson(progress, 'progress')
    let now = nowArg
    for (;;) {
      await this.services?.refresh()
      const r = this.heldRow(ctx, id, holder)
      if (r.status === 'stopped') throw new StoppedError(`process "${id}" was stopped`)
      if (!LIVE.has(r.status)) throw new StoppedError(`process "${id}" is ${r.status}; it cannot go on`)
      if (r.request !== null || progress !== undefined) {
        const outcome = await ctx.write(() => this.applyRequest(ctx, id, holder, progress, now))
        progress = undefined
        if (outcome === 'stopped') throw new StoppedError(`process "${id}" was stopped`)
        if (outcome === 'go') return
      } else if (r.status === 'running') {
        return
      }
      // Paused: sleep until something changes (a resume or stop written here or elsewhere).
      if (this.services?.closing) throw new StoppedError(`the vault is closing; process "${id}" cannot wait`)
      await (this.services ? this.services.nextChange(Math.max(50, Math.floor(this.leaseMs / 3))) : new Promise((r) => setTimeout(r, 100)))
      // Woken by the close itself: the database is closed, and reading it failed with sql.js's bare
      // "out of memory" error (found by a probe).
      if (this.services?.closing) throw new StoppedError(`the vault is closing; process "${id}" cannot wait`)
      now = Date.now()
    }
  }

  /** Inside a write: take the pending request into account. */
  private applyRequest(ctx: CallContext, id: string, holder: string, progress: unknown, now: number): 'go' | 'wait' | 'stopped' {
    const r = this.heldRow(ctx, id, holder)
    if (r.status === 'stopped') return 'stopped'
    if (progress !== undefined) {
      ctx.db.run('UPDATE processes SET progress = ?, checkpoints = checkpoints + 1, updated_at = ? WHERE id = ?', [toJson(progress, 'progress'), iso(now), id])
    }
    this.renew(ctx, holder, now)
    switch (r.request) {
      case 'stop':
        settleJournal(ctx.db, id, r.materialize ? 'keep' : 'rollback')
        ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ?, finished_at = ? WHERE id = ?', ['stopped', iso(now), iso(now), id])
        return 'stopped'
      case 'pause':
        ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ? WHERE id = ?', ['paused', iso(now), id])
        return 'wait'
      case 'resume':
        ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ? WHERE id = ?', ['running', iso(now), id])
        return 'go'
      default:
        return r.status === 'paused' ? 'wait' : 'go'
    }
  }

  // ---- journal -------------------------------------------------------------------------------

  /**
   * Journal: an operation begins. The key-value entries it names are snapshotted (value, or
   * absence) in the same commit, so a crash can be rolled back. Returns the entry id.
   */
  async begin(ctx: CallContext, id: string, holder: string, op: string, options: { keys?: JournalKey[]; state?: unknown; onCrash?: 'rollback' | 'resume' } | undefined, now: number): Promise<number> {
    checkId(id)
    checkName(op, 'an operation name', 256)
    // A misspelt option was ignored: `{ key: [...] }` or a key `{ namespace, key }` began an
    // operation that snapshotted nothing (or the default namespace's entry), so a rollback after a
    // crash silently restored nothing; `null` or a string were taken for no options (found by a probe).
    checkOptions(options, ['keys', 'state', 'onCrash'], 'begin options')
    const onCrash = options?.onCrash ?? 'rollback'
    if (onCrash !== 'rollback' && onCrash !== 'resume') throw new InvalidArgumentError('onCrash must be "rollback" or "resume"')
    const keys = options?.keys ?? []
    if (!Array.isArray(keys)) throw new InvalidArgumentError('journal keys must be an array of { ns?, key }')
    for (const k of keys) {
      if (!k || typeof k !== 'object' || Array.isArray(k)) throw new InvalidArgumentError('journal keys are { ns?, key } with a string or Uint8Array key')
      checkOptions(k, ['ns', 'key'], 'a journal key')
      checkKey(k.key, 'a journal key')
      if (k.ns !== undefined) checkNamespace(k.ns)
    }
    const state = toJson(options?.state, 'journal state')
    return ctx.write(() => {
      const r = this.heldRow(ctx, id, holder)
      if (!LIVE.has(r.status)) throw new ConflictError(`process "${id}" is ${r.status}`)
      return beginEntry(ctx.db, id, op, onCrash, state, keys, now)
    })
  }

  /** Journal: record an operation's progress (JSON), e.g. how far a resumable operation got. */
  async note(ctx: CallContext, id: string, holder: string, entry: number, state: unknown): Promise<void> {
    checkId(id)
    checkEntry(entry)
    const json = toJson(state, 'journal state')
    await ctx.write(() => {
      this.heldRow(ctx, id, holder)
      if (!noteEntry(ctx.db, id, entry, json)) throw new NotFoundError(`no operation ${entry} in flight for process "${id}"`)
    })
  }

  /** Journal: the operation is complete; its snapshot is dropped. */
  async end(ctx: CallContext, id: string, holder: string, entry: number): Promise<void> {
    checkId(id)
    checkEntry(entry)
    await ctx.write(() => {
      this.heldRow(ctx, id, holder)
      if (!hasEntry(ctx.db, id, entry)) throw new NotFoundError(`no operation ${entry} in flight for process "${id}"`)
      dropEntry(ctx.db, entry)
    })
  }

  // ---- pruning -------------------------------------------------------------------------------

  /**
   * Remove finished processes (done, failed, stopped, and crashed ones recovered with nothing left
   * to adopt), keeping the `keep` most recent of each name, and only those that finished before
   * `finishedBefore` (ms since the epoch) when given; `name` limits it to one name. Returns how
   * many were removed. A process still running, paused, crashed and not recovered, or with work in
   * its journal is never removed.
   */
  async prune(ctx: CallContext, options: unknown): Promise<number> {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('processes.prune: options must be an object')
    for (const k of Object.keys(options)) if (!['keep', 'name', 'finishedBefore'].includes(k)) throw new InvalidArgumentError(`processes.prune: unknown option "${k}" (keep, name, finishedBefore)`)
    const { keep = 0, name, finishedBefore: before } = options as { keep?: unknown; name?: unknown; finishedBefore?: unknown }
    // A Date (as it arrives from the page: the protocol carries Dates), or its time in ms.
    const finishedBefore = before instanceof Date ? before.getTime() : before
    if (typeof keep !== 'number' || !Number.isSafeInteger(keep) || keep < 0) throw new InvalidArgumentError('processes.prune: option "keep" must be a non-negative integer')
    if (name !== undefined) checkName(name, 'processes.prune: option "name"', 200)
    if (finishedBefore !== undefined && (typeof finishedBefore !== 'number' || !(Math.abs(finishedBefore) <= 8.64e15))) throw new InvalidArgumentError('processes.prune: option "finishedBefore" must be a valid Date')
    return ctx.write(() => {
      const rows = ctx.db.all(
        `SELECT id, name, finished_at FROM processes p
         WHERE status IN ('done', 'failed', 'stopped', 'crashed') AND finished_at IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM process_journal j WHERE j.process = p.id)
           ${name === undefined ? '' : 'AND name = ?'}
         ORDER BY name, finished_at DESC, id DESC`,
        name === undefined ? [] : [name],
      )
      const seen = new Map<string, number>()
      const cut = finishedBefore === undefined ? undefined : iso(finishedBefore)
      let removed = 0
      for (const [id, n, finishedAt] of rows as [string, string, string][]) {
        const rank = seen.get(n) ?? 0
        seen.set(n, rank + 1)
        if (rank < keep || (cut !== undefined && finishedAt >= cut)) continue
        ctx.db.run('DELETE FROM processes WHERE id = ?', [id])
        removed++
      }
      return removed
    })
  }

  // ---- recovery ------------------------------------------------------------------------------

  /**
   * Recover one crashed process: operations in flight are rolled back, except those begun with
   * `onCrash: 'resume'`, which stay for `adopt`. The process is marked `crashed` for good (or
   * stays adoptable while resumable work remains). ConflictError while its holder is alive.
   */
  async cleanup(ctx: CallContext, id: string, now: number): Promise<RecoveryResult> {
    checkId(id)
    return ctx.write(() => this.recoverOne(ctx, mustFindProcess(ctx.db, id), now, true))
  }

  private recoverOne(ctx: CallContext, r: ProcessRow, now: number, strict: boolean): RecoveryResult {
    const id = r.id
    const status = currentStatus(ctx.db, r, now)
    if (strict && status !== 'crashed') {
      if (LIVE.has(status)) throw new ConflictError(`process "${id}" is ${status} and its holder is alive; stop it instead`)
    }
    const result = settleJournal(ctx.db, id, 'crash')
    if (status === 'crashed' || r.status === 'crashed') {
      ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ?, finished_at = COALESCE(finished_at, ?) WHERE id = ?', ['crashed', iso(now), iso(now), id])
    }
    return { id, name: r.name, ...result }
  }

  /** Recover every crashed process (what `openVault(..., { restart: true })` runs). */
  async recover(ctx: CallContext, now: number): Promise<RecoveryResult[]> {
    return ctx.write(() => {
      const out: RecoveryResult[] = []
      for (const r of liveProcesses(ctx.db, false)) if (currentStatus(ctx.db, r, now) === 'crashed') out.push(this.recoverOne(ctx, r, now, false))
      // After the statuses were read: a dead holder's row and no row say the same, but in that order
      // nothing depends on it.
      this.forgetDeadHolders(ctx, now)
      return out
    })
  }

  /**
   * Take over a crashed process (or one recovered with resumable operations): it runs again under
   * `holder`, with its journal as it was. ConflictError while its holder is alive.
   */
  async adopt(ctx: CallContext, id: string, holder: string, now: number): Promise<ProcessInfo> {
    checkId(id)
    checkId(holder)
    await ctx.write(() => {
      const r = mustFindProcess(ctx.db, id)
      const status = currentStatus(ctx.db, r, now)
      if (status !== 'crashed') throw new ConflictError(`process "${id}" is ${status}; only a crashed process can be adopted`)
      this.renew(ctx, holder, now)
      this.forgetDeadHolders(ctx, now)
      ctx.db.run('UPDATE processes SET holder = ?, status = ?, request = NULL, finished_at = NULL, updated_at = ? WHERE id = ?', [holder, 'running', iso(now), id])
    })
    return this.info(ctx, mustFindProcess(ctx.db, id), now)
  }
}
