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
