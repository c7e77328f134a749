import { InvalidArgumentError, StoppedError } from '../../../errors/errors.js'
import { captureBytes } from '../../../codec/checks.js'
import type { DomainCaller } from '../../../protocol/domain-caller.js'
import { randomId } from '../../../protocol/random-id.js'
import type { JournalEntry, JournalKey, ProcessInfo, PruneOptions, RecoveryResult } from '../shared/process-types.js'
import { processJsonText } from '../shared/process-json.js'

export type { JournalEntry, JournalKey, ProcessInfo, ProcessRequest, ProcessStatus, PruneOptions, RecoveryResult } from '../shared/process-types.js'

export { randomId } from '../../../protocol/random-id.js'

/**
 * JSON progress or state as it is now: the vault stores its JSON text, so a caller changing the
 * object after the call started must not change what is stored.
 */
function jsonSnapshot(value: unknown, what: string): unknown {
  if (value === undefined) return undefined
  // Checked before the round trip below, which would turn a NaN into null without a word (the
  // engine refuses what JSON changes, but it sees only what this side sends), and bounded in size
  // before a huge value is sent at all.
  const text = processJsonText(value, what)
  return text === undefined ? undefined : JSON.parse(text)
}

/** Begin options captured now: byte keys copied, state as JSON. */
function captureBegin(options: BeginOptions | undefined): BeginOptions | undefined {
  if (!options || typeof options !== 'object') return options
  const keys = Array.isArray(options.keys)
    ? options.keys.map((k) => (k && typeof k === 'object' && k.key instanceof Uint8Array ? { ...k, key: captureBytes(k.key, 'a journal key') } : k))
    : options.keys
  return { ...options, keys, state: jsonSnapshot(options.state, 'journal state') }
}

/** Options of `ProcessHandle.begin`. */
export interface BeginOptions {
  /** Key-value entries the operation may change: snapshotted now, restored if it is rolled back. */
  keys?: JournalKey[]
  /** JSON state of the operation (e.g. where it starts); update it with `note`. */
  state?: unknown
  /** After a crash: `rollback` (default) restores the snapshots; `resume` keeps the entry for `adopt`. */
  onCrash?: 'rollback' | 'resume'
}

/**
 * A running process, as returned by `vault.processes.start(name)`. Call `checkpoint()` between
 * items of work: it honours signals sent from anywhere (pause waits, stop throws StoppedError).
 */
export class ProcessHandle {
  /** @internal */
  constructor(
    private readonly owner: Processes,
    /** The process's id: pass it to pause/resume/stop from any tab, worker or process. */
    readonly id: string,
    /** The name given to `vault.processes.start(name)`. */
    readonly name: string,
    /** Operations in flight when it was adopted (empty for a new process). */
    readonly inFlight: JournalEntry[] = [],
  ) {}

  /**
   * Between two items of work: applies a pending signal. Resolves at once when there is none;
   * waits while the process is paused; rejects with StoppedError when it was stopped (the item
   * before this checkpoint is complete). `progress` (JSON) is recorded for `get`/`active`.
   */
  async checkpoint(progress?: unknown): Promise<void> {
    try {
      await this.owner._call('checkpoint', [this.id, this.owner.holder, jsonSnapshot(progress, 'progress'), Date.now()])
    } catch (err) {
      if (err instanceof StoppedError || (err as { code?: string })?.code === 'STOPPED') this.owner._finished(this.id)
      throw err
    }
  }

  /** The work is complete (operations still in flight are kept). */
  async done(progress?: unknown): Promise<void> {
    // Checked before the try: a progress refused (a bigint, a cycle) changes nothing, and the
    // process, still running, keeps its heartbeat (stopping it let the lease run out: crashed).
    const snapshot = jsonSnapshot(progress, 'progress')
    try {
      await this.owner._call('done', [this.id, this.owner.holder, snapshot, Date.now()])
    } finally {
      this.owner._finished(this.id)
    }
  }

  /** The work failed: operations in flight are rolled back and the error's message recorded. */
  async fail(err: unknown): Promise<void> {
    let message: string
    try {
      message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    } catch {
      // Its toString (or name, message) throws: the failure is still recorded, the diagnostic is not a reason to refuse it.
      message = 'an error whose text could not be read'
    }
    try {
      await this.owner._call('fail', [this.id, this.owner.holder, message, Date.now()])
    } finally {
      this.owner._finished(this.id)
    }
  }

  /** Journal: an operation begins (see {@link BeginOptions}); returns its entry id for `note`/`end`. */
  async begin(op: string, options: BeginOptions = {}): Promise<number> {
    return (await this.owner._call('begin', [this.id, this.owner.holder, op, captureBegin(options), Date.now()])) as number
  }

  /** Journal: record how far an operation got (JSON). */
  async note(entry: number, state: unknown): Promise<void> {
    await this.owner._call('note', [this.id, this.owner.holder, entry, jsonSnapshot(state, 'journal state')])
  }

  /** Journal: the operation is complete; nothing will roll it back. */
  async end(entry: number): Promise<void> {
    await this.owner._call('end', [this.id, this.owner.holder, entry])
  }

  /** The process's record as the vault sees it now. */
  info(): Promise<ProcessInfo> {
    return this.owner.get(this.id)
  }
}

/**
 * `vault.processes`: start processes and signal them from any tab, worker or Node process.
 * This client is one holder: while it runs processes it renews their lease every third of it.
 */
