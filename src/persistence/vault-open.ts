import { CorruptionError, NotFoundError } from '../errors/errors.js'
import { fromPlatformError } from '../errors/platform-error.js'
import { SqliteDatabase, type SqlJsLocation, type StatementGroup } from '../sqlite/sqlite-database.js'
import type { StorageAdapter } from '../storage/storage-adapter.js'
import { decodeStatements } from './record-codec.js'
import { crc32 } from './crc32.js'
import { FORMAT_VERSION, LOG_HEADER_BYTES, RECORD_HEADER_BYTES, imageFile, logFile } from './format.js'
import { decodeLogHeader, encodeLogHeader, hasLaterRecord, scanRecords } from './log-format.js'
import { missingManifest, readManifestSlots, writeManifest, writeManifestSlot, type Manifest } from './manifest.js'
import { creationImageAndRest } from './creation-image.js'
import { CREATION_SEQ, createVault, hasNoImage, isAbandonedCreation, noImageManifest } from './vault-creation.js'
import type { RecoveryReport } from '../protocol/engine-types.js'
import type { VaultFiles, VaultFilesOptions } from './vault-files.js'
import { browserMark } from '../protocol/browser-marks.js'

// Opening a vault's folder (docs/format.md, "Manifest slots", "Repair"): which generation to trust
// (the manifest slots, or the newest image and log when the manifest is gone), whether its image
// and log are intact, and what `repair` may drop or rewrite. Apart from VaultFiles (the open vault's files,
// vault-files.ts) because it runs once per open and answers a different question: what is the
// vault's state on disk, rather than how a commit or a checkpoint is written.

/**
 * Builds the files object once the generation and the log are chosen (VaultFiles' internal `make`;
 * spelled out here because internal members are left out of the shipped declarations).
 */
type MakeVaultFiles = (storage: StorageAdapter, folder: string, manifest: Manifest, db: SqliteDatabase, recovery: RecoveryReport, sqlJs: SqlJsLocation | undefined, logEnd: number, lastSeq: number) => VaultFiles

/** The generation chosen at open, with its image (checked) and what choosing it repaired. */
interface Chosen {
  manifest: Manifest
  /**
   * Its image, opened; undefined for a vault never checkpointed (no image), whose database is
   * made when its log is read (see {@link databaseBeforeLog}).
   */
  db: SqliteDatabase | undefined
  repairs: string[]
  /** Write the manifest to both slots (a slot was lost, or the manifest was rebuilt). */
  heal: boolean
}

/**
 * Open (or create) the vault in `folder`: choose the generation, load its log, repair what the
 * options allow. `make` builds the files object (VaultFiles.make: passed in, so that this module
 * needs only VaultFiles' type and the two modules do not import each other at run time).
 */
export async function openFiles(storage: StorageAdapter, folder: string, options: VaultFilesOptions, make: MakeVaultFiles): Promise<VaultFiles> {
  // The folder is listed while the slots are read (neither needs the other; each is a round trip
  // to the browser on OPFS). Names starting with '.' are not vault files (the lock and blob-pin
  // files of processes sharing the folder).
  const listed = storage.listable === false ? undefined : storage.list(folder).then((names) => names.filter((f) => !f.startsWith('.')))
  listed?.catch(() => {})
  const slots = await readSlots(storage, folder)
  const files = listed ? await listed : await namedFiles(storage, folder, slots)
  let chosen: Chosen | undefined
  if (slots.length > 0) chosen = await chooseGeneration(storage, folder, slots, files, options)
  else if (files.length > 0 && !(await isAbandonedCreation(storage, folder, files))) {
    if (!options.repair || options.readOnly) missingManifest(folder, files)
    chosen = await rebuildManifest(storage, folder, files, options)
  }
  if (!chosen) {
    if (!options.create) throw new NotFoundError(`vault "${options.identity.name}" does not exist`)
    if (options.readOnly) throw new NotFoundError(`vault "${options.identity.name}" does not exist (and readOnly forbids creating it)`)
    for (const f of files) await storage.remove(`${folder}/${f}`)
    // The database that built the schema is the vault's: nothing to read back.
    const created = await createVault(storage, folder, options)
    const vault = make(storage, folder, created.manifest, created.db, { replayedRecords: 0, droppedBytes: 0, repairs: [] }, options.sqlJs, created.logEnd, created.lastSeq)
    vault.created = true
    // Answered before its files are durable: nothing was acknowledged yet (see createVault).
    vault.startCreation(created.durable, created.rewrite, created.hurry)
    return vault
  }
  try {
    return await openLog(storage, folder, chosen, files, options, make)
  } catch (err) {
    chosen.db?.close()
    throw err
  }
}

