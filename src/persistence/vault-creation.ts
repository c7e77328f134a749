import { SqliteDatabase, type SqlJsLocation, type StatementGroup } from '../sqlite/sqlite-database.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { encodeStatements } from './record-codec.js'
import { FORMAT_VERSION, LOG_HEADER_BYTES, MANIFEST_SLOTS, imageFile, logFile } from './format.js'
import { encodeLogHeader, encodeRecord, hasLaterRecord } from './log-format.js'
import { writeManifestSlot, type Manifest } from './manifest.js'
import { isCreationLog } from './vault-folder.js'
import { creationImageFor } from './creation-image.js'
import { browserMark, inBrowser } from '../protocol/browser-marks.js'

/** Identity given to a new vault. */
export interface VaultIdentity {
  name: string
  author: string
  description: string
}

/** What {@link createVault} needs from the open options. */
export interface CreationOptions {
  identity: VaultIdentity
  sqlJs?: SqlJsLocation
  /** The statements that make a new vault's tables (the creation record, docs/format.md). */
  schema(): StatementGroup[]
  /**
   * The new vault's own values (its id, src/engine/vault-identity.ts): one group, the creation
   * record's last, after the schema. Different in every vault, so not in the build's template of
   * the schema's database (src/persistence/creation-image.ts): replayed on it.
   */
  creationRows?(): StatementGroup[]
  now?: () => Date
}

/**
 * A vault just created: its manifest, its database (the schema built) and where its log ends. Its
 * files may still be being written: `durable` settles when both manifest slots are (rejecting with
 * what failed), and `rewrite` writes them all again (a retry after a failure: nothing was
 * acknowledged, and the database in memory is still exactly the creation record's).
 */
export interface CreatedVault {
  manifest: Manifest
  db: SqliteDatabase
  logEnd: number
  lastSeq: number
  durable: Promise<void>
  rewrite(): Promise<void>
  /** Start the files' durable steps now (in a browser they wait for this, see createVault). */
  hurry(): void
}

const EMPTY = new Uint8Array(0)

/** Sequence number of the creation record: the first record of a new vault's log. */
export const CREATION_SEQ = 1

/**
 * Whether a manifest names no image: a vault never checkpointed since its creation (format 3),
 * whose database is an empty one (16 KiB pages) plus its log, the creation record first.
 */
export function hasNoImage(m: Manifest): boolean {
  return m.imageSize === 0
}

/** The manifest of a vault never checkpointed: generation 0, no image (`imageSize` 0), its log from the start. */
export function noImageManifest(identity: VaultIdentity, createdAt: string): Manifest {
  return { formatVersion: FORMAT_VERSION, generation: 0, imageSize: 0, imageCrc: 0, baseSeq: 0, name: identity.name, author: identity.author, description: identity.description, createdAt }
}

/** The steps of a creation on the browser's timeline (docs/cold-start.md). */
const mark = browserMark

/**
 * Create a vault in an empty folder (docs/format.md, "A new vault"), in two durable steps:
 * 1. `log-0.log`: the generation-0 header, then the creation record (the schema statements, sequence
 *    1), synced. Written as two calls so that a crash tears either the header (a lone file of at most
 *    16 bytes) or the record (after an intact header): both read as an abandoned creation.
 * 2. both manifest slots at once (generation 0, no image), each synced. Their files are made empty
 *    beside the log's in step 1 (so a crash may leave them empty: an abandoned creation still).
 * Until a slot is durable the folder is an abandoned creation, which the next open starts again.
 * No image is written: the first checkpoint writes one. The database is made from the same
 * statements while the files are written (the build's template of it when they are the standard
 * domains': src/persistence/creation-image.ts), so SQLite's work overlaps the storage's latency.
 *
 * Resolves as soon as the database is ready (since round six): the files may still be being
 * written, and `durable` says when they are. Nothing was acknowledged before then, so the vault can
 * answer reads from memory meanwhile; everything that writes or reads its files waits for
 * `durable` first (VaultFiles.whenDurable), and the caller keeps the vault's exclusion (lock) until
 * it settles. A failure already known when the database is ready rejects the creation itself.
 */
