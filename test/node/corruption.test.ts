/**
 * Damaged files and bad input (issue 2, item 7). What each kind of damage does:
 * - a torn log tail (the last record cut anywhere): the vault opens, the tail is dropped and
 *   reported (`info().recovery.droppedBytes`), every earlier record is there, and the next write
 *   goes where the tail was;
 * - a flipped byte in the image: CorruptionError (the manifest holds the image's CRC);
 * - a flipped byte in a log record in the middle: the log is read up to that record; it and every
 *   record after it are treated as a torn tail and dropped (CURRENT BEHAVIOUR, see the test: the
 *   later records were acknowledged, so this loses data silently; a read-only open leaves the
 *   files untouched);
 * - both manifest slots missing: CorruptionError naming the files found; `{ repair: true }` rebuilds it;
 * - the newest manifest slot torn by a crash during a checkpoint: the previous generation is used;
 * - a manifest of format version 99: UnsupportedError, and not one byte of any file changes
 *   (also read-only, also on disk);
 * - values that cannot be stored, invalid keys, a closed vault: the named typed error and nothing
 *   written to the log.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { ClosedError, CorruptionError, InvalidArgumentError, MemoryAdapter, UnsupportedError, openVault, type Vault } from '../../src/node.js'
import { LOG_HEADER_BYTES, MANIFEST_SLOTS, imageFile, logFile } from '../../src/persistence/format.js'
import { scanRecords } from '../../src/persistence/log-format.js'
import { decodeManifest, encodeManifest, type Manifest } from '../../src/persistence/manifest.js'
import type { StorageAdapter } from '../../src/storage/storage-adapter.js'
import { tempDir } from './helpers.js'

const NAME = 'damaged'

/** The current manifest of the vault in `storage` (the valid slot with the highest generation). */
async function manifestOf(storage: StorageAdapter): Promise<Manifest> {
  let best: Manifest | undefined
  for (const slot of MANIFEST_SLOTS) {
    const m = decodeManifest(await storage.read(`${NAME}/${slot}`))
    if (m && (!best || m.generation > best.generation)) best = m
  }
  return best!
}

async function copyOf(storage: StorageAdapter): Promise<MemoryAdapter> {
  const out = new MemoryAdapter()
  for (const name of await storage.list(NAME)) {
    const bytes = await storage.read(`${NAME}/${name}`)
    if (bytes) await out.write(`${NAME}/${name}`, bytes)
  }
  return out
}

async function hashes(storage: StorageAdapter): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const name of await storage.list(NAME)) {
    const bytes = await storage.read(`${NAME}/${name}`)
    out.set(name, bytes ? createHash('sha256').update(bytes).digest('hex') : 'absent')
  }
  return out
}

async function entries(vault: Vault): Promise<Map<string, unknown>> {
  return new Map((await vault.kv().entries()).map(([k, v]) => [k as string, v]))
}

/** A vault whose log holds `n` records (one per key, after a checkpoint), closed. */
async function vaultWithLog(n: number): Promise<MemoryAdapter> {
  const mem = new MemoryAdapter()
  const v = await openVault(NAME, { storage: mem })
  await v.kv().set('base', 'in the image')
  await v.checkpoint()
  for (let i = 0; i < n; i++) await v.kv().set(`k${i}`, `value ${i} ${'y'.repeat(i * 3)}`)
  await v.close()
  return mem
}