/**
 * What a damaged vault's error advises: `{ repair: true }` rewrites files, which a static host
 * (storage that cannot list, read-only: docs/http-storage.md) refuses; there the copy is redone.
 */
function repairAdvice(storage: StorageAdapter, what: string): string {
  return storage.listable === false ? 'a vault on a static host cannot be repaired: copy (or export and unzip) the whole vault folder to the host again' : `open with { repair: true } ${what}`
}

/** Load the log of the chosen generation on top of its image (repairing it when asked). */
async function openLog(storage: StorageAdapter, folder: string, chosen: Chosen, files: readonly string[], options: VaultFilesOptions, make: MakeVaultFiles): Promise<VaultFiles> {
  const { manifest, repairs } = chosen
  const logPath = `${folder}/${logFile(manifest.generation)}`
  const logBytes = await storage.read(logPath)
  browserMark('files-read')
  let body: Uint8Array
  let rewriteLog = false
  if (!logBytes) {
    if (hasNoImage(manifest)) throw creationRecordLost(logPath)
    if (!options.repair) throw new CorruptionError(`vault log ${logPath} is missing; ${repairAdvice(storage, 'to open the image alone (the commits since the last checkpoint are lost)')}`)
    repairs.push(`log ${logFile(manifest.generation)} was missing: only the checkpoint image was recovered`)
    body = new Uint8Array(0)
    rewriteLog = true
  } else {
    try {
      decodeLogHeader(logBytes, manifest.generation)
      body = logBytes.subarray(LOG_HEADER_BYTES)
    } catch (err) {
      if (!options.repair) {
        throw new CorruptionError(`vault log ${logPath}: ${(err as Error).message}; ${repairAdvice(storage, 'to read the records after it anyway')}`, { cause: err })
      }
      repairs.push(`log ${logFile(manifest.generation)} had a damaged header (${logBytes.length} bytes): records after it were read anyway`)
      body = logBytes.subarray(Math.min(LOG_HEADER_BYTES, logBytes.length))
      rewriteLog = true
    }
  }
  const scan = scanRecords(body, LOG_HEADER_BYTES, manifest.baseSeq)
  if (scan.droppedBytes > 0 && !options.repair) {
    const lastGood = manifest.baseSeq + scan.records.length
    if (hasLaterRecord(body, scan.validEnd - LOG_HEADER_BYTES, lastGood)) {
      throw new CorruptionError(
        `vault log ${logPath} has a damaged record (sequence ${lastGood + 1}) followed by intact ones; ` +
          repairAdvice(storage, `to drop it and every record after it (${scan.droppedBytes} bytes)`),
      )
    }
  }
  // A vault never checkpointed has no image: its schema is its log's creation record. Without it
  // (damaged, cut off or missing: a manifest is written only once that record is durable, so no
  // crash leaves this) the database would be an empty one with no tables, and the open would fail
  // later with SQLite's untyped "no such table". Nothing before the damage can be recovered, so
  // this is CorruptionError with or without repair, as for a missing image.
  if (hasNoImage(manifest) && scan.records[0]?.seq !== CREATION_SEQ) throw creationRecordLost(logPath)
  const start = chosen.db ? { db: chosen.db, applied: 0 } : await databaseBeforeLog(scan.records, options)
  const db = (chosen.db = start.db)
  browserMark('database-ready')
  try {
    db.control('BEGIN')
    if (start.rest) db.replay(start.rest)
    for (const rec of scan.records.slice(start.applied)) db.replay(decodeStatements(rec.payload))
    db.control('COMMIT')
  } catch (err) {
    throw new CorruptionError(`vault log ${logPath} holds a record that does not apply: ${(err as Error).message}`, { cause: err })
  }
  browserMark('log-replayed')
  // A vault with no image replays its creation record too; that is not a commit.
  const creation = hasNoImage(manifest) && scan.records[0]?.seq === CREATION_SEQ ? 1 : 0
  const recovery: RecoveryReport = { replayedRecords: scan.records.length - creation, droppedBytes: scan.droppedBytes, repairs }
  const vault = make(storage, folder, manifest, db, recovery, options.sqlJs, scan.validEnd, manifest.baseSeq + scan.records.length)
  if (!options.readOnly) {
    if (rewriteLog) {
      // A fresh header and the records that were read: the next append follows them.
      const out = new Uint8Array(scan.validEnd)
      out.set(encodeLogHeader(manifest.generation), 0)
      out.set(body.subarray(0, scan.validEnd - LOG_HEADER_BYTES), LOG_HEADER_BYTES)
      await storage.write(logPath, out)
      await storage.sync(logPath)
    } else if (scan.droppedBytes > 0) {
      // The next append must follow the last good record, not the torn bytes after it.
      await storage.truncate(logPath, scan.validEnd)
      await storage.sync(logPath)
    }
    if (chosen.heal) await writeBothSlots(storage, folder, manifest)
    // The folder as listed at the start of this open: since then only this generation's log and
    // the manifest slots may have been written, which are kept anyway.
    await vault.removeStrayFiles(files)
  }
  return vault
}

