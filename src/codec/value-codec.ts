import { Packr, addExtension } from 'msgpackr'
import { MapBox, NegativeZero, ObjectBox, Utf16Box } from './value-prepare.js'
import { utf16Bytes, utf16Units } from './utf16.js'

/**
 * How user values become bytes (docs/format.md, "Values"). msgpackr is configured deliberately:
 * - `moreTypes`: typed arrays and Set keep their class (Float32Array in, Float32Array out);
 * - `useBigIntExtension`: bigints of any size round-trip (msgpackr refuses > 64 bits otherwise);
 * - `mapsAsObjects`: plain objects decode as objects; a Map is written through our own extension
 *   (type 0x4c) so it comes back as a Map, with keys of any type;
 * - `useRecords: false`: no shared structure table, so every record decodes on its own.
 * Dates use msgpack's timestamp extension. Three more extensions keep what msgpack alone would
 * change: a string with a lone surrogate (UTF-8 cannot hold it: 0x55, its UTF-16 code units), an
 * object with an own `__proto__` key or a key with a lone surrogate (msgpackr renames
 * `__proto__`: 0x4f, its [key, value] pairs), and -0 (written as the integer 0 otherwise: 0x5a).
 */
const MAP_EXTENSION_TYPE = 0x4c
const UTF16_STRING_EXTENSION_TYPE = 0x55
const OBJECT_EXTENSION_TYPE = 0x4f
const NEGATIVE_ZERO_EXTENSION_TYPE = 0x5a

addExtension({
  Class: MapBox,
  type: MAP_EXTENSION_TYPE,
  write: (box: MapBox) => box.pairs,
  read: (pairs: [unknown, unknown][]) => new Map(pairs),
})

addExtension({
  Class: Utf16Box,
  type: UTF16_STRING_EXTENSION_TYPE,
  pack: (box: Utf16Box) => utf16Bytes(box.text) as Buffer,
  unpack: (bytes: Uint8Array) => utf16Units(bytes),
})

addExtension({
  Class: ObjectBox,
  type: OBJECT_EXTENSION_TYPE,
  write: (box: ObjectBox) => box.pairs,
  read: (pairs: unknown[]) => {
    const out: Record<string, unknown> = {}
    // defineProperty: an own `__proto__` key stays a key, it never becomes the prototype.
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      Object.defineProperty(out, pairs[i] as string, { value: pairs[i + 1], enumerable: true, writable: true, configurable: true })
    }
    return out
  },
})

addExtension({
  Class: NegativeZero,
  type: NEGATIVE_ZERO_EXTENSION_TYPE,
  pack: () => new Uint8Array(0) as Buffer,
  unpack: () => -0,
})

const options = {
  useRecords: false,
  moreTypes: true,
  mapsAsObjects: true,
  useBigIntExtension: true,
  int64AsType: 'bigint',
} as const
const packr = new Packr(options)
/**
 * For a value holding a plain object of more than 65,535 keys: msgpackr's default writes every
 * object with a 16-bit map header and throws a plain Error for a larger one (such a value could not
 * be stored at all). This one sizes each header (a 32-bit one where needed; reads need no option).
 * Used only then, so every other value keeps exactly the bytes it had.
 */
const widePackr = new Packr({ ...options, variableMapSize: true })

export { prepareValue } from './value-prepare.js'

/** Encode a value that {@link prepareValue} accepted. */
export function encodeValue(prepared: unknown): Uint8Array {
  try {
    return packr.pack(prepared)
  } catch (err) {
    if (err instanceof Error && /16-bit map size/.test(err.message)) return widePackr.pack(prepared)
    throw err
  }
}

/** Decode bytes written by {@link encodeValue}. */
export function decodeValue(bytes: Uint8Array): unknown {
  return packr.unpack(bytes)
}
