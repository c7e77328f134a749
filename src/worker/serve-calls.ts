import type { AnswerMessage, CallMessage } from '../protocol/worker-messages.js'
import { serializeError } from '../protocol/serialized-error.js'

/** A result whose buffers `transfer` move to the caller's thread instead of being copied. */
export class Moving {
  constructor(
    readonly value: unknown,
    readonly transfer: Transferable[],
  ) {}
}

/** What {@link serveCalls} needs of the worker's global scope (or a MessagePort). */
export interface ServingEndpoint {
  postMessage(message: unknown, transfer: Transferable[]): void
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  start?(): void
}

/**
 * Answer the calls of src/protocol/worker-caller.ts on `endpoint` (the messages:
 * src/protocol/worker-messages.ts): each names one of `methods` of `target`, which is called at
 * once, in the order the calls arrive; its result (awaited) or what it threw is the answer. A
 * result wrapped in {@link Moving} moves its buffers. A method not in `methods` is answered with a
 * TypeError, as is a result that structured clone refuses (a call is never left unanswered).
 */
export function serveCalls<T extends object>(endpoint: ServingEndpoint, target: T, methods: readonly (keyof T & string)[]): void {
  const callable = new Set<string>(methods)
  const answer = (message: AnswerMessage, transfer: Transferable[]) => {
    try {
      endpoint.postMessage(message, transfer)
    } catch (err) {
      endpoint.postMessage([message[0], 1, serializeError(new TypeError(`the labvault worker's answer could not be sent (${err instanceof Error ? err.message : String(err)})`))] satisfies AnswerMessage, [])
    }
  }
  endpoint.addEventListener('message', (event) => {
    const message = event.data as CallMessage
    if (!Array.isArray(message)) return
    const [id, method, args] = message
    let result: unknown
    try {
      if (!callable.has(method) || !Array.isArray(args)) throw new TypeError(`the labvault worker has no method ${JSON.stringify(method)}: are the page and vault.worker.js from the same labvault version?`)
      result = (target[method as keyof T] as (...a: unknown[]) => unknown).apply(target, args)
    } catch (err) {
      answer([id, 1, serializeError(err)], [])
      return
    }
    Promise.resolve(result).then(
      (value) => (value instanceof Moving ? answer([id, 0, value.value], value.transfer) : answer([id, 0, value], [])),
      (err: unknown) => answer([id, 1, serializeError(err)], []),
    )
  })
  endpoint.start?.()
}
