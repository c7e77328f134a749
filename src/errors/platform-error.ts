import { ConflictError, QuotaExceededError, VaultError } from './errors.js'

// Its own module (not errors.ts): only the storage adapters and the engine use it, and the page loads
// errors.ts's chunk whole (docs/cold-start.md, "Main-thread bytes").

/** Turn a platform error (DOMException, Node errno) into the matching labvault error. */
export function fromPlatformError(err: unknown, context: string): Error {
  if (VaultError.isVaultError(err) || err instanceof RangeError) return err as Error
  const e = err as { name?: string; code?: string; message?: string }
  const quota = e?.name === 'QuotaExceededError' || e?.code === 'ENOSPC' || e?.code === 'EDQUOT'
  // IndexedDB's quota errors carry an empty message: say what happened instead of nothing.
  const message = e?.message || (quota ? 'the storage quota of this origin (or the disk) is exhausted' : e?.name ? `${e.name} (the platform gave no message)` : String(err))
  const detail = `${context}: ${message}`
  if (quota) return new QuotaExceededError(detail, { cause: err })
  if (e?.name === 'NoModificationAllowedError' || e?.code === 'EBUSY') {
    return new ConflictError(detail, { cause: err })
  }
  // Storage failures (a Node errno such as EIO, a DOMException such as NotReadableError) become a
  // VaultError with the original as `cause`; programming errors (TypeError…) pass through as they are.
  const isPlatform = (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) || (typeof DOMException !== 'undefined' && err instanceof DOMException)
  if (isPlatform || !(err instanceof Error)) return new VaultError(detail, { cause: err })
  return err
}
