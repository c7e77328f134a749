import type { VaultEngine } from '../engine/vault-engine.js'
import type { EnginePort } from './engine-port.js'

/** A port that calls the engine directly (Node, or an engine on the page's own thread). */
export function inProcessPort(engine: VaultEngine): EnginePort {
  return {
    invoke: (txId, domain, method, args, _transfer, requestKey) => engine.invoke(txId, domain, method, args, requestKey),
    info: () => engine.info(),
    integrityCheck: () => engine.integrityCheck(),
    beginTransaction: () => engine.beginTransaction(),
    commitTransaction: (id, requestKey) => engine.commitTransaction(id, requestKey),
    rollbackTransaction: (id) => engine.rollbackTransaction(id),
    checkpoint: () => engine.checkpoint(),
    close: () => engine.close(),
  }
}