/** A never checkpointed vault whose log lost its creation record (see openLog). */
function creationRecordLost(logPath: string): CorruptionError {
  return new CorruptionError(
    `vault log ${logPath} has lost its creation record (the vault was never checkpointed, so it has no image either): the data it held is gone, also with repair; delete the vault and create it again`,
  )
}

/**
 * The database a vault with no image starts from, before its log is replayed, and how many of the
 * log's first records it already holds. A never checkpointed vault's log starts with its creation
 * record: when that record (without its last group, the vault's id, since round twenty-two) is byte
 * for byte the one the build's template was made from (the
 * standard domains' schema: src/persistence/creation-image.ts), the template's image is that
 * record applied to an empty database (test/node/creation-template.test.ts checks it), so it is
 * loaded instead of running the record's ~60 statements. Those statements were the slowest step of
 * reopening a small vault in a new page (~45 ms: SQLite's parser and b-tree code running for the
 * first time in a fresh worker; docs/cold-start.md, "Ninth round"). Any other first record (other
 * domains, a schema this build did not make) is replayed on an empty database as before.
 */
async function databaseBeforeLog(records: readonly { seq: number; payload: Uint8Array }[], options: VaultFilesOptions): Promise<{ db: SqliteDatabase; applied: number; rest?: StatementGroup[] }> {
  const first = records[0]
  // The record may end with the vault's own values (its id) after the template's schema: those
  // are replayed on the image (`rest`), in the replay's transaction.
  const found = first?.seq === CREATION_SEQ ? creationImageAndRest(first.payload) : undefined
  if (found) return { db: await SqliteDatabase.open(found.image, options.sqlJs, { trusted: true }), applied: 1, rest: found.rest }
  return { db: await SqliteDatabase.open(undefined, options.sqlJs), applied: 0 }
}

/** The valid manifest slots, newest generation first. Refuses a newer format without writing. */
async function readSlots(storage: StorageAdapter, folder: string): Promise<Manifest[]> {
  return (await readManifestSlots(storage, folder)).sort((a, b) => b.generation - a.generation)
}

/**
 * The vault files of a storage that cannot list folders (static HTTP hosting), as far as opening
 * needs them: the image and log of every generation a manifest slot names and, when only one slot
 * is intact, the next generation's image if it exists (one probe: a checkpoint may have lost the
 * other slot after removing the files this one names). No slot: no files, so "does not exist".
 */
async function namedFiles(storage: StorageAdapter, folder: string, slots: Manifest[]): Promise<string[]> {
  const names = new Set<string>()
  for (const m of slots) names.add(imageFile(m.generation)).add(logFile(m.generation))
  if (slots.length === 1) {
    const next = imageFile(slots[0]!.generation + 1)
    if ((await storage.size(`${folder}/${next}`)) !== undefined) names.add(next).add(logFile(slots[0]!.generation + 1))
  }
  return [...names]
}