describe('a torn log tail', () => {
  test('every cut point of the last record: opens, drops the tail, keeps every earlier record, appends after them', async () => {
    const pristine = await vaultWithLog(5)
    const m = await manifestOf(pristine)
    const logPath = `${NAME}/${logFile(m.generation)}`
    const log = (await pristine.read(logPath))!
    const scan = scanRecords(log.subarray(LOG_HEADER_BYTES), LOG_HEADER_BYTES, m.baseSeq)
    assert.equal(scan.records.length, 5)
    const lastStart = scan.records[3]!.end
    assert.equal(scan.records[4]!.end, log.length)
    let checked = 0
    for (let cut = lastStart + 1; cut < log.length; cut++) {
      const mem = await copyOf(pristine)
      await mem.truncate(logPath, cut)
      const v = await openVault(NAME, { storage: mem })
      try {
        const info = await v.info()
        assert.equal(info.recovery.droppedBytes, cut - lastStart, `cut at ${cut}`)
        assert.equal(info.recovery.replayedRecords, 4)
        const got = await entries(v)
        assert.equal(got.get('base'), 'in the image')
        for (let i = 0; i < 4; i++) assert.equal(got.get(`k${i}`), `value ${i} ${'y'.repeat(i * 3)}`, `cut at ${cut}: k${i}`)
        assert.equal(got.has('k4'), false, `cut at ${cut}: the torn record is not applied`)
        assert.deepEqual(await v.integrityCheck(), ['ok'])
        // The tail was cut off: the next record follows the last good one.
        assert.equal(await mem.size(logPath), lastStart)
        if (cut % 7 === 0) {
          await v.kv().set('next', cut)
          await v.close()
          const again = await openVault(NAME, { storage: mem })
          assert.equal((await again.info()).recovery.droppedBytes, 0)
          assert.equal(await again.kv().get('next'), cut)
          assert.equal(await again.kv().get('k3'), `value 3 ${'y'.repeat(9)}`)
          await again.close()
        }
      } finally {
        await v.close()
      }
      checked++
    }
    assert.ok(checked > 20, `${checked} cut points`)
  })

  test('on disk too: a cut log opens, and the first write cuts the tail', async () => {
    const dir = tempDir()
    const v = await openVault(NAME, { storage: 'fs', path: dir })
    for (let i = 0; i < 3; i++) await v.kv().set(`k${i}`, i)
    await v.close()
    const folder = join(dir, NAME)
    const logName = readdirSync(folder).find((f) => f.startsWith('log-'))!
    const full = statSync(join(folder, logName)).size
    writeFileSync(join(folder, logName), readFileSync(join(folder, logName)).subarray(0, full - 3))
    // (The fs adapter of `dir` still has the log open: opening refreshes what it knows of sizes.)
    const again = await openVault(NAME, { storage: 'fs', path: dir })
    assert.ok((await again.info()).recovery.droppedBytes > 0)
    assert.deepEqual(await entries(again), new Map([['k0', 0], ['k1', 1]]))
    await again.kv().set('k9', 9)
    assert.deepEqual(await again.integrityCheck(), ['ok'])
    await again.close()
    const third = await openVault(NAME, { storage: 'fs', path: dir })
    assert.equal((await third.info()).recovery.droppedBytes, 0)
    assert.deepEqual(await entries(third), new Map([['k0', 0], ['k1', 1], ['k9', 9]]))
    await third.close()
  })
})

describe('flipped bytes', () => {
  test('in the image: CorruptionError, files untouched', async () => {
    const pristine = await vaultWithLog(2)
    const m = await manifestOf(pristine)
    const imagePath = `${NAME}/${imageFile(m.generation)}`
    const image = (await pristine.read(imagePath))!
    for (const at of [0, 100, Math.floor(image.length / 2), image.length - 1]) {
      const mem = await copyOf(pristine)
      const bad = image.slice()
      bad[at] ^= 0x10
      await mem.write(imagePath, bad)
      const before = await hashes(mem)
      await assert.rejects(openVault(NAME, { storage: mem }), (err: Error) => err instanceof CorruptionError && /fails its checksum/.test(err.message))
      assert.deepEqual(await hashes(mem), before, 'a refused open changes no file')
    }
  })

  test('in a log record in the middle: CorruptionError, files untouched; { repair: true } drops it and what follows', async () => {
    // A crash in strict mode can only tear the last record (each record is synced before the next
    // is appended), so a damaged record followed by intact ones is corruption: the later records
    // were acknowledged, and dropping them must be the user's decision.
    const pristine = await vaultWithLog(6)
    const m = await manifestOf(pristine)
    const logPath = `${NAME}/${logFile(m.generation)}`
    const log = (await pristine.read(logPath))!
    const scan = scanRecords(log.subarray(LOG_HEADER_BYTES), LOG_HEADER_BYTES, m.baseSeq)
    const third = scan.records[2]!
    const bad = log.slice()
    bad[third.end - 2] ^= 0xff // inside the payload of the third record
    const mem = await copyOf(pristine)
    await mem.write(logPath, bad)

    const before = await hashes(mem)
    for (const readOnly of [false, true]) {
      await assert.rejects(openVault(NAME, { storage: mem, readOnly }), (err: Error) => err instanceof CorruptionError && /damaged record .* followed by intact ones/.test(err.message))
      assert.deepEqual(await hashes(mem), before, 'a refused open changes no file')
    }

    const v = await openVault(NAME, { storage: mem, repair: true })
    const got = await entries(v)
    assert.deepEqual([...got.keys()].sort(), ['base', 'k0', 'k1'])
    assert.equal((await v.info()).recovery.droppedBytes, log.length - scan.records[1]!.end)
    assert.deepEqual(await v.integrityCheck(), ['ok'])
    await v.kv().set('after', 1)
    await v.close()
    const again = await openVault(NAME, { storage: mem })
    assert.deepEqual([...(await entries(again)).keys()].sort(), ['after', 'base', 'k0', 'k1'])
    await again.close()
  })
})

