/**
 * CRC-32 (IEEE 802.3, the zlib polynomial), slicing-by-4 for speed: every log record and image is
 * checked with it, so a torn or flipped byte is detected rather than replayed.
 */
const TABLES: Uint32Array[] = (() => {
  const t0 = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t0[n] = c >>> 0
  }
  const tables = [t0]
  for (let s = 1; s < 4; s++) {
    const prev = tables[s - 1]!
    const t = new Uint32Array(256)
    for (let n = 0; n < 256; n++) t[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!
    tables.push(t)
  }
  return tables
})()

/** CRC-32 of `data`, continuing from `seed` (the CRC of the bytes before it, 0 to start). */
export function crc32(data: Uint8Array, seed = 0): number {
  const [t0, t1, t2, t3] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array]
  let c = ~seed >>> 0
  let i = 0
  const n = data.length
  for (; i + 4 <= n; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    c = t3[c & 0xff]! ^ t2[(c >>> 8) & 0xff]! ^ t1[(c >>> 16) & 0xff]! ^ t0[c >>> 24]!
  }
  for (; i < n; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8)
  return ~c >>> 0
}
