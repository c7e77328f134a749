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
/** Where each class keeps its code, on its prototype (set below): the constructor copies it onto the error. */
const CODE = Symbol()

/** The base class of every labvault error. */
export class VaultError extends Error {
  /** A stable machine-readable code, e.g. `NOT_FOUND`. */
  declare readonly code: ErrorCodeValue
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    // An own enumerable property, as a class field would make it (it travels with the error).
    ;(this as { code: string }).code = (this as unknown as Record<symbol, string>)[CODE]!
    Object.defineProperty(this, BRAND, { value: true })
  }
  /** True for any labvault error, including one made by another copy of the library. */
  static isVaultError(value: unknown): value is VaultError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }
}

/** A vault, key, column, list or process that does not exist. */
export class NotFoundError extends VaultError {
  declare readonly code: typeof ErrorCode.NotFoundError
}
/** Something with that name already exists (or its name stays reserved). */
export class AlreadyExistsError extends VaultError {
  declare readonly code: typeof ErrorCode.AlreadyExistsError
}
/** An argument is malformed: a bad name, a value of a type that cannot be stored, a wrong length. */
export class InvalidArgumentError extends VaultError {
  declare readonly code: typeof ErrorCode.InvalidArgumentError
}
/** A lock or state conflict, e.g. a second pending signal for one process. */
export class ConflictError extends VaultError {
  declare readonly code: typeof ErrorCode.ConflictError
}
/** A lock could not be taken within the configured time. */
export class LockTimeoutError extends VaultError {
  declare readonly code: typeof ErrorCode.LockTimeoutError
}
/** The vault was closed; every call after `close()` rejects with this. */
export class ClosedError extends VaultError {
  declare readonly code: typeof ErrorCode.ClosedError
}
/** The storage quota of the origin or disk is exhausted. Nothing was written. */
export class QuotaExceededError extends VaultError {
  declare readonly code: typeof ErrorCode.QuotaExceededError
}
/** Stored bytes fail their checksum or structure check. */
export class CorruptionError extends VaultError {
  declare readonly code: typeof ErrorCode.CorruptionError
}
/** A feature this environment lacks, or a vault written by a newer format version. */
export class UnsupportedError extends VaultError {
  declare readonly code: typeof ErrorCode.UnsupportedError
}
/** A process was stopped by a signal; raised at its next checkpoint. */
export class StoppedError extends VaultError {
  declare readonly code: typeof ErrorCode.StoppedError
}
/**
 * A request to a vault served over HTTP (`storage: 'http'`) failed: an HTTP status other than
 * success or 404 (which is NotFoundError), a network error, or no answer within the timeout. The
 * message names the URL and the status or cause.
 */
export class NetworkError extends VaultError {
  declare readonly code: typeof ErrorCode.NetworkError
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
export const errorClassesByCode: Record<string, typeof VaultError> = {}

// Each class gets its name as a string literal on the prototype (instances inherit it), and its code.
// Never derive the name from `new.target.name` or `constructor.name`: a consumer's minifier renames
// classes, and `err.name` must stay "NotFoundError" in a production build. One loop over the table
// rather than a static block per class: the page loads these classes (docs/cold-start.md).
for (const [name, Class] of Object.entries(errorClasses)) {
  const code = ErrorCode[name as keyof typeof ErrorCode]
  Object.defineProperty(Class.prototype, 'name', { value: name, writable: true, configurable: true })
  Object.defineProperty(Class.prototype, CODE, { value: code })
  errorClassesByCode[code] = Class
}
