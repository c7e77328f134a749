import { Utf8, makeData, makeVector, type Vector } from 'apache-arrow'

const encoder = new TextEncoder()

/** Bytes of a string in UTF-8 as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(str: string): number {
  let len = 0
  for (let j = 0; j < str.length; j++) {
    const c = str.charCodeAt(j)
    if (c < 0x80) len += 1
    else if (c < 0x800) len += 2
    else if (c >= 0xd800 && c < 0xdc00 && j + 1 < str.length && (str.charCodeAt(j + 1) & 0xfc00) === 0xdc00) {
      len += 4
      j++
    } else len += 3
  }
  return len
}

/**
 * Strings (null or undefined: a null) as an Arrow Utf8 vector, written directly: arrow-js's builder
 * encodes each string with its own TextEncoder call and grows its buffers as it goes (a third of
 * the time of loading a 100k-row record list into SQL, measured; half of a 100k-row
 * queryPredictions). Lengths first, then ASCII copied by a loop and the rest encoded in place.
 * Used by vault.sql's relations (src/domains/sql/engine/arrow-rows.ts) and the experiment store's
 * results (src/domains/store/engine/arrow-ipc.ts).
 */
export function utf8Vector(values: ArrayLike<string | null | undefined>): Vector {
  const n = values.length
  const offsets = new Int32Array(n + 1)
  const validity = new Uint8Array((n + 7) >> 3)
  let nulls = 0
  let total = 0
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (v === null || v === undefined) {
      nulls++
    } else {
      validity[i >> 3]! |= 1 << (i & 7)
      total += utf8Length(v as string)
    }
    offsets[i + 1] = total
  }
  const data = new Uint8Array(total)
  for (let i = 0; i < n; i++) {
    const v = values[i]
    if (v === null || v === undefined) continue
    const str = v as string
    let at = offsets[i]!
    const end = offsets[i + 1]!
    if (end - at === str.length) {
      for (let j = 0; j < str.length; j++) data[at++] = str.charCodeAt(j)
    } else {
      encoder.encodeInto(str, data.subarray(at, end))
    }
  }
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: nulls, valueOffsets: offsets, data, nullBitmap: nulls > 0 ? validity : undefined }))
}

