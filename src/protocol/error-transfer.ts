import { transferHandlers, type TransferHandler } from 'comlink'
// The page does not load comlink: src/protocol/comlink-caller.ts reads this same form.
import { deserializeError, serializeError, type SerializedError } from './serialized-error.js'


interface ThrownValue {
  value: unknown
}

/**
 * comlink keeps only name, message and stack of a thrown error, so `instanceof NotFoundError`
 * would fail on the main thread. This replaces its "throw" handler in the worker (and in any
 * comlink `wrap` on the other side); the page's caller reads the same form without comlink
 * (src/protocol/comlink-caller.ts).
 */
export function installErrorTransfer(): void {
  const handler: TransferHandler<ThrownValue, SerializedError> = {
    canHandle: (value: unknown): value is ThrownValue => typeof value === 'object' && value !== null && isThrowMarker(value),
    serialize: (thrown) => [serializeError(thrown.value), []],
    deserialize: (s) => {
      throw deserializeError(s)
    },
  }
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>)
}

// comlink marks a thrown value with its own (unexported) Symbol("Comlink.thrown") key.
function isThrowMarker(value: object): boolean {
  return Object.getOwnPropertySymbols(value).some((s) => s.description === 'Comlink.thrown')
}
