import { ClosedError, UnsupportedError } from '../errors/errors.js'
import { deserializeError } from './serialized-error.js'
import type { AnswerMessage, CallMessage } from './worker-messages.js'

/**
 * The page's side of its calls to the engine's worker (src/protocol/worker-messages.ts says the
 * messages; the worker answers in src/worker/serve-calls.ts). One message listener for every
 * answer, the calls in flight in a Map by number: no Proxy, no listener per call, no RPC library on
 * the page (docs/cold-start.md, "Main-thread bytes"). Messages between a page and its worker keep
 * their order, so calls reach the worker in the order they were made.
 */

/** What the caller needs of a Worker (or a MessagePort). */
export interface CallerEndpoint {
  postMessage(message: unknown, transfer: Transferable[]): void
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  start?(): void
}

type Method<T, K extends keyof T> = T[K] extends (...args: infer A) => infer R ? { args: A; result: Awaited<R> } : never

/** The methods of `T` the caller can call (its function-valued keys). */
export type MethodName<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T] & string

/** Calls on the object a worker serves (`T` is that object's type). */
export interface WorkerCaller<T> {
  /**
   * Call `method` of the served object with `args` (structured-cloned; the buffers in `transfer`
   * move instead, and are detached here). Resolves to its result; rejects with the error it threw,
   * rebuilt as its typed class (`instanceof NotFoundError`, `.code`).
   */
  call<K extends MethodName<T>>(method: K, args: Method<T, K>['args'], transfer?: Transferable[]): Promise<Method<T, K>['result']>
  /** Stop listening: calls in flight never settle (as when the worker is terminated); later calls reject with `ClosedError`. */
  release(): void
  /** The worker is gone: every call in flight rejects with `error`, and so does every later call. */
  fail(error: Error): void
}

interface Pending {
  resolve(value: unknown): void
  reject(error: unknown): void
}

/** A caller on `endpoint`. */
export function workerCaller<T>(endpoint: CallerEndpoint): WorkerCaller<T> {
  const pending = new Map<number, Pending>()
  let nextId = 1
  let stopped: Error | undefined
  const onMessage = (event: MessageEvent) => {
    const answer = event.data as AnswerMessage
    // Anything else on the channel (an answer already given up, the worker's hello) is not ours.
    const call = Array.isArray(answer) ? pending.get(answer[0]) : undefined
    if (!call) return
    pending.delete(answer[0])
    if (answer[1] === 0) call.resolve(answer[2])
    else if (answer[1] === 1 && answer[2] instanceof Object) call.reject(deserializeError(answer[2]))
    // (Not a labvault worker's answer, or another version's.)
    else call.reject(new UnsupportedError('vault.worker.js answered in an unknown form: is it from this labvault version?'))
  }
  endpoint.addEventListener('message', onMessage)
  endpoint.start?.()
  const stop = (error: Error) => {
    stopped = error
    endpoint.removeEventListener('message', onMessage)
  }
  return {
    call(method, args, transfer = []) {
      if (stopped) return Promise.reject(stopped)
      const id = nextId++
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
        try {
          endpoint.postMessage([id, method, args] satisfies CallMessage, transfer)
        } catch (err) {
          // An argument structured clone refuses (a function, a detached buffer): nothing was sent.
          pending.delete(id)
          reject(err)
        }
      })
    },
    release() {
      if (stopped) return
      stop(new ClosedError('the connection to the labvault worker was released'))
      pending.clear()
    },
    fail(error) {
      if (stopped) return
      stop(error)
      for (const call of pending.values()) call.reject(error)
      pending.clear()
    },
  }
}
