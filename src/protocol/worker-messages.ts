import type { SerializedError } from './serialized-error.js'

/**
 * The messages between a page and the engine's worker (src/protocol/worker-caller.ts on the page,
 * src/worker/serve-calls.ts in the worker). Flat arrays, because every domain call is one such
 * message each way and structured clone's time grows with the nesting: comlink's form
 * (`{ id, type, path, argumentList: [{ type, value }] }`, used before) cost Firefox ~0.01–0.02 ms
 * more per message, a tenth of a key-value `get` (docs/engines.md, "Round eleven").
 *
 * - a call: `[id, method, args]`: `method` of the object the worker serves, `args` its arguments;
 * - its answer: `[id, 0, result]`, or `[id, 1, error]` ({@link SerializedError}: the typed error
 *   rebuilt on the page, src/protocol/serialized-error.ts).
 * `id` is a positive whole number, new for each call of a caller. Anything else on the channel
 * (the worker's first hello, an object) is not a call or an answer, and both sides ignore it.
 */
export type CallMessage = [id: number, method: string, args: unknown[]]

/** The worker's answer to a {@link CallMessage}. */
export type AnswerMessage = [id: number, failed: 0, result: unknown] | [id: number, failed: 1, error: SerializedError]
