// The database a new vault starts with is made ahead by the build (src/persistence/creation-image.ts,
// scripts/creation-template.ts). Checked here:
// - the kept template is byte for byte what the standard creation record's statements build, and
//   is made for exactly that record (so the two cannot drift: rebuild with `npm run build`);
// - a creation with the standard domains gets that database; one with other statements builds its
//   own from them (no template applies), and a record that differs by one byte gets no template;
// - packing an image (runs of zeros left out) gives back the same bytes, for hostile inputs;
// - a never checkpointed vault reopens from the template plus the records after its creation
//   record, to the database its whole log replays to; a creation record of other statements is
//   replayed as before.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { standardDomains } from '../../src/domains/registry.js'
import { creationStatements } from '../../src/engine/vault-engine.js'
import { CREATION_TEMPLATE } from '../../src/persistence/creation-template.js'
import { creationImageAndRest, creationImageFor, makeCreationTemplate, packImage, unpackImage } from '../../src/persistence/creation-image.js'
import { encodeStatements } from '../../src/persistence/record-codec.js'
import { buildCreationDatabase, createVault } from '../../src/persistence/vault-creation.js'
import { MemoryAdapter } from '../../src/storage/memory-adapter.js'
import { SqliteDatabase, type StatementGroup } from '../../src/sqlite/sqlite-database.js'
import { openVault } from '../../src/node.js'
import { VaultFiles } from '../../src/persistence/vault-files.js'
import { readManifest } from '../../src/persistence/manifest.js'
import { scanRecords } from '../../src/persistence/log-format.js'
import { decodeStatements } from '../../src/persistence/record-codec.js'
import { LOG_HEADER_BYTES, logFile } from '../../src/persistence/format.js'

const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)
const identity = { name: 'v', author: 'ana', description: '' }
const standard = creationStatements(standardDomains)

test('the kept template is exactly what the standard creation statements build (else run `npm run build`)', async () => {
  const db = await buildCreationDatabase(standard)
  const built = db.exportImage()
  db.close()
  const payload = encodeStatements(standard)
  assert.equal(CREATION_TEMPLATE.recordLength, payload.length, 'the template was made for another creation record: run `npm run build`')
  assert.deepEqual(makeCreationTemplate(payload, built), CREATION_TEMPLATE, 'the template differs from what the statements build: run `npm run build`')
  const image = creationImageFor(payload)
  assert.ok(image, 'the standard record gets the template')
  assert.ok(Buffer.from(image).equals(Buffer.from(built)))
})

test('a creation with the standard domains gets the database its statements build', async () => {
  const created = await createVault(new MemoryAdapter(), 'v', { identity, schema: () => standard })
  const replayed = await buildCreationDatabase(standard)
  try {
    assert.ok(Buffer.from(created.db.exportImage()).equals(Buffer.from(replayed.exportImage())))
    // The database works as one built by the statements: a write, then a read.
    created.db.run('INSERT INTO schema_versions (domain, version) VALUES (?, ?)', ['extra', 7])
    assert.deepEqual(created.db.get('SELECT version FROM schema_versions WHERE domain = ?', ['extra']), [7])
    assert.equal(created.db.get('PRAGMA page_size')![0], 16384)
  } finally {
    created.db.close()
    replayed.close()
  }
})

