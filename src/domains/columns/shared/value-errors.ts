import { InvalidArgumentError } from '../../../errors/errors.js'

/** How a refused value is named in an error message: `an array`, `a Float32Array`, `null`, `a string`. */
export function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`
}

/** Refuse a value: InvalidArgumentError saying where (`values[3]`, `the value`) and why. */
export function bad(where: string, msg: string): never {
  throw new InvalidArgumentError(`${where}: ${msg}`)
}