export async function createVault(storage: StorageAdapter, folder: string, options: CreationOptions): Promise<CreatedVault> {
  const schema = options.schema()
  const rows = options.creationRows?.() ?? []
  const header = encodeLogHeader(0)
  const payload = encodeStatements(schema)
  const record = encodeRecord(CREATION_SEQ, rows.length > 0 ? encodeStatements([...schema, ...rows]) : payload)
  const logPath = `${folder}/${logFile(0)}`
  const manifest = noImageManifest(options.identity, (options.now?.() ?? new Date()).toISOString())
  mark('creation-begin')
  // In a browser the durable steps wait until `hurry` (the engine calls it once the first call was
  // answered, before anything waits for the files, or after a while): an OPFS flush blocks the
  // worker's thread (~6-14 ms each), and run right after the open it delays the page's first call,
  // which would otherwise find the thread idle. On Node the flushes do not hold the thread.
  let start = () => {}
  const started = inBrowser ? new Promise<void>((resolve) => (start = resolve)) : undefined
  let hurried = false
  const hurry = () => {
    if (hurried) return
    hurried = true
    mark('creation-flush')
    start()
  }
  const writeFiles = async () => {
    // The slot files are made (empty) beside the log: on OPFS each new file takes ~3 round trips
    // to the browser (its folder, its entry, its sync access handle), which now overlap one another
    // and the template's load instead of following the log's flush. An empty slot file is no
    // manifest and a creation's mark (isAbandonedCreation), so every crash state is still one.
    const slotFiles = Promise.all(MANIFEST_SLOTS.map((s) => storage.write(`${folder}/${s}`, EMPTY)))
    slotFiles.catch(() => {})
    try {
      await storage.write(logPath, header)
      await storage.append(logPath, record)
      await started
      await storage.sync(logPath)
      mark('creation-log')
    } finally {
      await slotFiles.catch(() => {})
    }
    await slotFiles
    await Promise.all([writeManifestSlot(storage, folder, manifest, 0), writeManifestSlot(storage, folder, manifest, 1)])
    mark('creation-slots')
  }
  const written = writeFiles()
  let failed: { err: unknown } | undefined
  written.catch((err: unknown) => (failed = { err }))
  let db: SqliteDatabase | undefined
  try {
    // The standard domains' database was made ahead from these very statements (the build's
    // template, checked against them by test/node/creation-template.test.ts): loading it skips
    // SQLite's first, slowest run of ~60 statements in a fresh worker.
    const image = creationImageFor(payload)
    // Let the files' round trips answered meanwhile take their next step before SQLite's CPU work.
    if (inBrowser) await new Promise((resolve) => setTimeout(resolve, 0))
    db = image ? await SqliteDatabase.open(image, options.sqlJs, { trusted: true }) : await buildCreationDatabase(schema, options.sqlJs)
    if (rows.length > 0) {
      db.control('BEGIN')
      db.replay(rows)
      db.control('COMMIT')
    }
    mark('creation-db')
    if (failed) throw failed.err
  } catch (err) {
    // The files' durable steps may wait for `hurry` (a browser): nothing will call it now, and the
    // open must not wait for ever (a missing wasm rejects here: test/browser/minified.spec.ts).
    hurry()
    await written.catch(() => {})
    db?.close()
    throw err
  }
  return { manifest, db, logEnd: header.length + record.length, lastSeq: CREATION_SEQ, durable: written, rewrite: writeFiles, hurry }
}

/** A new database with the creation record's statements run in one transaction (what a reopen's replay builds too). */
export async function buildCreationDatabase(schema: StatementGroup[], sqlJs?: SqlJsLocation): Promise<SqliteDatabase> {
  const db = await SqliteDatabase.open(undefined, sqlJs)
  try {
    db.control('BEGIN')
    db.replay(schema)
    db.control('COMMIT')
  } catch (err) {
    db.close()
    throw err
  }
  return db
}

/**
 * A folder left by a crash during creation: no valid manifest, generation-0 files only, and a
 * `log-0.log` that is what a creation writes first:
 * - the generation-0 header or a prefix of it (format 2 wrote the header, then `image-0.sqlite`);
 * - a lone file of at most 16 bytes (a header torn by a crash: nothing else exists yet);
 * - with no image (format 3): an intact header followed by at most the creation record (sequence 1,
 *   whole or torn), and no intact record after it: every commit follows the manifest.
 * Beside any of these, empty manifest slot files (format 3 makes them with the log's first bytes,
 * and a slot is written whole and only then cut, so a vault's slot is never empty); these alone too.
 * A user's own `image-0.sqlite` in an otherwise empty folder is not one.
 */
export async function isAbandonedCreation(storage: StorageAdapter, folder: string, listed: string[]): Promise<boolean> {
  const allowed = new Set([imageFile(0), logFile(0), ...MANIFEST_SLOTS])
  if (!listed.every((f) => allowed.has(f))) return false
  const files: string[] = []
  for (const f of listed) if (!(MANIFEST_SLOTS as readonly string[]).includes(f) || (await storage.size(`${folder}/${f}`)) !== 0) files.push(f)
  if (files.length === 0) return true
  const logPath = `${folder}/${logFile(0)}`
  if (await isCreationLog(storage, logPath)) return true
  if (files.length === 1 && files[0] === logFile(0) && ((await storage.size(logPath)) ?? Infinity) <= LOG_HEADER_BYTES) return true
  if (files.includes(imageFile(0)) || !files.includes(logFile(0))) return false
  const log = await storage.read(logPath)
  if (!log || log.length < LOG_HEADER_BYTES) return false
  const header = encodeLogHeader(0)
  if (!header.every((b, i) => log[i] === b)) return false
  // Any intact record after the creation record was a commit: this was a vault, not a creation.
  return !hasLaterRecord(log.subarray(LOG_HEADER_BYTES), -1, CREATION_SEQ)
}
