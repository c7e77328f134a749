import { ConflictError, InvalidArgumentError, NotFoundError, StoppedError } from '../../../errors/errors.js'
import type { CallContext, DomainSchema } from '../../../engine/context.js'
import type { EngineServices } from '../../../engine/engine-services.js'
import type { SqlValue } from '../../../sqlite/sqlite-database.js'
import { checkName, isWellFormed, toWellFormed } from '../../../codec/checks.js'
import { checkKey, checkNamespace } from '../../kv/shared/kv-keys.js'
import type { JournalEntry, JournalKey, ProcessInfo, ProcessRequest, ProcessStatus, RecoveryResult } from '../shared/process-types.js'

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
  blobReferences: ['SELECT value FROM process_undo WHERE present = 1 AND kind & 16'],
}

const LIVE = new Set(['running', 'paused'])
const COLUMNS = 'id, name, holder, status, request, force, materialize, started_at, updated_at, finished_at, error, checkpoints, progress'

const iso = (ms: number) => new Date(ms).toISOString()

function checkId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200 || !isWellFormed(id)) throw new InvalidArgumentError('a process id must be a non-empty, well-formed string of at most 200 characters')
}

/** An error message as stored: at most 4000 characters, never half a surrogate pair (SQLite text). */
function storedMessage(message: unknown): string {
  let s = String(message)
  if (s.length > 4000) s = s.slice(0, (s.charCodeAt(3999) & 0xfc00) === 0xd800 ? 3999 : 4000)
  // A diagnostic, not data: a lone surrogate in it becomes U+FFFD rather than failing the call.
  return toWellFormed(s)
}