describe('manifests', () => {
  test('both slots missing: CorruptionError with a clear message, files untouched', async () => {
    const mem = await vaultWithLog(2)
    for (const slot of MANIFEST_SLOTS) await mem.remove(`${NAME}/${slot}`)
    const before = await hashes(mem)
    for (const readOnly of [false, true]) {
      await assert.rejects(openVault(NAME, { storage: mem, readOnly }), (err: Error) => {
        assert.ok(err instanceof CorruptionError, String(err))
        assert.match(err.message, /no valid manifest/)
        assert.match(err.message, /image-\d+\.sqlite/)
        return true
      })
      assert.deepEqual(await hashes(mem), before)
    }
    // { repair: true } rebuilds the manifest from the newest image and its log: nothing is lost.
    const v = await openVault(NAME, { storage: mem, repair: true })
    assert.deepEqual([...(await entries(v)).keys()].sort(), ['base', 'k0', 'k1'])
    assert.deepEqual(await v.integrityCheck(), ['ok'])
    await v.close()
    const again = await openVault(NAME, { storage: mem })
    assert.equal((await entries(again)).size, 3)
    await again.close()
  })

  test('the newest slot torn by a crash during a checkpoint: the previous generation is used', async () => {
    const mem = new MemoryAdapter()
    const v = await openVault(NAME, { storage: mem })
    await v.kv().set('a', 1)
    await v.checkpoint()
    await v.kv().set('b', 2) // in the log of the older generation
    await v.close()
    const older = await copyOf(mem)
    const gen = (await manifestOf(older)).generation
    // Run the next checkpoint on a copy, then put its image, log and a torn manifest next to the
    // older generation's files: what a crash while writing that manifest leaves.
    const newer = await copyOf(older)
    const w = await openVault(NAME, { storage: newer })
    await w.checkpoint()
    await w.close()
    const slot = `${NAME}/${MANIFEST_SLOTS[(gen + 1) % 2]}`
    const newManifest = (await newer.read(slot))!
    assert.equal(decodeManifest(newManifest)!.generation, gen + 1)
    for (const tear of [newManifest.length - 1, Math.floor(newManifest.length / 2), 10, 0]) {
      const crashed = await copyOf(older)
      await crashed.write(`${NAME}/${imageFile(gen + 1)}`, (await newer.read(`${NAME}/${imageFile(gen + 1)}`))!)
      await crashed.write(`${NAME}/${logFile(gen + 1)}`, (await newer.read(`${NAME}/${logFile(gen + 1)}`))!)
      await crashed.write(slot, newManifest.slice(0, tear))
      const r = await openVault(NAME, { storage: crashed })
      assert.deepEqual(await entries(r), new Map([['a', 1], ['b', 2]]))
      assert.equal((await r.info()).recovery.replayedRecords, 1, 'the older log was replayed')
      await r.close()
      // The newer generation's files were garbage and are gone.
      const names = await crashed.list(NAME)
      assert.ok(!names.includes(imageFile(gen + 1)) && !names.includes(logFile(gen + 1)), names.join(', '))
    }
    // A flipped byte instead of a cut: the same.
    const crashed = await copyOf(older)
    const flipped = newManifest.slice()
    flipped[flipped.length - 5] ^= 1
    await crashed.write(slot, flipped)
    const r = await openVault(NAME, { storage: crashed })
    assert.deepEqual(await entries(r), new Map([['a', 1], ['b', 2]]))
    await r.close()
  })

  test('format version 99: UnsupportedError and every file byte-identical (memory, disk, read-only)', async () => {
    const mem = await vaultWithLog(3)
    const m = await manifestOf(mem)
    await mem.write(`${NAME}/${MANIFEST_SLOTS[m.generation % 2]}`, encodeManifest({ ...m, formatVersion: 99 }))
    const before = await hashes(mem)
    for (const readOnly of [false, true]) {
      await assert.rejects(openVault(NAME, { storage: mem, readOnly }), (err: Error) => err instanceof UnsupportedError && /format version 99/.test(err.message))
      assert.deepEqual(await hashes(mem), before, `readOnly ${readOnly}`)
    }
    // On disk, with the default (shared) mode: not a byte changes, no file appears.
    const dir = tempDir()
    const folder = join(dir, NAME)
    const disk = await openVault(NAME, { storage: 'fs', path: dir })
    await disk.kv().set('x', 1)
    await disk.close()
    const diskHashes = () => new Map(readdirSync(folder).map((f) => [f, createHash('sha256').update(readFileSync(join(folder, f))).digest('hex')]))
    const slotName = readdirSync(folder).filter((f) => f.startsWith('manifest-')).map((f) => [f, decodeManifest(readFileSync(join(folder, f)))!] as const).sort((a, b) => b[1].generation - a[1].generation)[0]!
    writeFileSync(join(folder, slotName[0]), encodeManifest({ ...slotName[1], formatVersion: 99 }))
    const diskBefore = diskHashes()
    for (const readOnly of [false, true]) {
      await assert.rejects(openVault(NAME, { storage: 'fs', path: dir, readOnly }), UnsupportedError)
      assert.deepEqual(diskHashes(), diskBefore, `on disk, readOnly ${readOnly}`)
    }
  })
})

