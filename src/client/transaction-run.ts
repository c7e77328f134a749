import { ClosedError, InvalidArgumentError } from '../errors/errors.js'
import type { EnginePort } from '../protocol/engine-port.js'
import { Lifecycle } from './lifecycle.js'

/**
 * What a transaction's domain APIs hold that its commit must write first: the write caches a
 * callback turned on (`tx.kv().enableCache()`, `tx.columns.enableCache()`).
 */
export interface TransactionCaches {
  kvs: Map<string, { disableCache(): Promise<number> }>
  columnsApi?: { disableCache(): Promise<void> }
}

/** What `vault.transaction(fn)` runs with: the vault's own parts (src/client/vault.ts). */
export interface TransactionHost<Tx extends TransactionCaches> {
  name: string
  port: EnginePort
  lifecycle: Lifecycle
  /**
   * The vault's transactions whose callback is running, each with what ends its wait: close() calls
   * that and rolls them back.
   */
  openTransactions: Map<string, () => void>
  /** The vault's own key-value handles: what their caches hold is written before the transaction begins. */
  kvs: Map<string, { flush(): Promise<number> }>
  /** The vault's own columns client, if used: what its caches hold is written before the transaction begins too. */
  columnsApi?: { flush(): Promise<void> }
  /** The domain APIs inside transaction `txId`, handing out objects whose calls `calls` counts. */
  domains(txId: string, calls: Lifecycle): Tx
  /**
   * Resolves once every key-value call made so far has gone out to the engine (kv-values.ts's
   * `kvCallsIssued`, passed in: imported here, it would tie this chunk to the package's entry, and a
   * bundler then kept unrelated code of the entry on the page).
   */
  kvCallsIssued(): Promise<void>
}

/**
 * `vault.transaction(fn)`: begin, run `fn`, commit, or roll back when it throws or the vault closes
 * meanwhile (see Vault.transaction). A module of its own, loaded on the first transaction: a page
 * that never runs one does not download it (docs/cold-start.md, "Main-thread bytes").
 */
export async function runTransaction<T, Tx extends TransactionCaches>(host: TransactionHost<Tx>, fn: (tx: Tx) => Promise<T> | T): Promise<T> {
  const { port, lifecycle, openTransactions: open, kvCallsIssued } = host
  // Checked before anything is begun: a callback that is not a function was a TypeError thrown
  // after the write lock was taken (waiting first for every other writer, in every process).
  if (typeof fn !== 'function') throw new InvalidArgumentError(`vault.transaction needs a callback function, got ${fn === null ? 'null' : typeof fn}`)
  const rolledBack = (cause?: unknown) =>
    new ClosedError(`vault "${host.name}" was closed while a transaction was open: it was rolled back`, cause === undefined ? undefined : { cause })
  // A key-value write made before this call and still waiting for the codec goes out first, so
  // that the transaction comes after it (its reads see it) as it would without the wait.
  await kvCallsIssued()
  // Writes the vault's kv handles and columns buffered (enableCache, withCache) came before the transaction: they
  // are written first, as any other change writes them first. Left buffered, the transaction did not
  // read them, and their later write-out replaced what it had committed (an older write won).
  for (const kv of host.kvs.values()) await kv.flush()
  await host.columnsApi?.flush()
  const txId = await port.beginTransaction()
  if (lifecycle.closeRequested) {
    await port.rollbackTransaction(txId).catch(() => {})
    throw rolledBack()
  }
  // close() ends the wait for the callback: one that awaits something that never settles left
  // `vault.transaction` pending for ever after close() had rolled it back.
  const closedMeanwhile = rolledBack()
  let abandon!: () => void
  const abandoned = new Promise<never>((_, reject) => (abandon = () => reject(closedMeanwhile)))
  // Handled: close() may end the wait after the callback settled (never an unhandled rejection).
  abandoned.catch(() => {})
  open.set(txId, abandon)
  const calls = new Lifecycle(host.name)
  let result: T
  const tx = host.domains(txId, calls)
  try {
    result = await Promise.race([fn(tx), abandoned])
    // What a cache turned on in `fn` still holds goes into the transaction before its commit
    // (before, the commit did not know the buffer: the transaction resolved and those writes were
    // gone). A write-out that fails rolls the transaction back; a rollback drops the buffers.
    // The caches are turned off too (kv and columns): a handle kept past the transaction then sends its writes to the
    // engine, which refuses them (the transaction is over), where a cache left on buffered them,
    // resolved, and never wrote them anywhere.
    for (const kv of tx.kvs.values()) await kv.disableCache()
    await tx.columnsApi?.disableCache()
    // Every call made through `tx` before the callback settled, awaited or not (`void
    // tx.kv().set(…)`, a client still loading), reaches the engine before the commit: all of them
    // commit together. (Before, such calls arrived after the commit and failed, "transaction … is
    // not open", and the transaction resolved with only some of its writes.) Calls chained on
    // others' results are issued meanwhile: wait until none is left.
    while (calls.busy) await calls.drained()
  } catch (err) {
    open.delete(txId)
    // Buffers of the callback's caches are written into the transaction that is about to be rolled
    // back (so they are dropped with it) and the caches turned off, as on commit: left on, a kept
    // handle buffered later writes and lost them, and an interval flush failed for ever.
    for (const kv of tx.kvs.values()) await kv.disableCache().catch(() => {})
    await tx.columnsApi?.disableCache().catch(() => {})
    await port.rollbackTransaction(txId).catch(() => {})
    throw err === closedMeanwhile || !lifecycle.closeRequested ? err : rolledBack(err)
  }
  // A key-value write made in `fn` and not awaited, whose value waits for the codec to load
  // (src/domains/kv/client/kv-values.ts), goes out before the commit, as it would without the wait.
  await kvCallsIssued()
  open.delete(txId)
  if (lifecycle.closeRequested) {
    await port.rollbackTransaction(txId).catch(() => {})
    throw rolledBack()
  }
  // From here on the commit is under way: close() waits for it.
  await lifecycle.run(() => port.commitTransaction(txId))
  return result
}