/** Sequence number of the first record of a log, when that record is intact. */
function firstRecordSeq(log: Uint8Array): number | undefined {
  if (log.length < LOG_HEADER_BYTES + RECORD_HEADER_BYTES) return undefined
  const view = new DataView(log.buffer, log.byteOffset, log.byteLength)
  const seq = view.getUint32(LOG_HEADER_BYTES + 8, true) + view.getUint32(LOG_HEADER_BYTES + 12, true) * 0x1_0000_0000
  if (seq < 1) return undefined
  return scanRecords(log.subarray(LOG_HEADER_BYTES), LOG_HEADER_BYTES, seq - 1).records.length > 0 ? seq : undefined
}

function hasValidHeader(log: Uint8Array | undefined, generation: number): log is Uint8Array {
  if (!log) return false
  try {
    decodeLogHeader(log, generation)
    return true
  } catch {
    return false
  }
}

async function tryOpenImage(image: Uint8Array, options: VaultFilesOptions): Promise<SqliteDatabase | undefined> {
  try {
    return await SqliteDatabase.open(image, options.sqlJs)
  } catch {
    return undefined
  }
}

/**
 * Which generation is current (docs/format.md, "Choosing the generation"). Normally the newest
 * valid slot, whose image passes its checksum. When a slot was lost, the other one may name an
 * older generation whose files the last checkpoint removed: then the newest intact image and log
 * on disk are the current ones. Nothing acknowledged is dropped by this choice:
 * - a newer generation whose log holds a record was committed (records follow the commit point);
 * - a newer generation with an empty log is the checkpoint that removed the named image (identical
 *   content to the named image and its log).
 */
async function chooseGeneration(storage: StorageAdapter, folder: string, slots: Manifest[], files: string[], options: VaultFilesOptions): Promise<Chosen> {
  const best = slots[0]!
  const lostSlot = slots.length < 2
  const newer = files
    .map((f) => /^image-(\d+)\.sqlite$/.exec(f)?.[1])
    .filter((g): g is string => g !== undefined)
    .map(Number)
    .filter((g) => g > best.generation)
    .sort((a, b) => b - a)
  const rebuilt = async (g: number, baseSeq: number | undefined, why: string): Promise<Chosen | undefined> => {
    const log = await storage.read(`${folder}/${logFile(g)}`)
    if (!hasValidHeader(log, g)) return undefined
    const first = firstRecordSeq(log)
    if (baseSeq === undefined) {
      if (first === undefined) return undefined
      baseSeq = first - 1
    } else if (first !== undefined) baseSeq = first - 1
    const image = await storage.read(`${folder}/${imageFile(g)}`)
    const db = image && (await tryOpenImage(image, options))
    if (!image || !db) return undefined
    const manifest: Manifest = { ...best, formatVersion: FORMAT_VERSION, generation: g, imageSize: image.length, imageCrc: crc32(image), baseSeq }
    return { manifest, db, repairs: [`the manifest of generation ${g} was lost; ${why}`], heal: true }
  }
  // A newer generation that already holds commits is current, whatever the remaining slot says.
  for (const g of newer) {
    const c = await rebuilt(g, undefined, `rebuilt from ${imageFile(g)} and ${logFile(g)}, whose log holds commits`)
    if (c) return c
  }
  if (hasNoImage(best)) {
    // Never checkpointed: the database is an empty one plus the log (its creation record first).
    // A missing log means the checkpoint that removed it lost the other slot (as for an image below).
    if ((await storage.size(`${folder}/${logFile(best.generation)}`)) === undefined) {
      for (const g of newer) {
        const c = await rebuilt(g, best.baseSeq, `${logFile(best.generation)} named by the other slot was removed by that checkpoint; rebuilt from ${imageFile(g)}`)
        if (c) return c
      }
    }
    return { manifest: best, db: undefined, repairs: [], heal: lostSlot || slots[1]!.generation !== best.generation }
  }
  const imagePath = `${folder}/${imageFile(best.generation)}`
  const image = await storage.read(imagePath)
  if (image && image.length === best.imageSize && crc32(image) === best.imageCrc) {
    // Its bytes are those its checkpoint exported from the working database: SQLite's own check
    // (`quick_check`, which reads every page: 23-33 ms for a 7 MB image on Node, growing with the
    // size) would find nothing the CRC has not ruled out, on every open. It runs where the CRC
    // fails (repair). An archive's image, which could be made to match, is looked at by the import.
    return { manifest: best, db: await SqliteDatabase.open(image, options.sqlJs, { trusted: true }), repairs: [], heal: lostSlot || slots[1]!.generation !== best.generation }
  }
  if (!image) {
    // The last checkpoint removed it: its successor (intact image, empty log) holds the same data.
    for (const g of newer) {
      const c = await rebuilt(g, best.baseSeq, `${imageFile(best.generation)} named by the other slot was removed by that checkpoint; rebuilt from ${imageFile(g)}`)
      if (c) return c
    }
    throw new CorruptionError(`vault image ${imagePath} is missing and no intact newer generation was found; the data it held is gone`)
  }
  const problem = `vault image ${imagePath} fails its checksum (expected ${best.imageSize} bytes, crc ${best.imageCrc}; found ${image.length} bytes)`
  if (!options.repair) throw new CorruptionError(`${problem}; ${repairAdvice(storage, 'to use it anyway if SQLite can still read it')}`)
  const db = await tryOpenImage(image, options)
  if (!db) throw new CorruptionError(`${problem}, and SQLite cannot read it: the data it held is gone`)
  const manifest: Manifest = { ...best, imageSize: image.length, imageCrc: crc32(image) }
  return { manifest, db, repairs: [`${problem}; SQLite's check passed, so it was used as it is (values in it may be damaged)`], heal: true }
}