describe('bad input writes nothing', () => {
  test('a function, a symbol, a class instance, an invalid key: InvalidArgumentError and the log unchanged', async () => {
    const mem = new MemoryAdapter()
    const v = await openVault(NAME, { storage: mem })
    const kv = v.kv()
    await kv.set('ok', 1)
    const logPath = `${NAME}/${logFile((await manifestOf(mem)).generation)}`
    const size = await mem.size(logPath)
    class Point {
      constructor(
        public x = 1,
        public y = 2,
      ) {}
    }
    const bad: [string, () => Promise<unknown>][] = [
      ['a function', () => kv.set('f', () => 1)],
      ['a nested function', () => kv.set('f', { deep: [1, { fn() {} }] })],
      ['a symbol', () => kv.set('s', Symbol('s'))],
      ['a class instance', () => kv.set('c', new Point())],
      ['a number key', () => kv.set(42 as unknown as string, 1)],
      ['a null key', () => kv.set(null as unknown as string, 1)],
      ['an object key', () => kv.get({} as unknown as string)],
      ['one bad value in setMany', () => kv.setMany([['g1', 1], ['g2', Symbol('x')], ['g3', 3]])],
      ['a bad key in setMany', () => kv.setMany([['g1', 1], [7 as unknown as string, 2]])],
      ['a bad value in a transaction', () => v.transaction(async (tx) => {
        await tx.kv().set('t1', 1)
        await tx.kv().set('t2', () => 2)
      })],
    ]
    for (const [what, call] of bad) {
      await assert.rejects(call(), InvalidArgumentError, what)
      assert.equal(await mem.size(logPath), size, `${what}: nothing written`)
    }
    assert.deepEqual(await entries(v), new Map([['ok', 1]]))
    await v.close()
    for (const [what, call] of [
      ['set', () => kv.set('late', 1)],
      ['setMany', () => kv.setMany([['late', 1]])],
      ['delete', () => kv.delete('ok')],
      ['transaction', () => v.transaction(async () => {})],
      ['checkpoint', () => v.checkpoint()],
      ['integrityCheck', () => v.integrityCheck()],
    ] as const) {
      await assert.rejects(call(), ClosedError, `${what} on a closed vault`)
    }
    assert.equal(await mem.size(logPath), size, 'a closed vault wrote nothing')
    const again = await openVault(NAME, { storage: mem })
    assert.deepEqual(await entries(again), new Map([['ok', 1]]))
    await again.close()
  })
})
