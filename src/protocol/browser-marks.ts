import { startMark } from './start-marks.js'

// Marks of steps that run on Node too (a vault's files opened or created), apart from
// start-marks.ts: the page loads that module, and these are used only by the engine's code, so a
// bundled page does not carry them (docs/cold-start.md, "Main-thread bytes").

/**
 * True in a browser (a page or a worker), false on Node. On Node marks stay in the process's
 * timeline until cleared, and a process may open many vaults: {@link browserMark} leaves them out.
 */
export const inBrowser = typeof (globalThis as { document?: unknown }).document !== 'undefined' || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined'

/** {@link startMark} in a browser (page or worker); nothing elsewhere. */
export function browserMark(step: string): void {
  if (inBrowser) startMark(step)
}
