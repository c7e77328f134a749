import { UnsupportedError } from '../../../errors/errors.js'

/**
 * What DuckDB's start is doing now, and a bound on its local steps. The start downloads DuckDB
 * (network: unbounded, a slow connection is no fault) and then does local work: instantiating
 * the compiled module, opening the cache file's OPFS access handles, removing a damaged file. A
 * local step that never settles would leave every query of the vault waiting for ever (CI saw a
 * first query not answered in 2 minutes, three times in some twenty runs, cause not found), so
 * each one is bounded: past {@link STALL_MS} it fails with an UnsupportedError naming the step,
 * and the start falls back or fails as for any other error of that step.
 */

/** How long a local step of the start may take before it counts as stalled (ms). Normal: well under a second. */
export const STALL_MS = 20_000

/**
 * The steps begun and not yet ended, by name, in the order they began: one list per worker or
 * process, so vaults of one Node process starting DuckDB at the same time share it (a message may
 * then name another vault's step too).
 */
const pending = new Map<string, number>()

/** Mark a step as begun; the function returned marks it as ended. */
export function beginStep(name: string): () => void {
  const token = (pending.get(name) ?? 0) + 1
  pending.set(name, token)
  return () => {
    if (pending.get(name) === token) pending.delete(name)
  }
}

/** What the start is doing now ("" when nothing is pending), for error messages. */
export function stepsNow(): string {
  return [...pending.keys()].join(', ')
}

/**
 * `work` named `name`, bounded by `ms`: rejects with UnsupportedError once `ms` have passed
 * without it settling. What it resolves to after that is handed to `discard` (a handle to close).
 */
export function bounded<T>(work: Promise<T>, name: string, discard?: (late: T) => void, ms = STALL_MS): Promise<T> {
  const end = beginStep(name)
  let timer: ReturnType<typeof setTimeout> | undefined
  let gaveUp = false
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      gaveUp = true
      end()
      reject(new UnsupportedError(`sql: DuckDB's start stalled: ${name} did not finish within ${ms / 1000} s`))
    }, ms)
  })
  const settled = work.then(
    (value) => {
      clearTimeout(timer)
      end()
      if (gaveUp) discard?.(value)
      return value
    },
    (err: unknown) => {
      clearTimeout(timer)
      end()
      throw err
    },
  )
  settled.catch(() => {})
  return Promise.race([settled, stalled])
}
