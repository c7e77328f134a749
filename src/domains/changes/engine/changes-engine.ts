import { InvalidArgumentError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import { matchesFilter, type ChangeEvent, type WatchFilter } from '../shared/changes.js'
import type { EngineServices } from '../../../engine/engine-services.js'

/** A change with its position in this engine's change feed. */
export interface NumberedChange extends ChangeEvent {
  /** Position in the engine's feed (the cursor of {@link ChangesEngine.next}). */
  n: number
}

const KEEP = 512

/**
 * The engine side of `vault.watch`: a feed of recent change events that clients long-poll with a
 * cursor (`next(after, filter, waitMs)`). Long polling crosses every boundary the same way (a
 * direct call, a message to a worker, a call forwarded from another tab) without callbacks.
 */
export class ChangesEngine {
  private feed: NumberedChange[] = []
  private counter = 0
  private unsubscribe: (() => void) | undefined
  private waiters = new Set<() => void>()

  constructor(private readonly services: EngineServices) {}

  /** Follow the engine's changes from the first watch on (an engine nobody watches keeps no feed). */
  private start(): void {
    if (this.unsubscribe) return
    this.unsubscribe = this.services.subscribe((c) => {
      this.feed.push({ ...c, n: ++this.counter })
      if (this.feed.length > KEEP) this.feed.splice(0, this.feed.length - KEEP)
      for (const w of [...this.waiters]) w()
    })
  }

  /** The cursor to start watching from (changes after it are reported). */
  async cursor(_ctx: CallContext): Promise<number> {
    this.start()
    return this.counter
  }

  /**
   * Changes after `after` that match `filter`, waiting up to `waitMs` for one. Returns the events
   * and the new cursor; `missed` is true when older events fell out of the feed.
   */
  async next(_ctx: CallContext, after: number, filter: WatchFilter | undefined, waitMs: number): Promise<{ changes: ChangeEvent[]; cursor: number; missed: boolean }> {
    if (typeof after !== 'number' || typeof waitMs !== 'number') throw new InvalidArgumentError('changes.next(after, filter, waitMs) takes numbers')
    this.start()
    const deadline = Date.now() + Math.min(Math.max(0, waitMs), 60_000)
    for (;;) {
      const fresh = this.feed.filter((c) => c.n > after)
      const missed = fresh.length > 0 ? fresh[0]!.n > after + 1 : this.counter > after && this.feed.length === 0
      const matching = fresh.filter((c) => matchesFilter(c, filter))
      const cursor = this.counter
      if (matching.length > 0 || missed || Date.now() >= deadline || this.services.closing) {
        return { changes: matching.map(({ n: _n, ...c }) => c), cursor, missed }
      }
      after = cursor
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer)
          this.waiters.delete(done)
          resolve()
        }
        const timer = setTimeout(done, Math.max(0, deadline - Date.now()))
        // A watch alone must not keep a Node process alive.
        ;(timer as { unref?: () => void }).unref?.()
        this.waiters.add(done)
      })
    }
  }

  /** Wake pollers (the engine is closing). */
  wakeAll(): void {
    for (const w of [...this.waiters]) w()
    this.unsubscribe?.()
    this.unsubscribe = undefined
  }
}
