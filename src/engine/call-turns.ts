/**
 * Calls run in the order they arrive. A call normally runs in the tick it arrives in, which keeps
 * that order by itself; a call that must first await something (the engine: catching up with other
 * processes' commits, enabling writes; the key-value domain: a large value's trip to the blob store)
 * takes a turn instead: the calls that arrive after it wait until it has run its SQL (and wait for
 * each other, in order), so a read or write made after it never runs before it. Preparations of
 * successive calls overlap; only what they do to the database runs in order.
 */
export class CallTurns {
  /** Resolves once every call that arrived so far has run its SQL (undefined: none is waiting). */
  private tail: Promise<void> | undefined
  /** A waiting call is being run now: calls it makes itself are part of it. */
  private running = false

  /**
   * Run `call` now, or after the calls that wait (in arrival order); then with `hold` as in
   * {@link after} (a write: the calls after it wait until it has run).
   */
  run<T>(call: () => Promise<T>, hold?: () => Promise<unknown> | undefined): Promise<T> {
    if (this.tail === undefined || this.running) return call()
    return this.after(undefined, call, hold)
  }

  /**
   * Run `issue` once `prepare` (started by the caller, now) has resolved and every call that
   * arrived before has run; the calls that arrive meanwhile wait until `issue` has been called.
   * A failed preparation fails this call only. `hold`: the calls that arrive meanwhile wait until
   * this call has settled (`true`: a call whose SQL runs after awaits), or until the promise it
   * returns, called once `issue` was (e.g. until the writes submitted so far have run), rather
   * than only until `issue` was called.
   */
  after<P, T>(prepare: Promise<P> | undefined, issue: (prepared: P) => Promise<T>, hold: boolean | (() => Promise<unknown> | undefined) = false): Promise<T> {
    let result!: Promise<T>
    // A failed preparation is settled here, after the earlier calls: it never lets a later call pass them.
    const prepared = prepare?.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    )
    const turn: Promise<void> = Promise.all([this.tail, prepared]).then(([, p]) => {
      if (p && !p.ok) {
        result = Promise.reject(p.error)
        return
      }
      this.running = true
      try {
        result = issue(p?.value as P)
      } catch (err) {
        result = Promise.reject(err)
      } finally {
        this.running = false
      }
      if (hold === true) return result.then(noop, noop)
      if (hold) {
        // The caller gets `result` only once `hold` settled (a write waiting for another process's
        // lock: up to lockTimeoutMs); a call that failed meanwhile (a refused argument) must not be
        // an unhandled rejection until then, which ends a Node process.
        result.catch(noop)
        return hold()?.then(noop, noop)
      }
    })
    this.tail = turn
    void turn.then(() => {
      if (this.tail === turn) this.tail = undefined
    })
    return turn.then(() => result)
  }
}

function noop(): void {}
