import * as arrow from 'apache-arrow'
import type { ColumnBuilderSpec } from '../../shared/builder-types.js'
import type { ArgumentResolver } from './arguments.js'
import { putRow } from './builder-output.js'
import type { BuilderContext } from './compute-types.js'

/**
 * `result` (a builder call's promise), or the signal's reason as soon as it aborts: a stop, a forced
 * stop or the vault closing ends the execution at once, also while a call is in flight that does not
 * listen to `ctx.signal` (its late result or error is dropped).
 */
export function untilAborted<T>(result: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    result.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err as Error)
      },
    )
  })
}

/**
 * How long a run of calls may hold the thread without a macrotask: a synchronous call, and also an
 * async call or generator step that settles through microtasks alone (an `async` function that
 * awaits nothing pending), never lets a timer or message run, so an abort from one would not get
 * through.
 */
export const YIELD_EVERY_MS = 50

/** A macrotask: lets timers and messages (an abort, close()) run before going on. */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setTimeout(r, 0))

/** What a row-wise run needs from the execution. */
export interface RowWiseRun {
  readonly table: string
  readonly instanceId: string
  readonly processId: string | undefined
  readonly artifactFolder: unknown
  readonly signal: AbortSignal
  /** The index's row count. */
  readonly rows: number
  /** Progress of synchronous calls at most this often (ComputeRequest.progressIntervalMs); undefined = every call. */
  readonly progressIntervalMs?: number
}

/**
 * Row-wise calls, `concurrency` in flight; the first error stops new calls and is rethrown once all
 * settle. A call that returns a plain value is not awaited (a microtask per row would double the
 * cost of cheap functions); a long run of such calls yields to the event loop every
 * {@link YIELD_EVERY_MS}, so an abort from a timer or a message still gets through. With
 * `progressIntervalMs`, such calls report progress when the clock is read for that (every 256
 * calls), and the last row is always reported.
 */
export async function runRowWise(
  run: RowWiseRun, spec: ColumnBuilderSpec, fn: (args: unknown, ctx: BuilderContext) => unknown, resolver: ArgumentResolver,
  pending: ArrayLike<number>, values: unknown[][], progress: (computed: number) => void,
): Promise<void> {
  let next = 0
  let computed = 0
  let reported = 0
  let failed = false
  let error: unknown
  let lastYield = performance.now()
  let lastReport = lastYield
  let sync = 0
  const { table, instanceId, processId, artifactFolder, signal, rows } = run
  const every = run.progressIntervalMs
  const builder = spec.name
  const cols = spec.changedColumns
  const single = cols.length === 1 ? values[0]! : undefined
  // The abort flag as a plain variable (set by the signal's event, which fires synchronously):
  // reading signal.aborted is a checked getter call per row.
  let aborted = signal.aborted
  const onAbort = (): void => {
    aborted = true
  }
  signal.addEventListener('abort', onAbort)
  const report = (): void => {
    reported = computed
    progress(computed)
  }
  const worker = async (): Promise<void> => {
    while (!failed && next < pending.length) {
      const index = pending[next++]!
      let waited = false
      let clock = false
      try {
        if (aborted) throw signal.reason
        const ctx: BuilderContext = { table, instanceId, builder, index, rows, processId, artifactFolder, signal, arrow }
        let out = fn(resolver.at(index), ctx)
        if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
          out = await untilAborted(out as PromiseLike<unknown>, signal)
          waited = true
        }
        // Every call counts, awaited or not: promises that settle at once are microtasks only.
        clock = (++sync & 255) === 0
        if (single) single[index] = out
        else putRow(out, cols, values, index, builder)
      } catch (err) {
        if (!failed) error = err
        failed = true
        return
      }
      computed++
      if (every === undefined || waited || computed === pending.length) report()
      if (clock) {
        const now = performance.now()
        if (every !== undefined && now - lastReport >= every) {
          lastReport = now
          report()
        }
        if (now - lastYield > YIELD_EVERY_MS) {
          await yieldToEventLoop()
          lastYield = performance.now()
        }
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(spec.concurrency, pending.length) }, worker))
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
  if (failed) throw error
  if (reported !== computed) report()
}
