/**
 * Marks on the browser's performance timeline (`labvault:<step>`) at each step of opening a vault,
 * on the page and in the engine's worker: DevTools' Performance panel shows them, and the cold-start
 * bench reads them to say where the time of a first open goes (docs/cold-start.md). A mark costs
 * microseconds; where there is no `performance.mark` (old runtimes) nothing happens.
 */
export function startMark(step: string): void {
  try {
    performance.mark('labvault:' + step)
  } catch {
    // No timeline here (or one that refuses marks): nothing about the open changes.
  }
}

/**
 * Where a step runs on Node too (a vault's files opened or created): marked only in a browser.
 * On Node marks stay in the process's timeline until cleared, and a process may open many vaults.
 */
const inBrowser = typeof (globalThis as { document?: unknown }).document !== 'undefined' || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined'

/** {@link startMark} in a browser (page or worker); nothing elsewhere. */
export function browserMark(step: string): void {
  if (inBrowser) startMark(step)
}
