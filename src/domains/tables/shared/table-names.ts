import { InvalidArgumentError } from '../../../errors/errors.js'
import { checkName } from '../../../codec/checks.js'

/**
 * TableVault's naming rules, shared by both halves: the client checks before sending, the engine
 * again (a port may be anything).
 */

/** Names TableVault reserves for its own folders and keywords: no table may take them. */
export const RESERVED_TABLE_NAMES: ReadonlySet<string> = new Set([
  'EXECUTION_ARCHIVE', 'builders', 'ARCHIVED_TRASH', 'code_functions', 'metadata', 'locks', '_temp', 'restart', 'artifacts', 'description.yaml', '.tablevault', '~PROCESS_ID~', '~ARTIFACT_FOLDER~', 'self', 'index',
])

/** Longest table, builder, code module or artifact name, in characters. */
export const MAX_TABLE_NAME_CHARS = 128

const SAFE_NAME = /^[^\s/\\<>(){}[\]:,.~][^/\\<>(){}[\]:,~]*$/u

/** A table name: not reserved, not starting with `.`, no path separators or reference syntax. */
export function checkTableName(name: unknown, what = 'a table name'): asserts name is string {
  checkName(name, what, MAX_TABLE_NAME_CHARS)
  if (name.startsWith('.')) throw new InvalidArgumentError(`${what} may not start with ".": "${name}"`)
  if (RESERVED_TABLE_NAMES.has(name)) throw new InvalidArgumentError(`${what} may not be "${name}": TableVault reserves it`)
  if (!SAFE_NAME.test(name)) throw new InvalidArgumentError(`${what} may not start with whitespace (U+FEFF counts) or contain path separators or the characters <>(){}[]:,~ ("${name}")`)
}

/** A code module or builder name: like a table name (it names a stored object), reserved names allowed. */
export function checkObjectName(name: unknown, what: string): asserts name is string {
  checkName(name, what, MAX_TABLE_NAME_CHARS)
  if (name.startsWith('.')) throw new InvalidArgumentError(`${what} may not start with ".": "${name}"`)
  if (!SAFE_NAME.test(name)) throw new InvalidArgumentError(`${what} may not start with whitespace (U+FEFF counts) or contain path separators or the characters <>(){}[]:,~ ("${name}")`)
}

/** The default version of an instance. */
export const DEFAULT_VERSION = 'base'

/** A version: a non-empty name without `_` (instance ids are `<version>_<seconds>_<uuid>`). */
export function checkVersion(version: unknown): asserts version is string {
  checkName(version, 'a version', 64)
  if (version.includes('_')) throw new InvalidArgumentError(`a version cannot contain the "_" character: "${version}"`)
  if (!/^[A-Za-z0-9.-]+$/.test(version)) throw new InvalidArgumentError(`a version may contain only letters, digits, "." and "-": "${version}"`)
}

/** The id of the temporary instance of `version`. */
export function tempInstanceId(version: string): string {
  return `TEMP_${version}`
}

/** True for a temporary instance's id. */
export function isTempId(id: string): boolean {
  return id.startsWith('TEMP_')
}

/** The version an instance id belongs to (`TEMP_<v>` or `<v>_<seconds>_<uuid>`). */
export function versionOfId(id: string): string {
  return isTempId(id) ? id.slice(5) : id.slice(0, id.indexOf('_'))
}

/** A materialised instance id. */
export function materializedId(version: string, seconds: number, uuid: string): string {
  return `${version}_${seconds}_${uuid}`
}

/** An instance id as the caller gave it: a string of the right shape. */
export function checkInstanceId(id: unknown, what = 'an instance id'): asserts id is string {
  checkName(id, what, 200)
  if (!/^(TEMP_[A-Za-z0-9.-]+|[A-Za-z0-9.-]+_\d+_[0-9a-fA-F-]+)$/.test(id)) throw new InvalidArgumentError(`${what} must be "TEMP_<version>" or "<version>_<seconds>_<uuid>": "${id}"`)
}

/** The index builder's name for a table. */
export function indexBuilderName(table: string): string {
  return `${table}_index`
}