function parseJson(text: SqlValue | undefined): unknown {
  if (typeof text !== 'string') return null
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

function toJson(value: unknown): string | null {
  if (value === undefined) return null
  try {
    return JSON.stringify(value)
  } catch {
    throw new InvalidArgumentError('process progress and journal state must be JSON-serialisable')
  }
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

  private row(ctx: CallContext, id: string): SqlValue[] | undefined {
    return ctx.db.get(`SELECT ${COLUMNS} FROM processes WHERE id = ?`, [id])
  }

  private mustRow(ctx: CallContext, id: string): SqlValue[] {
    const r = this.row(ctx, id)
    if (!r) throw new NotFoundError(`no process with id "${id}"`)
    return r
  }

  private holderAlive(ctx: CallContext, holder: string, now: number): boolean {
    const r = ctx.db.get('SELECT lease_until FROM process_holders WHERE id = ?', [holder])
    return r !== undefined && (r[0] as number) >= now
  }

  /** The status as seen now: a live status whose holder's lease expired is `crashed`. */
  private status(ctx: CallContext, r: SqlValue[], now: number): ProcessStatus {
    const stored = r[3] as ProcessStatus
    if (LIVE.has(stored) && !this.holderAlive(ctx, r[2] as string, now)) return 'crashed'
    return stored
  }

  private journal(ctx: CallContext, id: string): JournalEntry[] {
    return ctx.db
      .all('SELECT id, op, on_crash, state, started_at FROM process_journal WHERE process = ? ORDER BY id', [id])
      .map((j) => ({ id: j[0] as number, op: j[1] as string, onCrash: j[2] as 'rollback' | 'resume', state: parseJson(j[3]), startedAt: j[4] as string }))
  }

  private info(ctx: CallContext, r: SqlValue[], now: number): ProcessInfo {
    return {
      id: r[0] as string,
      name: r[1] as string,
      holder: r[2] as string,
      status: this.status(ctx, r, now),
      request: (r[4] as ProcessRequest | null) ?? null,
      startedAt: r[7] as string,
      updatedAt: r[8] as string,
      finishedAt: (r[9] as string | null) ?? null,
      error: (r[10] as string | null) ?? null,
      checkpoints: r[11] as number,
      progress: parseJson(r[12]),
      inFlight: this.journal(ctx, r[0] as string),
    }
  }

  private renew(ctx: CallContext, holder: string, now: number): void {
    ctx.db.run('INSERT OR REPLACE INTO process_holders (id, lease_until, info) VALUES (?, ?, NULL)', [holder, now + this.leaseMs])
  }

  /** Register a process run by `holder`; `id` is made by the client (unique). */
  async start(ctx: CallContext, id: string, name: string, holder: string, now: number): Promise<ProcessInfo> {
    checkId(id)
    checkId(holder)
    checkName(name, 'a process name', 200)
    if (typeof now !== 'number') throw new InvalidArgumentError('now must be a number')
    await ctx.write(() => {
      if (this.row(ctx, id)) throw new ConflictError(`a process with id "${id}" exists`)
      this.renew(ctx, holder, now)
      ctx.db.run('INSERT INTO processes (id, name, holder, status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [id, name, holder, 'running', iso(now), iso(now)])
    })
    return this.info(ctx, this.mustRow(ctx, id), now)
  }

  /** Renew the lease of a holder (the client calls this at a third of the lease). */
  async heartbeat(ctx: CallContext, holder: string, now: number): Promise<void> {
    checkId(holder)
    await ctx.write(() => this.renew(ctx, holder, now))
  }

  /** A holder that goes away cleanly: its lease ends now (its live processes show as crashed). */
  async leave(ctx: CallContext, holder: string): Promise<void> {
    checkId(holder)
    await ctx.write(() => ctx.db.run('DELETE FROM process_holders WHERE id = ?', [holder]))
  }

  async get(ctx: CallContext, id: string, now: number): Promise<ProcessInfo> {
    checkId(id)
    return this.info(ctx, this.mustRow(ctx, id), now)
  }

  /** Processes running, paused, or crashed and not yet recovered. */
  async active(ctx: CallContext, now: number): Promise<ProcessInfo[]> {
    return ctx.db
      .all(`SELECT ${COLUMNS} FROM processes WHERE status IN ('running', 'paused') ORDER BY started_at, id`)
      .map((r) => this.info(ctx, r, now))
  }

  /** Every process, newest first (optionally only those with `name`). */
  async list(ctx: CallContext, now: number, name?: string): Promise<ProcessInfo[]> {
    const rows = name === undefined ? ctx.db.all(`SELECT ${COLUMNS} FROM processes ORDER BY started_at DESC, id`) : ctx.db.all(`SELECT ${COLUMNS} FROM processes WHERE name = ? ORDER BY started_at DESC, id`, [name])
    return rows.map((r) => this.info(ctx, r, now))
  }

  /** True when the process finished with `done()`. */
  async completed(ctx: CallContext, id: string): Promise<boolean> {
    checkId(id)
    return this.mustRow(ctx, id)[3] === 'done'
  }

  /** Ask a running process to pause at its next checkpoint. */
  async pause(ctx: CallContext, id: string, now: number): Promise<void> {
    checkId(id)
    await ctx.write(() => {
      const r = this.mustRow(ctx, id)
      const status = this.status(ctx, r, now)
      const request = r[4] as ProcessRequest | null
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
      const r = this.mustRow(ctx, id)
      const status = this.status(ctx, r, now)
      const request = r[4] as ProcessRequest | null
      if (request === 'resume') return
      if (request) throw new ConflictError(`process "${id}" already has a pending "${request}" request`)
      if (status !== 'paused') throw new InvalidArgumentError(`process "${id}" is ${status}, not paused`)
      ctx.db.run('UPDATE processes SET request = ?, updated_at = ? WHERE id = ?', ['resume', iso(now), id])
    })
  }

  /**
   * Stop a process. Without `force` the request waits for its next checkpoint (a paused process
   * wakes for it), where it gets StoppedError. With `force` it is stopped at once, whether or not
   * its holder cooperates (a stuck or crashed process). `materialize`: keep what its operations in
   * flight did; otherwise they are rolled back.
   */
  async stop(ctx: CallContext, id: string, options: { force?: boolean; materialize?: boolean } | undefined, now: number): Promise<void> {
    checkId(id)
    const force = options?.force === true
    const materialize = options?.materialize === true
    await ctx.write(() => {
      const r = this.mustRow(ctx, id)
      const status = this.status(ctx, r, now)
      const request = r[4] as ProcessRequest | null
      if (!LIVE.has(status) && !(force && status === 'crashed')) throw new ConflictError(`process "${id}" is ${status}; it cannot be stopped`)
      if (!force) {
        if (request === 'stop') return
        if (request) throw new ConflictError(`process "${id}" already has a pending "${request}" request`)
        ctx.db.run('UPDATE processes SET request = ?, force = 0, materialize = ?, updated_at = ? WHERE id = ?', ['stop', materialize ? 1 : 0, iso(now), id])
        return
      }
      this.settleJournal(ctx, id, materialize ? 'keep' : 'rollback')
      ctx.db.run('UPDATE processes SET status = ?, request = NULL, force = 1, materialize = ?, updated_at = ?, finished_at = ? WHERE id = ?', ['stopped', materialize ? 1 : 0, iso(now), iso(now), id])
    })
  }

  /**
   * A process's checkpoint: applies a pending signal. Returns when the process may go on; waits
   * (without spinning: it sleeps until the vault changes) while it is paused; throws StoppedError
   * when it was stopped. `progress` (JSON) is recorded when given.
   */
  async checkpoint(ctx: CallContext, id: string, holder: string, progress: unknown, nowArg: number): Promise<void> {
    checkId(id)
    let now = nowArg
    for (;;) {
      await this.services?.refresh()
      const r = this.mustRow(ctx, id)
      this.checkHolder(r, holder)
      const stored = r[3] as string
      const request = r[4] as ProcessRequest | null
      if (stored === 'stopped') throw new StoppedError(`process "${id}" was stopped`)
      if (!LIVE.has(stored)) throw new StoppedError(`process "${id}" is ${stored}; it cannot go on`)
      if (request !== null || progress !== undefined) {
        const outcome = await ctx.write(() => this.applyRequest(ctx, id, holder, progress, now))
        progress = undefined
        if (outcome === 'stopped') throw new StoppedError(`process "${id}" was stopped`)
        if (outcome === 'go') return
      } else if (stored === 'running') {
        return
      }
      // Paused: sleep until something changes (a resume or stop written here or elsewhere).
      if (this.services?.closing) throw new StoppedError(`the vault is closing; process "${id}" cannot wait`)
      await (this.services ? this.services.nextChange(Math.max(50, Math.floor(this.leaseMs / 3))) : new Promise((r) => setTimeout(r, 100)))
      now = Date.now()
    }
  }

  private checkHolder(r: SqlValue[], holder: string): void {
    if (r[2] !== holder) throw new ConflictError(`process "${r[0]}" is run by another holder (it was adopted or recovered)`)
  }

  /** Inside a write: take the pending request into account. */
  private applyRequest(ctx: CallContext, id: string, holder: string, progress: unknown, now: number): 'go' | 'wait' | 'stopped' {
    const r = this.mustRow(ctx, id)
    this.checkHolder(r, holder)
    const stored = r[3] as string
    const request = r[4] as ProcessRequest | null
    if (stored === 'stopped') return 'stopped'
    if (progress !== undefined) {
      ctx.db.run('UPDATE processes SET progress = ?, checkpoints = checkpoints + 1, updated_at = ? WHERE id = ?', [toJson(progress), iso(now), id])
    }
    this.renew(ctx, holder, now)
    switch (request) {
      case 'stop':
        this.settleJournal(ctx, id, (r[6] as number) === 1 ? 'keep' : 'rollback')
        ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ?, finished_at = ? WHERE id = ?', ['stopped', iso(now), iso(now), id])
        return 'stopped'
      case 'pause':
        ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ? WHERE id = ?', ['paused', iso(now), id])
        return 'wait'
      case 'resume':
        ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ? WHERE id = ?', ['running', iso(now), id])
        return 'go'
      default:
        return stored === 'paused' ? 'wait' : 'go'
    }
  }

  /** The process finished its work: what it began and did not end is kept. */
  async done(ctx: CallContext, id: string, holder: string, progress: unknown, now: number): Promise<void> {
    checkId(id)
    await ctx.write(() => {
      const r = this.mustRow(ctx, id)
      this.checkHolder(r, holder)
      if (r[3] === 'stopped') throw new StoppedError(`process "${id}" was stopped`)
      if (!LIVE.has(r[3] as string)) throw new ConflictError(`process "${id}" is ${r[3]} already`)
      this.settleJournal(ctx, id, 'keep')
      ctx.db.run('UPDATE processes SET status = ?, request = NULL, progress = COALESCE(?, progress), updated_at = ?, finished_at = ? WHERE id = ?', ['done', toJson(progress), iso(now), iso(now), id])
    })
  }

  /** The process failed: its operations in flight are rolled back, the message is recorded. */
  async fail(ctx: CallContext, id: string, holder: string, message: string, now: number): Promise<void> {
    checkId(id)
    await ctx.write(() => {
      const r = this.mustRow(ctx, id)
      this.checkHolder(r, holder)
      if (!LIVE.has(r[3] as string)) return
      this.settleJournal(ctx, id, 'rollback')
      ctx.db.run('UPDATE processes SET status = ?, request = NULL, error = ?, updated_at = ?, finished_at = ? WHERE id = ?', ['failed', storedMessage(message), iso(now), iso(now), id])
    })
  }

  /**
   * Journal: an operation begins. The key-value entries it names are snapshotted (value, or
   * absence) in the same commit, so a crash can be rolled back. Returns the entry id.
   */
  async begin(ctx: CallContext, id: string, holder: string, op: string, options: { keys?: JournalKey[]; state?: unknown; onCrash?: 'rollback' | 'resume' } | undefined, now: number): Promise<number> {
    checkId(id)
    checkName(op, 'an operation name', 256)
    const onCrash = options?.onCrash ?? 'rollback'
    if (onCrash !== 'rollback' && onCrash !== 'resume') throw new InvalidArgumentError('onCrash must be "rollback" or "resume"')
    const keys = options?.keys ?? []
    if (!Array.isArray(keys)) throw new InvalidArgumentError('journal keys must be an array of { ns?, key }')
    for (const k of keys) {
      if (!k || typeof k !== 'object') throw new InvalidArgumentError('journal keys are { ns?, key } with a string or Uint8Array key')
      checkKey(k.key, 'a journal key')
      if (k.ns !== undefined) checkNamespace(k.ns)
    }
    const state = toJson(options?.state)
    return ctx.write(() => {
      const r = this.mustRow(ctx, id)
      this.checkHolder(r, holder)
      if (!LIVE.has(r[3] as string)) throw new ConflictError(`process "${id}" is ${r[3]}`)
      ctx.db.run('INSERT INTO process_journal (process, op, on_crash, state, started_at) VALUES (?, ?, ?, ?, ?)', [id, op, onCrash, state, iso(now)])
      const entry = ctx.db.get('SELECT max(id) FROM process_journal')![0] as number
      keys.forEach((k, ord) => {
        const ns = k.ns ?? 'default'
        const cur = ctx.db.get('SELECT kv.kind, kv.value FROM kv JOIN kv_namespaces n ON n.id = kv.ns WHERE n.name = ? AND kv.key = ?', [ns, k.key as SqlValue])
        ctx.db.run('INSERT INTO process_undo (entry, ord, ns, key, present, kind, value) VALUES (?, ?, ?, ?, ?, ?, ?)', [entry, ord, ns, k.key as SqlValue, cur ? 1 : 0, cur ? cur[0]! : null, cur ? cur[1]! : null])
      })
      return entry
    })
  }

  /** Journal: record an operation's progress (JSON), e.g. how far a resumable operation got. */
  async note(ctx: CallContext, id: string, holder: string, entry: number, state: unknown): Promise<void> {
    const json = toJson(state)
    await ctx.write(() => {
      this.checkHolder(this.mustRow(ctx, id), holder)
      if (ctx.db.run('UPDATE process_journal SET state = ? WHERE id = ? AND process = ?', [json, entry, id]) === 0) throw new NotFoundError(`no operation ${entry} in flight for process "${id}"`)
    })
  }

  /** Journal: the operation is complete; its snapshot is dropped. */
  async end(ctx: CallContext, id: string, holder: string, entry: number): Promise<void> {
    await ctx.write(() => {
      this.checkHolder(this.mustRow(ctx, id), holder)
      if (ctx.db.get('SELECT 1 FROM process_journal WHERE id = ? AND process = ?', [entry, id]) === undefined) throw new NotFoundError(`no operation ${entry} in flight for process "${id}"`)
      this.dropEntry(ctx, entry)
    })
  }

  private dropEntry(ctx: CallContext, entry: number): void {
    ctx.db.run('DELETE FROM process_undo WHERE entry = ?', [entry])
    ctx.db.run('DELETE FROM process_journal WHERE id = ?', [entry])
  }

  /** Undo an entry: restore every snapshotted key, newest operation first. */
  private rollbackEntry(ctx: CallContext, entry: number): void {
    const undo = ctx.db.all('SELECT ns, key, present, kind, value FROM process_undo WHERE entry = ? ORDER BY ord DESC', [entry])
    for (const [ns, key, present, kind, value] of undo) {
      let nsId = ctx.db.get('SELECT id FROM kv_namespaces WHERE name = ?', [ns!])?.[0] as number | undefined
      if (present === 1) {
        if (nsId === undefined) {
          ctx.db.run('INSERT INTO kv_namespaces (name) VALUES (?)', [ns!])
          nsId = ctx.db.get('SELECT id FROM kv_namespaces WHERE name = ?', [ns!])![0] as number
        }
        ctx.db.run('INSERT OR REPLACE INTO kv (ns, key, kind, value) VALUES (?, ?, ?, ?)', [nsId, key!, kind!, value!])
      } else if (nsId !== undefined) {
        ctx.db.run('DELETE FROM kv WHERE ns = ? AND key = ?', [nsId, key!])
      }
    }
    this.dropEntry(ctx, entry)
  }

  /** Inside a write: roll back or keep every entry of a process; returns what was done. */
  private settleJournal(ctx: CallContext, id: string, how: 'keep' | 'rollback' | 'crash'): { rolledBack: string[]; resumable: string[] } {
    const out = { rolledBack: [] as string[], resumable: [] as string[] }
    const entries = ctx.db.all('SELECT id, op, on_crash FROM process_journal WHERE process = ? ORDER BY id DESC', [id])
    for (const [entry, op, onCrash] of entries) {
      if (how === 'keep') this.dropEntry(ctx, entry as number)
      else if (how === 'crash' && onCrash === 'resume') out.resumable.push(op as string)
      else {
        this.rollbackEntry(ctx, entry as number)
        out.rolledBack.push(op as string)
      }
    }
    out.rolledBack.reverse()
    out.resumable.reverse()
    return out
  }

  /**
   * Recover one crashed process: operations in flight are rolled back, except those begun with
   * `onCrash: 'resume'`, which stay for `adopt`. The process is marked `crashed` for good (or
   * stays adoptable while resumable work remains). ConflictError while its holder is alive.
   */
  async cleanup(ctx: CallContext, id: string, now: number): Promise<RecoveryResult> {
    checkId(id)
    return ctx.write(() => this.recoverOne(ctx, this.mustRow(ctx, id), now, true))
  }

  private recoverOne(ctx: CallContext, r: SqlValue[], now: number, strict: boolean): RecoveryResult {
    const id = r[0] as string
    const status = this.status(ctx, r, now)
    if (strict && status !== 'crashed') {
      if (LIVE.has(status)) throw new ConflictError(`process "${id}" is ${status} and its holder is alive; stop it instead`)
    }
    const result = this.settleJournal(ctx, id, 'crash')
    if (status === 'crashed' || r[3] === 'crashed') {
      ctx.db.run('UPDATE processes SET status = ?, request = NULL, updated_at = ?, finished_at = COALESCE(finished_at, ?) WHERE id = ?', ['crashed', iso(now), iso(now), id])
    }
    return { id, name: r[1] as string, ...result }
  }

  /** Recover every crashed process (what `openVault(..., { restart: true })` runs). */
  async recover(ctx: CallContext, now: number): Promise<RecoveryResult[]> {
    return ctx.write(() => {
      const rows = ctx.db.all(`SELECT ${COLUMNS} FROM processes WHERE status IN ('running', 'paused')`)
      const out: RecoveryResult[] = []
      for (const r of rows) if (this.status(ctx, r, now) === 'crashed') out.push(this.recoverOne(ctx, r, now, false))
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
      const r = this.mustRow(ctx, id)
      const status = this.status(ctx, r, now)
      if (status !== 'crashed') throw new ConflictError(`process "${id}" is ${status}; only a crashed process can be adopted`)
      this.renew(ctx, holder, now)
      ctx.db.run('UPDATE processes SET holder = ?, status = ?, request = NULL, finished_at = NULL, updated_at = ? WHERE id = ?', [holder, 'running', iso(now), id])
    })
    return this.info(ctx, this.mustRow(ctx, id), now)
  }
}
