/**
 * Strings as UTF-16LE code units, exactly: unlike UTF-8 (and TextDecoder), this keeps lone
 * surrogates, so it is how labvault stores text that UTF-8 cannot hold.
 */

/** The UTF-16LE code units of `s`, 2 bytes each. */
export function utf16Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2)
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    out[2 * i] = c & 0xff
    out[2 * i + 1] = c >> 8
  }
  return out
}

/** The string of UTF-16LE code units `bytes` (an odd last byte is ignored). */
export function utf16Units(bytes: Uint8Array): string {
  let s = ''
  const n = bytes.length >> 1
  // fromCharCode over chunks: one call per unit would dominate long strings; one call for all
  // would overflow the argument limit.
  for (let i = 0; i < n; i += 4096) {
    const end = Math.min(n, i + 4096)
    const units = new Array<number>(end - i)
    for (let j = i; j < end; j++) units[j - i] = bytes[2 * j]! | (bytes[2 * j + 1]! << 8)
    s += String.fromCharCode.apply(null, units)
  }
  return s
}
