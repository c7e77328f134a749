import { fromPlatformError } from '../errors/platform-error.js'
import type { Durability } from '../protocol/engine-types.js'
import type { SqliteDatabase, StatementGroup } from '../sqlite/sqlite-database.js'

/** A synchronous change against the database. */
export type WriteFn<T> = () => T

/**
 * Appends one batch's statements to the log: `strict` when any write of the batch asked for it
 * (the batch is synced before any of its writes resolves), else `relaxed`.
 */
export type CommitSink = (groups: StatementGroup[], durability: Durability) => Promise<void>

interface Waiter {
  resolve(value: unknown): void
  reject(err: unknown): void
  result: unknown
}

interface Batch {
  groups: StatementGroup[]
  waiters: Waiter[]
  /** Some write of the batch is strict: the whole batch is synced. */
  strict: boolean
}

/**
 * Shared mode (several engines on one vault's files): a write may run only while the gate is held
 * (the vault's write lock taken and the database caught up with other engines' commits).
 */
export interface WriteGate {
  /** Writes may run now. */
  readonly held: boolean
  /** Take the lock and catch up; rejects (e.g. LockTimeoutError) when it cannot. */
  acquire(): Promise<void>
  /** The queue is idle: the gate may be given up (`stillIdle` tells whether it still is, later). */
  release(stillIdle: () => boolean): void
}

interface Deferred {
  fn: WriteFn<unknown>
  durability: Durability
  resolve(value: unknown): void
  reject(err: unknown): void
  /** When it arrived, counted with the exclusive waiters (see `settleIfQuiet`). */
  arrival: number
}

/**
 * Serialises every change to the database and commits them in groups.
 *
 * A write runs at once, in call order, inside a savepoint of the SQL transaction that stays open
 * while anything is not yet durable; so a read issued after a write sees it, even before it is
 * durable. Its statements join the batch being built; one log append (and one flush) makes a whole
 * batch durable, so callers that write concurrently share a sync ("group commit"). While one batch
 * is being appended, the next fills up.
 *
 * If an append fails, the SQL transaction is rolled back, the batches already durable are
 * replayed, and every write of the failed batch and after it is rejected: a call that fails
 * changes nothing. A write whose own function throws rolls back only its savepoint.
 *
 * A user transaction ({@link exclusive}) waits until everything is committed, then holds the
 * database across awaits; plain writes wait for it.
 */
export class CommitQueue {
  private txOpen = false
  private building: Batch = { groups: [], waiters: [], strict: false }
  private flushing = false
  private durableSinceBegin: StatementGroup[] = []
  private exclusiveHeld = false
  private deferred: Deferred[] = []
  private exclusiveWaiters: { resolve(): void; reject(err: unknown): void; arrival: number }[] = []
  /** Counts the deferred writes and exclusive waiters as they arrive: they go on in that order. */
  private arrivals = 0
  private idleWaiters: (() => void)[] = []
  private gateOpening = false
  private gateWaiters: (() => void)[] = []
  /** Shared mode: how many times taking the gate failed, and the last failure (see {@link gateFailedSince}). */
  private gateFailures = 0
  private lastGateFailure: unknown

  constructor(
    private readonly db: SqliteDatabase,
    private readonly sink: CommitSink,
    private readonly onIdle: () => void,
    /** Shared mode only: see {@link WriteGate}. */
    private readonly gate?: WriteGate,
  ) {}

  /** Shared mode: the gate must be taken before anything may run. */
  private get gateClosed(): boolean {
    return this.gate !== undefined && !this.gate.held
  }

  /** Take the gate, then run what waited; a failure rejects everything that waited for it. */
  private openGate(): void {
    if (!this.gate || this.gateOpening) return
    this.gateOpening = true
    this.gate.acquire().then(
      () => {
        this.gateOpening = false
        this.settleIfQuiet()
        for (const w of this.gateWaiters.splice(0)) w()
      },
      (err: unknown) => {
        this.gateOpening = false
        this.gateFailures++
        this.lastGateFailure = err
        const deferred = this.deferred.splice(0)
        const waiters = this.exclusiveWaiters.splice(0)
        for (const d of deferred) d.reject(err)
        for (const w of waiters) w.reject(err)
        this.settleIfQuiet()
        for (const w of this.gateWaiters.splice(0)) w()
      },
    )
  }

