// The incremental SHA-256 of src/codec/sha256.ts (an export checks blobs over 16 MiB with it as they
// stream): the examples of FIPS 180-4 (NIST's "SHA-256" example file: one block, two blocks, a
// million "a") and of NIST's SHA-256 short/long messages, then node:crypto as the reference for every
// length around the padding's edges and for random inputs cut into random pieces (seeded).
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { Sha256, createSha256 } from '../../src/codec/sha256.js'
import { mulberry32 } from '../support/prng.js'

const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
const utf8 = (s: string) => new TextEncoder().encode(s)
const ours = (...pieces: Uint8Array[]) => {
  const h = new Sha256()
  for (const p of pieces) h.update(p)
  return h.hex()
}
const reference = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

test('FIPS 180-4 / NIST example vectors', () => {
  const vectors: [string, Uint8Array][] = [
    ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', new Uint8Array(0)],
    ['ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', utf8('abc')],
    ['248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1', utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')],
    ['cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1', utf8('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu')],
    ['cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0', new Uint8Array(1_000_000).fill(0x61)],
    // NIST SHAVS (SHA256ShortMsg.rsp): Len = 8, Msg = d3; Len = 16, Msg = 11af.
    ['28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1', Uint8Array.of(0xd3)],
    ['5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98', Uint8Array.of(0x11, 0xaf)],
  ]
  for (const [digest, bytes] of vectors) {
    assert.equal(ours(bytes), digest, `${bytes.length} bytes, whole`)
    // The same bytes one at a time and in odd pieces: the pending block must carry over.
    if (bytes.length < 2000) assert.equal(ours(...Array.from(bytes, (b) => Uint8Array.of(b))), digest, `${bytes.length} bytes, byte by byte`)
    const pieces: Uint8Array[] = []
    for (let at = 0; at < bytes.length; at += 37) pieces.push(bytes.subarray(at, at + 37))
    assert.equal(ours(...pieces), digest, `${bytes.length} bytes, in pieces of 37`)
  }
})

test('every length from 0 to 300 bytes (the padding takes one block or two) matches node:crypto', () => {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 167 + 13) & 0xff)
  for (let n = 0; n <= 300; n++) assert.equal(ours(bytes.subarray(0, n)), reference(bytes.subarray(0, n)), `${n} bytes`)
})

test(`random inputs cut at random places match node:crypto (seed ${SEED})`, () => {
  const random = mulberry32(SEED)
  for (let round = 0; round < 60; round++) {
    const bytes = Uint8Array.from({ length: Math.floor(random() * 5000) }, () => Math.floor(random() * 256))
    const pieces: Uint8Array[] = []
    for (let at = 0; at < bytes.length; ) {
      const n = Math.floor(random() * 200)
      pieces.push(bytes.subarray(at, at + n))
      at += n
    }
    assert.equal(ours(...pieces), reference(bytes), `round ${round}, ${bytes.length} bytes in ${pieces.length} pieces (seed ${SEED})`)
  }
})

test('createSha256 on Node is node:crypto behind the same interface; a finished hash refuses more', () => {
  const h = createSha256()
  assert.ok(!(h instanceof Sha256), 'Node has process.getBuiltinModule: the native hash')
  h.update(utf8('ab'))
  h.update(utf8('c'))
  assert.equal(h.hex(), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  const js = new Sha256()
  js.hex()
  assert.throws(() => js.update(utf8('x')))
  assert.throws(() => js.hex())
})

test('ArchiveWriter checks a file over 16 MiB as it streams, with node:crypto and with the JavaScript SHA-256 (the browser worker\'s)', { timeout: 120_000 }, async () => {
  const { ArchiveWriter, MEMORY_ENTRY_BYTES } = await import('../../src/persistence/archive-writer.js')
  const { CorruptionError } = await import('../../src/errors/errors.js')
  const file = Uint8Array.from({ length: MEMORY_ENTRY_BYTES + 4097 }, (_, i) => (i * 2654435761) >>> 24)
  const sha256 = reference(file)
  const damaged = file.slice()
  damaged[damaged.length - 1]! ^= 0x80
  const source = (bytes: Uint8Array) => ({
    header: { format: 'labvault-archive' as const, version: 1, exportedAt: new Date(0).toISOString(), vault: { name: 'x', author: '', description: '', createdAt: '', formatVersion: 1, generation: 1 }, files: [{ path: `blobs/${sha256.slice(0, 2)}/${sha256}`, size: bytes.length, sha256 }] },
    read: async (_: number, offset: number, length: number) => bytes.slice(offset, offset + length),
  })
  const drain = async (bytes: Uint8Array) => {
    const w = new ArchiveWriter(source(bytes), 1)
    let n = 0
    for (let piece = await w.next(); piece; piece = await w.next()) n += piece.length
    return n
  }
  const p = process as { getBuiltinModule?: unknown }
  const builtin = p.getBuiltinModule
  for (const where of ['node:crypto', 'JavaScript'] as const) {
    if (where === 'JavaScript') p.getBuiltinModule = undefined
    try {
      if (where === 'JavaScript') assert.ok(createSha256() instanceof Sha256)
      assert.ok((await drain(file)) > 0, `${where}: the intact file exports`)
      await assert.rejects(drain(damaged), (e) => e instanceof CorruptionError && /damaged/.test((e as Error).message), `${where}: the damaged one is refused`)
    } finally {
      p.getBuiltinModule = builtin
    }
  }
})