test('other statements build their own database; a record one byte off gets no template', async () => {
  const other: StatementGroup[] = [
    ['CREATE TABLE IF NOT EXISTS schema_versions (domain TEXT PRIMARY KEY, version INTEGER NOT NULL)', []],
    ['CREATE TABLE mine (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID', []],
    ['INSERT OR REPLACE INTO schema_versions (domain, version) VALUES (?, ?)', [['mine', 1]]],
  ]
  const created = await createVault(new MemoryAdapter(), 'v', { identity, schema: () => other })
  try {
    assert.deepEqual(created.db.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"), [['mine'], ['schema_versions']])
  } finally {
    created.db.close()
  }
  const payload = encodeStatements(standard)
  for (const at of [0, payload.length >> 1, payload.length - 1]) {
    const changed = payload.slice()
    changed[at] ^= 1
    assert.equal(creationImageFor(changed), undefined, `byte ${at} changed`)
  }
  assert.equal(creationImageFor(payload.subarray(1)), undefined)
})

test(`packing an image gives back its bytes (seed ${SEED})`, () => {
  // Hostile corners: all zeros, no zeros, zero runs just under and over the threshold (7, 8),
  // zeros at the very start and end, long runs (varints over several bytes).
  const chunk = fc.oneof(
    fc.uint8Array({ minLength: 0, maxLength: 40 }),
    fc.integer({ min: 1, max: 10 }).map((n) => new Uint8Array(n)),
    fc.constantFrom(new Uint8Array(7), new Uint8Array(8), new Uint8Array(9), new Uint8Array(70_000), Uint8Array.of(255), Uint8Array.of(0x80)),
  )
  const image = fc.array(chunk, { maxLength: 30 }).map((parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
    let at = 0
    for (const p of parts) out.set(p, (at += p.length) - p.length)
    return out
  })
  fc.assert(
    fc.property(image, (bytes) => {
      const back = unpackImage(packImage(bytes), bytes.length)
      assert.ok(Buffer.from(back).equals(Buffer.from(bytes)))
    }),
    { seed: SEED, numRuns: 300 },
  )
})

/** Every table's rows and the schema, as plain values (two databases with equal dumps hold the same data). */
function dump(db: SqliteDatabase): Record<string, unknown> {
  const out: Record<string, unknown> = { schema: db.all("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name") }
  for (const [name] of db.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
    out[String(name)] = db.all(`SELECT * FROM "${String(name)}"`).map((row) => JSON.stringify(row, (_, v) => (v instanceof Uint8Array ? [...v] : v))).sort()
  }
  return out
}

/** A vault's database as its whole log replays onto an empty one (what a reopen built before the template was used). */
async function replayedLog(storage: MemoryAdapter, name: string): Promise<{ db: SqliteDatabase; records: { payload: Uint8Array }[] }> {
  const log = (await storage.read(`${name}/${logFile(0)}`))!
  const { records } = scanRecords(log.subarray(LOG_HEADER_BYTES), LOG_HEADER_BYTES, 0)
  const db = await SqliteDatabase.open(undefined)
  db.control('BEGIN')
  for (const r of records) db.replay(decodeStatements(r.payload))
  db.control('COMMIT')
  return { db, records }
}

test('a never checkpointed vault reopens from the template and the records after its creation record: the database its log replays to', async () => {
  const storage = new MemoryAdapter()
  const v = await openVault('r', { storage })
  await v.kv().set('a', 1)
  await v.kv().set('b', { text: 'two', bytes: new Uint8Array([0, 255]) })
  await v.kv().delete('a')
  const docs = await v.lists.create('notes', { type: 'document' })
  await docs.append('one two')
  await v.close()
  assert.equal((await readManifest(storage, 'r'))!.imageSize, 0, 'never checkpointed: no image')
  const replayed = await replayedLog(storage, 'r')
  assert.ok(replayed.records.length >= 3, 'the creation record and the commits after it')
  // Since vault ids: the template's schema, then one group recording the vault's id (replayed on the image).
  const found = creationImageAndRest(replayed.records[0]!.payload)
  assert.ok(found, "its creation record is the template's schema and the vault's id")
  assert.equal(found.rest.length, 1)
  assert.match(found.rest[0]![0], /INTO vault_meta/)
  assert.equal(creationImageFor(replayed.records[0]!.payload), undefined, 'the whole record is not the schema alone')
  const files = await VaultFiles.open(storage, 'r', { readOnly: true, create: false, identity: { ...identity, name: 'r' }, schema: () => standard })
  try {
    assert.deepEqual(dump(files.db), dump(replayed.db))
    assert.equal(files.recovery.replayedRecords, replayed.records.length - 1, 'the commits are reported replayed, the creation record is not')
  } finally {
    await files.close()
    replayed.db.close()
  }
  const again = await openVault('r', { storage })
  assert.equal(await again.kv().get('a'), undefined)
  assert.deepEqual(await again.kv().get('b'), { text: 'two', bytes: new Uint8Array([0, 255]) })
  assert.equal(await (await again.lists.get('notes')).get(0), 'one two')
  await again.close()
})

test('a never checkpointed vault created with other statements reopens by replaying its creation record', async () => {
  const storage = new MemoryAdapter()
  const other: StatementGroup[] = [
    ['CREATE TABLE IF NOT EXISTS schema_versions (domain TEXT PRIMARY KEY, version INTEGER NOT NULL)', []],
    ['CREATE TABLE mine (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID', []],
  ]
  const options = { readOnly: false, create: true, identity, schema: () => other }
  const created = await VaultFiles.open(storage, 'v', options)
  await created.close()
  const files = await VaultFiles.open(storage, 'v', { ...options, create: false })
  try {
    assert.deepEqual(files.db.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"), [['mine'], ['schema_versions']])
  } finally {
    await files.close()
  }
})
