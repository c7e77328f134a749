import type { EngineCalls, EnginePort } from '../protocol/engine-port.js'
import { portCallNames } from '../protocol/engine-port.js'
import { convertArgs, paramIndex } from '../protocol/port-calls.js'

type Method = (...args: unknown[]) => Promise<unknown>

/**
 * The longest stretch (ms) of engine calls answered on this thread without the event loop running.
 * The engine answers a call with synchronous work and a resolved promise, so a loop of awaited
 * calls (`for (…) await kv.set(…)`) ran on microtasks alone: no timer, I/O callback or signal
 * handler of the process ran until the loop ended (measured: none in 1.5 s of sets, every storage
 * and durability), and neither did labvault's own timers (the write lock's and processes' leases,
 * the write cache's interval flush); on a page (`worker: false`) nothing was drawn.
 */
const YIELD_AFTER_MS = 20
let lastYield = performance.now()
/** The event loop's turn under way: answers that come meanwhile wait for it too (they keep their order). */
let turn: Promise<void> | undefined

const nextTurn: () => Promise<void> = typeof setImmediate === 'function' ? () => new Promise((r) => setImmediate(r)) : messageTurn

/**
 * A turn of a page's event loop: a message, not `setTimeout(0)`, whose callback a hidden tab runs at
 * most once a second (once a minute after a while, in Chromium): a page-thread engine's answers
 * would have waited that long every 20 ms of calls.
 */
function messageTurn(): Promise<void> {
  const { port1, port2 } = new MessageChannel()
  return new Promise((resolve) => {
    port1.onmessage = () => {
      port1.close()
      resolve()
    }
    port2.postMessage(null)
  })
}

/** `answer`, after a turn of the event loop when the calls before it ran for {@link YIELD_AFTER_MS} without one. */
function inTurn<T>(answer: Promise<T>): Promise<T> {
  if (!turn) {
    if (performance.now() - lastYield < YIELD_AFTER_MS) return answer
    turn = nextTurn().then(() => {
      turn = undefined
      lastYield = performance.now()
    })
  }
  const waited = turn
  return answer.then(
    (value) => waited.then(() => value),
    (err: unknown) => waited.then(() => Promise.reject(err)),
  )
}

/**
 * A port that calls the engine directly (Node, or an engine on the page's own thread): every port
 * call (src/protocol/engine-port.ts) goes to the engine's method of the same name. Transfer lists
 * mean nothing on one thread: a call that takes one reaches the engine without it.
 */
export function inProcessPort(engine: EngineCalls): EnginePort {
  const port: Record<string, unknown> = { close: () => engine.close() }
  for (const call of portCallNames) {
    port[call] =
      paramIndex(call, 'transfer', 'port') < 0
        ? (...args: unknown[]) => inTurn((engine[call] as Method).apply(engine, args))
        : (...args: unknown[]) => inTurn((engine[call] as Method).apply(engine, convertArgs(call, args, 'port', 'engine')))
  }
  // Every domain call is an `invoke`: written out, it costs a kv.get no allocation over the engine's
  // own call (the generic form above builds two argument arrays).
  const invoke: EnginePort['invoke'] = (txId, domain, method, args, _transfer, requestKey, options) => inTurn(engine.invoke(txId, domain, method, args, requestKey, options))
  return { ...(port as unknown as EnginePort), invoke }
}
