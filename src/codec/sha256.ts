/**
 * SHA-256 fed a piece at a time, for files too large to hold whole (an export's blobs over 16 MiB,
 * src/persistence/archive-writer.ts): WebCrypto's `digest` takes all the bytes at once, so a file
 * it checks must be in memory whole.
 *
 * On Node, node:crypto's native hash does the work (found with `process.getBuiltinModule`, so this
 * module, bundled for the browser worker too, imports nothing of Node). Elsewhere {@link Sha256},
 * written here after FIPS 180-4 section 6.2: no dependency for ~100 lines (what a browser downloads
 * with the export's chunk, and what the lockfile trusts), and nothing secret goes through it (it
 * checks the integrity of public bytes, so constant-time code, an audited library's chief worth, is
 * not needed). test/node/sha256.test.ts holds FIPS 180-4's and NIST's vectors and compares it with
 * node:crypto on random inputs cut at random places.
 */

/** An incremental SHA-256: {@link update} any number of times, then {@link hex} once. */
export interface Sha256Hash {
  update(bytes: Uint8Array): void
  /** Lowercase hex of the digest; the hash is finished after it. */
  hex(): string
}

/** A SHA-256 for this platform: node:crypto's on Node, {@link Sha256} in a browser or worker. */
export function createSha256(): Sha256Hash {
  type NodeCrypto = typeof import('node:crypto')
  const process = (globalThis as { process?: { getBuiltinModule?(name: string): NodeCrypto | undefined } }).process
  const nodeCrypto = process?.getBuiltinModule?.('node:crypto')
  if (!nodeCrypto) return new Sha256()
  const hash = nodeCrypto.createHash('sha256')
  return { update: (bytes) => void hash.update(bytes), hex: () => hash.digest('hex') }
}

/** Round constants: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])

/** The initial hash value: the first 32 bits of the fractional parts of the square roots of the first 8 primes. */
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]

/** SHA-256 in plain JavaScript (32-bit words as `| 0` integers), a 64-byte block at a time. */
export class Sha256 implements Sha256Hash {
  private readonly state = Int32Array.from(IV)
  private readonly schedule = new Int32Array(64)
  /** A block's bytes not yet complete (fewer than 64). */
  private readonly pending = new Uint8Array(64)
  private pendingBytes = 0
  /** Bytes hashed so far (a double: exact up to 2^53, far beyond any file). */
  private length = 0
  private finished = false

  update(bytes: Uint8Array): void {
    if (this.finished) throw new Error('Sha256: update after hex()')
    this.length += bytes.length
    let at = 0
    if (this.pendingBytes > 0) {
      at = Math.min(64 - this.pendingBytes, bytes.length)
      this.pending.set(bytes.subarray(0, at), this.pendingBytes)
      this.pendingBytes += at
      if (this.pendingBytes < 64) return
      this.block(this.pending, 0)
      this.pendingBytes = 0
    }
    for (; at + 64 <= bytes.length; at += 64) this.block(bytes, at)
    this.pending.set(bytes.subarray(at), 0)
    this.pendingBytes = bytes.length - at
  }

  hex(): string {
    if (this.finished) throw new Error('Sha256: hex() twice')
    this.finished = true
    // Padding (FIPS 180-4 5.1.1): a 1 bit, zeros, then the length in bits as a 64-bit big-endian number.
    const p = this.pending
    p[this.pendingBytes] = 0x80
    p.fill(0, this.pendingBytes + 1)
    if (this.pendingBytes >= 56) {
      this.block(p, 0)
      p.fill(0)
    }
    const bits = this.length * 8
    const view = new DataView(p.buffer, p.byteOffset, 64)
    view.setUint32(56, Math.floor(bits / 2 ** 32))
    view.setUint32(60, bits >>> 0)
    this.block(p, 0)
    let out = ''
    for (const word of this.state) out += (word >>> 0).toString(16).padStart(8, '0')
    return out
  }

  /** One 64-byte block of `bytes` from `at` (FIPS 180-4 6.2.2). */
  private block(bytes: Uint8Array, at: number): void {
    const w = this.schedule
    for (let i = 0; i < 16; i++, at += 4) w[i] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15]!
      const y = w[i - 2]!
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0
    }
    const s = this.state
    let a = s[0]!
    let b = s[1]!
    let c = s[2]!
    let d = s[3]!
    let e = s[4]!
    let f = s[5]!
    let g = s[6]!
    let h = s[7]!
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
      h = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    s[0] = (s[0]! + a) | 0
    s[1] = (s[1]! + b) | 0
    s[2] = (s[2]! + c) | 0
    s[3] = (s[3]! + d) | 0
    s[4] = (s[4]! + e) | 0
    s[5] = (s[5]! + f) | 0
    s[6] = (s[6]! + g) | 0
    s[7] = (s[7]! + h) | 0
  }
}
