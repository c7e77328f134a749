import { methodKind } from '../protocol/method-kinds.js'
import type { CallOptions } from '../protocol/engine-types.js'
import { UnsupportedError } from '../errors/errors.js'
import type { EnginePort } from '../protocol/engine-port.js'

/**
 * One handle's view of a port: several handles may share one engine (two `openVault` of one vault
 * in a process; tabs whose calls the leader runs), and each keeps its own options. Every call
 * carries the handle's durability and read-only right, which the engine honours per call (a strict
 * write is synced even when the engine was opened relaxed). A read-only handle's writes are refused
 * here, by method kind, before anything is sent; the engine refuses them too.
 */
export function handlePort(port: EnginePort, options: Required<CallOptions>, vaultName: string): EnginePort {
  const refuse = (what: string) => Promise.reject(new UnsupportedError(`vault "${vaultName}" is open read-only by this handle: ${what} refused`))
  return {
    ...port,
    invoke: (txId, domain, method, args, transfer, requestKey) => {
      if (options.readOnly && methodKind(domain, method) === 'write') return refuse(`${domain}.${method}`)
      return port.invoke(txId, domain, method, args, transfer, requestKey, options)
    },
    info: () => port.info(options),
    beginTransaction: () => (options.readOnly ? refuse('transaction') : port.beginTransaction(options)),
    checkpoint: () => (options.readOnly ? refuse('checkpoint') : port.checkpoint(options)),
  }
}