export class Processes {
  private readonly live = new Set<string>()
  private timer: ReturnType<typeof setInterval> | undefined
  private leaseMs: number | undefined
  private closed = false
  /** What `openVault(..., { restart: true })` recovered, when it ran. */
  lastRecovery: RecoveryResult[] | undefined

  /** @internal */
  constructor(
    private readonly caller: DomainCaller,
    /** This client's holder id (its processes are alive while it renews their lease). */
    readonly holder: string = randomId(),
  ) {}

  /** @internal */
  _call(method: string, args: unknown[]): Promise<unknown> {
    return this.caller.call('processes', method, args)
  }

  /** Register a new process named `name` (names need not be unique; ids are). */
  async start(name: string): Promise<ProcessHandle> {
    const id = randomId()
    await this._call('start', [id, name, this.holder, Date.now()])
    this.live.add(id)
    await this.keepAlive()
    return new ProcessHandle(this, id, name)
  }

  /** Ask a process to pause at its next checkpoint. NotFoundError for an unknown id; ConflictError when another request is pending. */
  async pause(id: string): Promise<void> {
    await this._call('pause', [id, Date.now()])
  }

  /** Let a paused process go on. InvalidArgumentError when it is not paused. */
  async resume(id: string): Promise<void> {
    await this._call('resume', [id, Date.now()])
  }

  /**
   * Stop a process: at its next checkpoint (StoppedError there), or at once with `force`.
   * `materialize` keeps what its operations in flight did; otherwise they are rolled back.
   */
  async stop(id: string, options: { force?: boolean; materialize?: boolean } = {}): Promise<void> {
    // `{ force: 1 }` was taken for a stop at the next checkpoint, `null` a raw TypeError.
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('processes.stop: options must be an object such as { force: true }')
    for (const k of ['force', 'materialize'] as const) {
      if (options[k] !== undefined && typeof options[k] !== 'boolean') throw new InvalidArgumentError(`processes.stop: option ${k} must be true or false, got ${typeof options[k]}`)
    }
    await this._call('stop', [id, { force: options.force === true, materialize: options.materialize === true }, Date.now()])
  }

  /** Processes running or paused, and those whose holder died (status `crashed`) until recovered. */
  async active(): Promise<ProcessInfo[]> {
    return (await this._call('active', [Date.now()])) as ProcessInfo[]
  }

  /** True when the process finished with `done()` (false while it runs, and when it failed, stopped or crashed). */
  async completed(id: string): Promise<boolean> {
    return (await this._call('completed', [id])) as boolean
  }

  /** One process's record. NotFoundError for an unknown id. */
  async get(id: string): Promise<ProcessInfo> {
    return (await this._call('get', [id, Date.now()])) as ProcessInfo
  }

  /** Every process (optionally of one name), newest first. */
  async list(name?: string): Promise<ProcessInfo[]> {
    return (await this._call('list', name === undefined ? [Date.now()] : [Date.now(), name])) as ProcessInfo[]
  }

  /**
   * Remove finished processes from the vault's history (done, failed, stopped, and crashed ones
   * already recovered), keeping the `keep` most recent of each name (default 0), only those of
   * `name` when given, and only those that finished before `finishedBefore` when given. Processes
   * running, paused, or crashed with work to recover or adopt are never removed. Resolves with how
   * many were removed; nothing is pruned automatically (docs/processes.md, "Pruning").
   */
  async prune(options: PruneOptions = {}): Promise<number> {
    // Checked in the engine: the page's main thread keeps only this.
    return (await this._call('prune', [options])) as number
  }

  /** Recover one crashed process (docs/processes.md): ConflictError while its holder is alive. */
  async cleanup(id: string): Promise<RecoveryResult> {
    return (await this._call('cleanup', [id, Date.now()])) as RecoveryResult
  }

  /** Recover every crashed process; `openVault(..., { restart: true })` calls this. */
  async recover(): Promise<RecoveryResult[]> {
    this.lastRecovery = (await this._call('recover', [Date.now()])) as RecoveryResult[]
    return this.lastRecovery
  }

  /** Take over a crashed process and go on with it here (its journal tells where it was). */
  async adopt(id: string): Promise<ProcessHandle> {
    const info = (await this._call('adopt', [id, this.holder, Date.now()])) as ProcessInfo
    this.live.add(id)
    await this.keepAlive()
    return new ProcessHandle(this, id, info.name, info.inFlight)
  }

  /** A new process id, to pass as `processId` to a write operation of `vault.tables` (or `vault.code`). */
  async newId(): Promise<string> {
    return randomId()
  }

  /** @internal A process this client runs under another API (a table operation): keep its lease. */
  async _track(id: string): Promise<void> {
    this.live.add(id)
    await this.keepAlive()
  }

  /** @internal */
  _finished(id: string): void {
    this.live.delete(id)
    if (this.live.size === 0 && this.timer) {
      clearInterval(this.timer)
      this.timer = undefined
    }
  }

  private async keepAlive(): Promise<void> {
    if (this.timer || this.closed) return
    this.leaseMs ??= ((await this._call('config', [])) as { leaseMs: number }).leaseMs
    if (this.timer || this.closed) return
    this.timer = setInterval(() => {
      this._call('heartbeat', [this.holder, Date.now()]).catch(() => {})
    }, Math.max(20, Math.floor(this.leaseMs / 3)))
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  /** @internal The vault closes: stop renewing (its live processes will show as crashed). */
  _close(): void {
    this.closed = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
