import { describeValue } from '../../../codec/checks.js'
import { InvalidArgumentError } from '../../../errors/errors.js'

/**
 * A tables call's options, checked: undefined, or an object naming only options the call takes.
 * A misspelt option (`instanceID`, `versions`) would otherwise be ignored, and the call would act
 * on another instance or version than the one meant.
 */
export function known<T extends object>(options: T | undefined, names: readonly string[], call: string): T {
  if (options === undefined) return {} as T
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError(`${call}: options must be an object, got ${describeValue(options)}`)
  for (const k of Object.keys(options)) if (!names.includes(k)) throw new InvalidArgumentError(`${call}: unknown option "${k}" (known: ${names.join(', ')})`)
  return options
}
