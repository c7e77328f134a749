/**
 * openVault's `signal` (docs/opening.md): throws its reason at once when it is already aborted, else
 * returns what stops an open part way. The promise that returns rejects with the signal's reason as
 * soon as it aborts, also while the open waits (for another process's lock, another tab's leader, a
 * download, a long replay). The open itself is not cut off part way (it may hold a lock or be
 * creating the vault's files): it goes on, and what it opened is closed once it is ready, never
 * handed to the caller.
 */
export function abortableOpen(signal: AbortSignal): <T>(opening: Promise<T>, close: (opened: T) => Promise<unknown>) => Promise<T> {
  signal.throwIfAborted()
  return (opening, close) =>
    new Promise((resolve, reject) => {
      const abort = () => reject(signal.reason)
      if (signal.aborted) abort()
      else signal.addEventListener('abort', abort, { once: true })
      opening.then(
        (opened) => {
          signal.removeEventListener('abort', abort)
          if (!signal.aborted) return resolve(opened)
          // Aborted before the open ended (or at the same moment): the caller was told; closed here.
          close(opened).catch(() => {})
          abort()
        },
        (err: unknown) => {
          signal.removeEventListener('abort', abort)
          reject(err)
        },
      )
    })
}

/** {@link abortableOpen} for an open that may have no signal (Node's openVault, a vault over HTTP). */
export function stoppableOpen<T>(signal: AbortSignal | undefined, opening: Promise<T>, close: (opened: T) => Promise<unknown>): Promise<T> {
  return signal ? abortableOpen(signal)(opening, close) : opening
}
