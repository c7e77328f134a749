import type { EngineCalls, EnginePort } from '../protocol/engine-port.js'
import { portCallNames } from '../protocol/engine-port.js'
import { convertArgs, paramIndex } from '../protocol/port-calls.js'

type Method = (...args: unknown[]) => Promise<unknown>

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
        ? (...args: unknown[]) => (engine[call] as Method).apply(engine, args)
        : (...args: unknown[]) => (engine[call] as Method).apply(engine, convertArgs(call, args, 'port', 'engine'))
  }
  // Every domain call is an `invoke`: written out, it costs a kv.get no allocation over the engine's
  // own call (the generic form above builds two argument arrays).
  const invoke: EnginePort['invoke'] = (txId, domain, method, args, _transfer, requestKey, options) => engine.invoke(txId, domain, method, args, requestKey, options)
  return { ...(port as unknown as EnginePort), invoke }
}
