import type { VaultEngine } from '../engine/vault-engine.js'
import type { EnginePort } from '../protocol/engine-port.js'

/** A port that calls the engine directly (Node, or an engine on the page's own thread). */
export function inProcessPort(engine: VaultEngine): EnginePort {
  return {
    invoke: (txId, domain, method, args, _transfer, requestKey, options) => engine.invoke(txId, domain, method, args, requestKey, options),
    info: (options) => engine.info(options),
    integrityCheck: () => engine.integrityCheck(),
    beginTransaction: (options) => engine.beginTransaction(options),
    commitTransaction: (id, requestKey) => engine.commitTransaction(id, requestKey),
    rollbackTransaction: (id) => engine.rollbackTransaction(id),
    checkpoint: (options) => engine.checkpoint(options),
    close: () => engine.close(),
  }
}
