import { InvalidArgumentError } from '../errors/errors.js'

/** Vault names become folder names: no separators, no `..`, no control characters, ≤ 128 chars. */
export function validateVaultName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new InvalidArgumentError('a vault name must be a string')
  if (name.length === 0 || name.length > 128) throw new InvalidArgumentError(`a vault name must have 1 to 128 characters, got ${name.length}`)
  if (name === '.' || name === '..' || name.includes('..')) throw new InvalidArgumentError(`invalid vault name ${JSON.stringify(name)}: ".." is not allowed`)
  if (/[/\\:*?"<>|]/.test(name)) throw new InvalidArgumentError(`invalid vault name ${JSON.stringify(name)}: path separators and reserved characters are not allowed`)
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new InvalidArgumentError(`invalid vault name ${JSON.stringify(name)}: control characters are not allowed`)
  if (name.startsWith('.') || name.endsWith('.') || name.endsWith(' ')) throw new InvalidArgumentError(`invalid vault name ${JSON.stringify(name)}: it may not start with "." or end with "." or a space`)
}

