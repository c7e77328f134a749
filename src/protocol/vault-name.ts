import { InvalidArgumentError } from '../errors/errors.js'

/** Longest vault name in UTF-8 bytes: a folder name (file systems allow 255 bytes per name). */
export const MAX_VAULT_NAME_BYTES = 255

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Vault names become folder names: no separators, no `..`, no control characters, ≤ 128
 * characters and ≤ 255 UTF-8 bytes, and well-formed Unicode (a lone surrogate would be stored as
 * U+FFFD, so two names differing only there would share one folder).
 */
export function validateVaultName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new InvalidArgumentError('a vault name must be a string')
  if (name.length === 0 || name.length > 128) throw new InvalidArgumentError(`a vault name must have 1 to 128 characters, got ${name.length}`)
  if (loneSurrogate.test(name)) throw new InvalidArgumentError(`invalid vault name ${JSON.stringify(name)}: it holds a lone UTF-16 surrogate (not well-formed Unicode)`)
  const bytes = new TextEncoder().encode(name).length
  if (bytes > MAX_VAULT_NAME_BYTES) throw new InvalidArgumentError(`a vault name may have at most ${MAX_VAULT_NAME_BYTES} bytes in UTF-8, got ${bytes}`)
  if (name === '.' || name === '..' || name.includes('..')) throw new InvalidArgumentError(`invalid vault name ${JSON.stringify(name)}: ".." is not allowed`)
  if (/[/\\:*?"<>|]/.test(name)) throw new InvalidArgumentError(`invalid vault name ${JSON.stringify(name)}: path separators and reserved characters are not allowed`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new InvalidArgumentError(`invalid vault name ${JSON.stringify(name)}: control characters are not allowed`)
  if (name.startsWith('.') || name.endsWith('.') || name.endsWith(' ')) throw new InvalidArgumentError(`invalid vault name ${JSON.stringify(name)}: it may not start with "." or end with "." or a space`)
}
