/**
 * Call order inside the key-value engine. A call runs in the tick it arrives in, so calls run in
 * the order they arrive; except a write with a large value, which must first put the value in the
 * blob store (I/O) before its row can be written. While such a write prepares, the calls that
 * arrive after it wait for it (and for each other, in order): a read or write made after it never
 * runs before it. Preparations of successive writes overlap; only the SQL runs in order.
 */
export class KvTurns {
  /** Resolves once every call that arrived so far has run its SQL (undefined: none is waiting). */
  private tail: Promise<void> | undefined
  /** A waiting call is being run now: calls it makes itself are part of it. */
  private running = false

  /** Run `call` now, or after the calls that wait (in arrival order). */
  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.tail === undefined || this.running) return call()
    return this.after(undefined, call)
  }

  /**
   * Run `issue` once `prepare` (started by the caller, now) has resolved and every call that
   * arrived before has run; the calls that arrive meanwhile wait until `issue` has been called.
   * A failed preparation fails this call only.
   */
  after<P, T>(prepare: Promise<P> | undefined, issue: (prepared: P) => Promise<T>): Promise<T> {
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
    })
    this.tail = turn
    void turn.then(() => {
      if (this.tail === turn) this.tail = undefined
    })
    return turn.then(() => result)
  }
}