/**
 * Write the manifest to both slots, each synced before the next. The slot of the other parity
 * first: when healing, the slot of this generation is the intact one, and it stays intact until
 * the other is durable.
 */
async function writeBothSlots(storage: StorageAdapter, folder: string, m: Manifest): Promise<void> {
  await writeManifestSlot(storage, folder, m, (m.generation + 1) % 2)
  await writeManifest(storage, folder, m)
}

/**
 * Rebuild a manifest for a folder that lost both slots (repair only): the newest generation whose
 * image passes SQLite's check and whose log has a valid header. Identity fields that only the
 * manifest held (author, description, creation time) are lost; the name is the folder's.
 */
async function rebuildManifest(storage: StorageAdapter, folder: string, files: string[], options: VaultFilesOptions): Promise<Chosen> {
  const generations = files
    .map((f) => /^image-(\d+)\.sqlite$/.exec(f)?.[1])
    .filter((g): g is string => g !== undefined)
    .map(Number)
    .sort((a, b) => b - a)
  for (const g of generations) {
    const image = await storage.read(`${folder}/${imageFile(g)}`)
    const log = await storage.read(`${folder}/${logFile(g)}`)
    if (!image || !hasValidHeader(log, g)) continue
    const db = await tryOpenImage(image, options)
    if (!db) continue
    // The first record's sequence number tells where the image ended; an empty log can start anywhere.
    const manifest: Manifest = {
      formatVersion: FORMAT_VERSION,
      generation: g,
      imageSize: image.length,
      imageCrc: crc32(image),
      baseSeq: Math.max(0, (firstRecordSeq(log) ?? 1) - 1),
      name: options.identity.name,
      author: options.identity.author,
      description: options.identity.description,
      createdAt: (options.now?.() ?? new Date()).toISOString(),
    }
    return { manifest, db, repairs: [`both manifest slots were lost; rebuilt from ${imageFile(g)} and ${logFile(g)} (author, description and creation time are lost)`], heal: true }
  }
  // Never checkpointed (no image): generation 0 is an empty database and its log, whose first
  // record is the creation record.
  const log = files.includes(logFile(0)) ? await storage.read(`${folder}/${logFile(0)}`) : undefined
  if (hasValidHeader(log, 0) && firstRecordSeq(log) === CREATION_SEQ) {
    const manifest = noImageManifest(options.identity, (options.now?.() ?? new Date()).toISOString())
    return { manifest, db: undefined, repairs: [`both manifest slots were lost; rebuilt from ${logFile(0)} (never checkpointed; author, description and creation time are lost)`], heal: true }
  }
  missingManifest(folder, files)
}