  /**
   * Run a write now (or after a user transaction); resolves with its result once its batch is in
   * the log, and synced when `durability` is strict (writes of different durabilities share
   * batches: a batch holding any strict write is synced).
   */
  submit<T>(fn: WriteFn<T>, durability: Durability): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Behind writes that wait for the gate, too: writes run in call order (the gate may be held
      // already when a write arrives, before those that waited for it have run).
      if (this.exclusiveHeld || this.exclusiveWaiters.length > 0 || this.deferred.length > 0 || this.gateOpening || (this.gateClosed && !this.txOpen && !this.flushing)) {
        this.deferred.push({ fn, durability, resolve: resolve as (v: unknown) => void, reject, arrival: ++this.arrivals })
        if (this.gateClosed && !this.exclusiveHeld && !this.txOpen && !this.flushing) this.openGate()
      } else {
        this.execute(fn, durability, resolve as (v: unknown) => void, reject)
      }
    })
  }

  private execute(fn: WriteFn<unknown>, durability: Durability, resolve: (v: unknown) => void, reject: (e: unknown) => void): void {
    const db = this.db
    // The first write of a transaction needs no savepoint: rolling it back is rolling back the
    // transaction (two statements fewer on the common path of one awaited write at a time).
    const first = !this.txOpen
    if (first) {
      db.control('BEGIN')
      this.txOpen = true
    } else db.control('SAVEPOINT w')
    db.startRecording()
    let result: unknown
    try {
      result = fn()
    } catch (err) {
      db.stopRecording()
      if (first) {
        db.control('ROLLBACK')
        this.txOpen = false
      } else {
        db.control('ROLLBACK TO w')
        db.control('RELEASE w')
      }
      reject(err)
      this.settleIfQuiet()
      return
    }
    const groups = db.stopRecording()
    if (!first) db.control('RELEASE w')
    if (groups.length === 0) {
      // Nothing changed (e.g. deleting a missing key): nothing to make durable.
      resolve(result)
      this.settleIfQuiet()
      return
    }
    this.building.groups.push(...groups)
    this.building.waiters.push({ resolve, reject, result })
    if (durability === 'strict') this.building.strict = true
    if (!this.flushing) void this.flushLoop()
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true
    // Let writes issued in the same tick join the first batch.
    await Promise.resolve()
    while (this.building.waiters.length > 0) {
      const batch = this.building
      this.building = { groups: [], waiters: [], strict: false }
      try {
        await this.sink(batch.groups, batch.strict ? 'strict' : 'relaxed')
      } catch (err) {
        this.recover(batch, err)
        continue
      }
      this.durableSinceBegin.push(...batch.groups)
      for (const w of batch.waiters) w.resolve(w.result)
    }
    this.flushing = false
    this.settleIfQuiet()
  }

  /** An append failed: undo everything not durable, keep everything that is. */
  private recover(failed: Batch, err: unknown): void {
    const mapped = fromPlatformError(err, 'commit')
    const later = this.building
    this.building = { groups: [], waiters: [], strict: false }
    this.db.control('ROLLBACK')
    this.txOpen = false
    if (this.durableSinceBegin.length > 0) {
      this.db.control('BEGIN')
      this.db.replay(this.durableSinceBegin)
      this.db.control('COMMIT')
      this.durableSinceBegin = []
    }
    for (const w of [...failed.waiters, ...later.waiters]) w.reject(mapped)
  }

  /** COMMIT once nothing is in flight, then hand over to a waiting transaction or report idle. */
  private settleIfQuiet(): void {
    if (this.flushing || this.building.waiters.length > 0) return
    if (this.txOpen) {
      this.db.control('COMMIT')
      this.txOpen = false
      this.durableSinceBegin = []
    }
    if (this.exclusiveHeld) return
    if ((this.exclusiveWaiters.length > 0 || this.deferred.length > 0) && this.gateClosed) {
      this.openGate()
      return
    }
    if (this.exclusiveWaiters.length > 0) {
      // Writes deferred before the first waiting transaction asked run first: a transaction begun
      // after a write never overtakes it (its reads see that write).
      const first = this.exclusiveWaiters[0]!.arrival
      let earlier = 0
      while (earlier < this.deferred.length && this.deferred[earlier]!.arrival < first) earlier++
      if (earlier > 0) {
        for (const d of this.deferred.splice(0, earlier)) this.execute(d.fn, d.durability, d.resolve, d.reject)
        return
      }
      this.exclusiveHeld = true
      this.exclusiveWaiters.shift()!.resolve()
      return
    }
    if (this.deferred.length > 0) {
      const run = this.deferred
      this.deferred = []
      for (const d of run) this.execute(d.fn, d.durability, d.resolve, d.reject)
      return
    }
    for (const w of this.idleWaiters.splice(0)) w()
    this.gate?.release(() => this.idle)
    this.onIdle()
  }

  /**
   * Take the database for a multi-step transaction: resolves when everything before is committed.
   * The holder runs BEGIN/COMMIT itself and must call the returned release exactly once.
   */
  async exclusive(): Promise<() => void> {
    if (this.exclusiveHeld || this.txOpen || this.flushing || this.gateClosed || this.deferred.length > 0 || this.gateOpening) {
      const turn = new Promise<void>((resolve, reject) => this.exclusiveWaiters.push({ resolve, reject, arrival: ++this.arrivals }))
      if (this.gateClosed && !this.exclusiveHeld && !this.txOpen && !this.flushing) this.openGate()
      await turn
    } else {
      this.exclusiveHeld = true
    }
    let released = false
    return () => {
      if (released) return
      released = true
      this.exclusiveHeld = false
      this.settleIfQuiet()
    }
  }

  /**
   * Shared mode: resolves once the writes that wait for the gate have run, so that a read issued
   * after a write sees it (as it does unshared, where a write runs at submit).
   */
  whenGateOpen(): Promise<void> {
    if (!this.gateOpening) return Promise.resolve()
    return new Promise((resolve) => this.gateWaiters.push(resolve))
  }

  /** Shared mode: a mark to pass to {@link gateFailedSince} later (taken when a call is issued). */
  get gateFailureMark(): number {
    return this.gateFailures
  }

  /**
   * Shared mode: the error of a failed attempt to take the gate (LockTimeoutError) that ended after
   * `mark` was taken, when the gate is not held now; else undefined. A call issued before that
   * attempt failed had been waiting behind it: it fails with it instead of starting a wait of its
   * own, so that calls issued together (writes after a read, a transaction after writes) fail after
   * one lock timeout, not after one timeout each in turn.
   */
  gateFailedSince(mark: number): unknown {
    return this.gateFailures > mark && this.gateClosed ? this.lastGateFailure : undefined
  }

  /** Writes wait for the gate to open ({@link whenGateOpen} would wait). */
  get gateOpeningNow(): boolean {
    return this.gateOpening
  }

  /** Resolves once nothing is queued, in flight or held. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** True when nothing is queued, in flight or held. */
  get idle(): boolean {
    return !this.txOpen && !this.flushing && !this.exclusiveHeld && this.deferred.length === 0 && this.exclusiveWaiters.length === 0
  }
}
