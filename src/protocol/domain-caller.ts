import { ClosedError } from '../errors/errors.js'
import type { EnginePort } from './engine-port.js'

/**
 * What a domain's client object (KeyValue, Columns, …) holds: a way to call its engine side,
 * bound to the vault's port and, inside `vault.transaction`, to that transaction.
 */
export class DomainCaller {
  constructor(
    private readonly port: EnginePort,
    private readonly txId: string | null,
    private readonly isClosed: () => boolean,
    private readonly vaultName: string,
  ) {}

  /** Call `domain.method(...args)` in the engine. */
  call(domain: string, method: string, args: unknown[], transfer?: Transferable[]): Promise<unknown> {
    if (this.isClosed()) return Promise.reject(new ClosedError(`vault "${this.vaultName}" is closed`))
    return this.port.invoke(this.txId, domain, method, args, transfer)
  }

  /** The same port, bound to a transaction. */
  withTransaction(txId: string): DomainCaller {
    return new DomainCaller(this.port, txId, this.isClosed, this.vaultName)
  }
}
