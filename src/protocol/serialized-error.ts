import { VaultError, errorClasses, errorClassesByCode } from '../errors/errors.js'

/** The plain form of an error that crosses a worker or tab boundary. */
export interface SerializedError {
  name: string
  message: string
  code?: string
  stack?: string
}

/** Turn any thrown value into a plain object that structured clone keeps whole. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    return { name: err.name, message: err.message, code: (err as { code?: string }).code, stack: err.stack }
  }
  return { name: 'Error', message: String(err) }
}

/**
 * Rebuild the typed error: `instanceof NotFoundError` and `.code` work again on this side. The class
 * is found by `code` first (stable whatever a bundler did to class names), then by name.
 */
export function deserializeError(s: SerializedError): Error {
  const byCode = typeof s.code === 'string' && Object.hasOwn(errorClassesByCode, s.code) ? errorClassesByCode[s.code] : undefined
  const byName = Object.hasOwn(errorClasses, s.name) ? (errorClasses as Record<string, typeof VaultError>)[s.name] : undefined
  const Class = byCode ?? byName
  let err: Error
  if (Class) err = new Class(s.message)
  else if (s.name === 'RangeError') err = new RangeError(s.message)
  else if (s.name === 'TypeError') err = new TypeError(s.message)
  else {
    err = new Error(s.message)
    err.name = s.name
    if (s.code !== undefined) (err as { code?: string }).code = s.code
  }
  // Keep the worker-side stack below our own: it says where the error really happened.
  if (s.stack) err.stack = `${err.stack ?? ''}\n    --- in the vault engine ---\n${s.stack}`
  return err
}
