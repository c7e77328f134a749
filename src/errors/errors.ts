/**
 * The typed errors of labvault. Every error a public call rejects with extends {@link VaultError} and
 * carries a stable string `code`, so callers can branch on `err.code` even when two copies of the
 * library are installed (the brand check uses `Symbol.for`, which is shared across copies).
 */

/** Stable error codes, one per error class. */
export const ErrorCode = {
  VaultError: 'VAULT_ERROR',
  NotFoundError: 'NOT_FOUND',
  AlreadyExistsError: 'ALREADY_EXISTS',
  InvalidArgumentError: 'INVALID_ARGUMENT',
  ConflictError: 'CONFLICT',
  LockTimeoutError: 'LOCK_TIMEOUT',
  ClosedError: 'CLOSED',
  QuotaExceededError: 'QUOTA_EXCEEDED',
  CorruptionError: 'CORRUPTION',
  UnsupportedError: 'UNSUPPORTED',
  StoppedError: 'STOPPED',
  NetworkError: 'NETWORK',
} as const

/** One of the values of {@link ErrorCode}. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode]

const BRAND = Symbol.for('labvault.VaultError')

/**
 * Give an error class its name as a string literal, on the prototype (instances inherit it). Never
 * derive it from `new.target.name` or `constructor.name`: a consumer's minifier renames classes, and
 * `err.name` must stay "NotFoundError" in a production build.
 */
function literalName(Class: { prototype: Error }, name: string): void {
  Object.defineProperty(Class.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false })
}

/** The base class of every labvault error. */
export class VaultError extends Error {
  static {
    literalName(this, 'VaultError')
  }
  /** A stable machine-readable code, e.g. `NOT_FOUND`. */
  readonly code: ErrorCodeValue = ErrorCode.VaultError
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    Object.defineProperty(this, BRAND, { value: true })
  }
  /** True for any labvault error, including one made by another copy of the library. */
  static isVaultError(value: unknown): value is VaultError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }
}

/** A vault, key, column, list or process that does not exist. */
export class NotFoundError extends VaultError {
  static {
    literalName(this, 'NotFoundError')
  }
  override readonly code = ErrorCode.NotFoundError
}
/** Something with that name already exists (or its name stays reserved). */
export class AlreadyExistsError extends VaultError {
  static {
    literalName(this, 'AlreadyExistsError')
  }
  override readonly code = ErrorCode.AlreadyExistsError
}
/** An argument is malformed: a bad name, a value of a type that cannot be stored, a wrong length. */
export class InvalidArgumentError extends VaultError {
  static {
    literalName(this, 'InvalidArgumentError')
  }
  override readonly code = ErrorCode.InvalidArgumentError
}
/** A lock or state conflict, e.g. a second pending signal for one process. */
export class ConflictError extends VaultError {
  static {
    literalName(this, 'ConflictError')
  }
  override readonly code = ErrorCode.ConflictError
}
/** A lock could not be taken within the configured time. */
export class LockTimeoutError extends VaultError {
  static {
    literalName(this, 'LockTimeoutError')
  }
  override readonly code = ErrorCode.LockTimeoutError
}
/** The vault was closed; every call after `close()` rejects with this. */
export class ClosedError extends VaultError {
  static {
    literalName(this, 'ClosedError')
  }
  override readonly code = ErrorCode.ClosedError
}
/** The storage quota of the origin or disk is exhausted. Nothing was written. */
export class QuotaExceededError extends VaultError {
  static {
    literalName(this, 'QuotaExceededError')
  }
  override readonly code = ErrorCode.QuotaExceededError
}
/** Stored bytes fail their checksum or structure check. */
export class CorruptionError extends VaultError {
  static {
    literalName(this, 'CorruptionError')
  }
  override readonly code = ErrorCode.CorruptionError
}
/** A feature this environment lacks, or a vault written by a newer format version. */
export class UnsupportedError extends VaultError {
  static {
    literalName(this, 'UnsupportedError')
  }
  override readonly code = ErrorCode.UnsupportedError
}
/** A process was stopped by a signal; raised at its next checkpoint. */
export class StoppedError extends VaultError {
  static {
    literalName(this, 'StoppedError')
  }
  override readonly code = ErrorCode.StoppedError
}
/**
 * A request to a vault served over HTTP (`storage: 'http'`) failed: an HTTP status other than
 * success or 404 (which is NotFoundError), a network error, or no answer within the timeout. The
 * message names the URL and the status or cause.
 */
export class NetworkError extends VaultError {
  static {
    literalName(this, 'NetworkError')
  }
  override readonly code = ErrorCode.NetworkError
}

/** Every error class by its (literal) name: used to rebuild errors that crossed a worker boundary. */
export const errorClasses = {
  VaultError,
  NotFoundError,
  AlreadyExistsError,
  InvalidArgumentError,
  ConflictError,
  LockTimeoutError,
  ClosedError,
  QuotaExceededError,
  CorruptionError,
  UnsupportedError,
  StoppedError,
  NetworkError,
} as const

/** Every error class by its code (the code survives any bundler; names and classes may not). */
export const errorClassesByCode: Record<string, typeof VaultError> = Object.fromEntries(
  Object.values(errorClasses).map((Class) => [new Class('').code, Class]),
)

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
