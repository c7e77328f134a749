import { InvalidArgumentError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import { matchesFilter, type ChangeEvent, type EngineChange, type WatchFilter } from '../shared/changes.js'
import type { EngineServices } from '../../../engine/engine-services.js'

const KEEP = 512

/**
 * The engine side of `vault.watch`: a feed of recent change events that clients long-poll with a
 * cursor (`next(after, filter, waitMs)`). Long polling crosses every boundary the same way (a
 * direct call, a message to a worker, a call forwarded from another tab) without callbacks.
 *
 * A cursor is a position in the vault's log (a commit's `seq`), not in this engine's feed: with
 * several tabs, a watcher's poll moves to the next leader's engine when the leader goes, and that
 * engine's feed began later (at its first watcher), after commits the watcher has not heard of.
 * When a poll's cursor is older than what the feed holds (commits made by a previous leader, or
 * before this feed began, or fallen out of it), those commits cannot be described any more: the
 * watcher gets one event of domain `*` (something changed: read again), never silence. A cursor
 * ahead of the log (relaxed writes a crashed leader had acknowledged and lost) is reported so too.
 */
export class ChangesEngine {
  /** Recent changes, in log order: a change's position is its `seq`. */
  private feed: EngineChange[] = []
  /** The feed holds every change after this log position (and none before). */
  private from = 0
  private unsubscribe: (() => void) | undefined
  private waiters = new Set<() => void>()

  constructor(private readonly services: EngineServices) {}

  /** The log position of the newest change in the feed (or where the feed began). */
  private get end(): number {
    return this.feed.length > 0 ? this.feed[this.feed.length - 1]!.seq : this.from
  }

  /** Follow the engine's changes from the first watch on (an engine nobody watches keeps no feed). */
  private start(): void {
    if (this.unsubscribe) return
    this.from = this.services.commitPosition().seq
    this.feed = []
    this.unsubscribe = this.services.subscribe(({ kvRows: _rows, ...c }) => {
      // (The entries a commit names are for readers inside the engine, not watchers: not kept.)
      this.feed.push(c)
      if (this.feed.length > KEEP) this.from = this.feed.splice(0, this.feed.length - KEEP).pop()!.seq
      for (const w of [...this.waiters]) w()
    })
  }

  /** The cursor to start watching from (changes after it are reported). */
  async cursor(_ctx: CallContext): Promise<number> {
    this.start()
    return this.end
  }

  /**
   * Changes after `after` that match `filter`, waiting up to `waitMs` for one. Returns the events
   * and the new cursor; `missed` is true when changes after `after` could not be described (then a
   * `*` event stands for them).
   */
  async next(ctx: CallContext, after: number, filter: WatchFilter | undefined, waitMs: number): Promise<{ changes: ChangeEvent[]; cursor: number; missed: boolean }> {
    if (typeof after !== 'number' || typeof waitMs !== 'number') throw new InvalidArgumentError('changes.next(after, filter, waitMs) takes numbers')
    this.start()
    const deadline = Date.now() + Math.min(Math.max(0, waitMs), 60_000)
    for (;;) {
      const end = this.end
      const missed = after < this.from || after > end
      // A change another tab's or worker's member made (forwarded to this engine: its `caller`) is
      // external to every watcher but that member's own; the engine's own handles have none.
      const fresh = this.feed.filter((c) => c.seq > after).map(({ caller, ...c }) => (caller === ctx.caller ? c : { ...c, external: true }))
      const matching = fresh.filter((c) => matchesFilter(c, filter))
      if (missed) matching.unshift({ domains: ['*'], tables: [], kvNamespaces: [], external: true, seq: this.from })
      if (matching.length > 0 || Date.now() >= deadline || this.services.closing) {
        return { changes: matching, cursor: end, missed }
      }
      after = end
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
