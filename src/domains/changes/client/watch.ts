import type { DomainCaller } from '../../../protocol/domain-caller.js'
import type { ChangeEvent, WatchFilter } from '../shared/changes.js'

export type { ChangeEvent, WatchFilter } from '../shared/changes.js'

/**
 * Start a watch loop: long-polls the engine's change feed and calls `callback` for each matching
 * change. Returns the function that stops it.
 */
export async function startWatch(caller: DomainCaller, filter: WatchFilter | undefined, callback: (change: ChangeEvent) => void, isClosed: () => boolean): Promise<() => void> {
  let stopped = false
  // The cursor is taken before this resolves: every change made after `watch` resolved is reported.
  let cursor = (await caller.call('changes', 'cursor', [])) as number
  const run = async () => {
    while (!stopped && !isClosed()) {
      try {
        const r = (await caller.call('changes', 'next', [cursor, filter, 15_000])) as { changes: ChangeEvent[]; cursor: number }
        cursor = r.cursor
        if (stopped) break
        for (const c of r.changes) {
          try {
            callback(c)
          } catch {
            // The watcher's error is its own.
          }
        }
      } catch {
        if (stopped || isClosed()) break
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }
  run().catch(() => {})
  return () => {
    stopped = true
  }
}
