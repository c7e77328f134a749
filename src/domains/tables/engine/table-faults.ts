/**
 * A test-only fault hook: the error tests make each write operation fail at its setup or its
 * execution, as TableVault's suite does by patching. Not reachable through any public option or
 * method: only code that imports this module (a Node test running the engine in-process) can arm it.
 */

/** The two phases of a write operation a fault can hit. */
export type FaultPhase = 'setup' | 'execute'

let armed: { op: string; phase: FaultPhase; error: () => unknown } | undefined

/** Make the next run of operation `op` (e.g. `createInstance`) throw `error()` at `phase`. */
export function armTableFault(op: string, phase: FaultPhase, error: () => unknown): void {
  armed = { op, phase, error }
}

/** Forget an armed fault that did not fire. */
export function disarmTableFault(): void {
  armed = undefined
}

/** Throw the armed fault when it is for this operation and phase (once). */
export function hitFault(op: string, phase: FaultPhase): void {
  if (armed && armed.op === op && armed.phase === phase) {
    const { error } = armed
    armed = undefined
    throw error()
  }
}
