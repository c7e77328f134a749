import { ClosedError, UnsupportedError } from '../errors/errors.js'
import { deserializeError, type SerializedError } from './serialized-error.js'

/**
 * The page's side of a call to the engine's worker, speaking comlink 4's wire format to the
 * worker's `expose` (workers/vault.worker.ts) without loading comlink on the page (its `wrap`, a
 * Proxy per property and a listener per call, weighs ~1.3 KB gzip there: docs/cold-start.md).
 *
 * The format, as comlink 4.4 defines it: a call is a message `{ id, type: 'APPLY', path,
 * argumentList }` whose arguments are wire values `{ type: 'RAW', value }`; the worker answers
 * with the same `id` and one wire value: `{ type: 'RAW', value }` for a result, `{ type: 'HANDLER',
 * name: 'throw', value }` for a thrown error, in the form the worker's "throw" handler gives it
 * (src/protocol/error-transfer.ts: a {@link SerializedError}). `{ type: 'RELEASE' }` tells the
 * worker's `expose` to stop listening. Messages between a page and its worker keep their order, so
 * calls reach the worker in the order they were made.
 */

/** What the caller needs of a Worker (or a MessagePort): comlink's endpoint, as a page sees it. */
export interface CallerEndpoint {
  postMessage(message: unknown, transfer: Transferable[]): void
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  start?(): void
}

type Method<T, K extends keyof T> = T[K] extends (...args: infer A) => infer R ? { args: A; result: Awaited<R> } : never

/** The methods of `T` the caller can call (its function-valued keys). */
export type MethodName<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T] & string

/** Calls on the object a worker exposes with comlink (`T` is that object's type). */
export interface ComlinkCaller<T> {
  /**
   * Call `method` of the exposed object with `args` (structured-cloned; the buffers in `transfer`
   * move instead, and are detached here). Resolves to its result; rejects with the error it threw,
   * rebuilt as its typed class (`instanceof NotFoundError`, `.code`).
   */
  call<K extends MethodName<T>>(method: K, args: Method<T, K>['args'], transfer?: Transferable[]): Promise<Method<T, K>['result']>
  /**
   * Stop listening and tell the worker's `expose` to stop (comlink's RELEASE). Calls in flight never
   * settle (as when the worker is terminated); later calls reject with `ClosedError`.
   */
  release(): void
  /** The worker is gone: every call in flight rejects with `error`, and so does every later call. */
  fail(error: Error): void
}

interface Pending {
  resolve(value: unknown): void
  reject(error: unknown): void
}

interface Reply {
  id?: unknown
  type?: unknown
  name?: unknown
  value?: unknown
}

/** A caller on `endpoint`: one message listener for every reply, the calls in flight by id. */
export function comlinkCaller<T>(endpoint: CallerEndpoint): ComlinkCaller<T> {
  const pending = new Map<number, Pending>()
  let nextId = 1 // comlink ignores a reply whose id is falsy: start at 1
  let stopped: Error | undefined
  const onMessage = (event: MessageEvent) => {
    const reply = event.data as Reply | null
    // Anything else on the channel (a reply already given up, another sender's message) is not ours.
    const call = reply !== null && typeof reply === 'object' ? pending.get(reply.id as number) : undefined
    if (!call) return
    pending.delete(reply!.id as number)
    if (reply!.type === 'RAW') call.resolve(reply!.value)
    else if (reply!.type === 'HANDLER' && reply!.name === 'throw') call.reject(deserializeError(reply!.value as SerializedError))
    else call.reject(new UnsupportedError(`the labvault worker answered in a form this page does not read (${String(reply!.type)} ${String(reply!.name)}): are the page and vault.worker.js from the same labvault version?`))
  }
  endpoint.addEventListener('message', onMessage)
  endpoint.start?.()
  return {
    call(method, args, transfer = []) {
      if (stopped) return Promise.reject(stopped)
      const id = nextId++
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
        try {
          endpoint.postMessage({ id, type: 'APPLY', path: [method], argumentList: args.map((value: unknown) => ({ type: 'RAW', value })) }, transfer)
        } catch (err) {
          // An argument structured clone refuses (a function, a detached buffer): nothing was sent.
          pending.delete(id)
          reject(err)
        }
      })
    },
    release() {
      if (stopped) return
      stopped = new ClosedError('the connection to the labvault worker was released')
      endpoint.removeEventListener('message', onMessage)
      try {
        endpoint.postMessage({ id: nextId++, type: 'RELEASE' }, [])
      } catch {
        // A port already closed: the worker is gone anyway.
      }
      pending.clear()
    },
    fail(error) {
      if (stopped) return
      stopped = error
      endpoint.removeEventListener('message', onMessage)
      for (const call of pending.values()) call.reject(error)
      pending.clear()
    },
  }
}
