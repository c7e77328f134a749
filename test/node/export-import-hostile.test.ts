import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { ConflictError, CorruptionError, InvalidArgumentError, MemoryAdapter, StoppedError, UnsupportedError, deleteVault, exportVault, importVault, openVault, type StorageAdapter } from '../../src/node.js'
import { unzipSync, zipSync, type Zippable } from 'fflate'
import { decodeManifest, encodeManifest, type Manifest } from '../../src/persistence/manifest.js'
import { tempDir } from './helpers.js'
import { exportStreamIdle } from '../../src/client/archive.js'

// exportVault / importVault against storage that fails and callers that misbehave (the ordinary
// cases are in export-import.test.ts): whatever fails, the folder is either the vault it was or the
// imported one, and it opens.

/** A memory adapter whose `failAt`-th write, sync or removal (counted from `ops = 0`) throws. */
function failingStorage(): { storage: StorageAdapter; mem: MemoryAdapter; control: { ops: number; failAt: number } } {
  const mem = new MemoryAdapter()
  const control = { ops: 0, failAt: -1 }
  const mutating = new Set(['write', 'sync', 'remove', 'append', 'truncate'])
  const storage = new Proxy(mem, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown
      if (typeof value !== 'function') return value
      if (!mutating.has(prop as string)) return value.bind(target)
      return async (...args: unknown[]) => {
        if (++control.ops === control.failAt) throw new Error(`injected failure of ${String(prop)} ${String(args[0])}`)
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { storage, mem, control }
}

/** Every file under `folder`, sorted. */
async function filesOf(mem: MemoryAdapter, folder: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const name of await mem.list(dir)) {
      const path = `${dir}/${name}`
      if ((await mem.size(path)) === undefined) await walk(path)
      else out.push(path)
    }
  }
  await walk(folder)
  return out.sort()
}

const big = (fill: number) => new Uint8Array(300 * 1024).fill(fill) // above the kv blob threshold: a blob file
const shared = big(9) // in both vaults: the replacing import rewrites a blob the old vault holds

async function contents(storage: StorageAdapter, name: string): Promise<{ which: unknown; own: number | undefined; shared: boolean }> {
  const v = await openVault(name, { storage, create: false })
  try {
    const which = await v.kv().get('which')
    const own = ((await v.kv().get(String(which))) as Uint8Array | undefined)?.length
    const s = (await v.kv().get('shared')) as Uint8Array | undefined
    return { which, own, shared: s !== undefined && s.length === shared.length && s.every((b) => b === 9) }
  } finally {
    await v.close()
  }
}

test('a replacing import whose storage fails at any write, sync or removal leaves the old vault or the new one, and it opens', async () => {
  const { storage, mem, control } = failingStorage()
  const src = await openVault('new', { storage })
  await src.kv().setMany([['which', 'new'], ['new', big(3)], ['shared', shared]])
  await src.close()
  const archive = await exportVault('new', { storage })
  const makeOld = async () => {
    await mem.remove('old')
    const old = await openVault('old', { storage })
    await old.kv().setMany([['which', 'old'], ['old', big(5)], ['shared', shared]])
    await old.close()
  }
  await makeOld()
  control.ops = 0
  await importVault('old', archive, { storage, replace: true })
  const steps = control.ops
  assert.ok(steps >= 8, `a replace writes and removes files (${steps} steps)`)
  for (let failAt = 1; failAt <= steps; failAt++) {
    await makeOld()
    const before = await filesOf(mem, 'old')
    control.ops = 0
    control.failAt = failAt
    const failed = await importVault('old', archive, { storage, replace: true }).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    control.failAt = -1
    const got = await contents(storage, 'old').catch((e: unknown) => `does not open: ${(e as Error).message}`)
    if (failed) {
      assert.deepEqual(got, { which: 'old', own: big(5).length, shared: true }, `step ${failAt} failed (${failed.message}): the old vault must be intact`)
      assert.deepEqual(await filesOf(mem, 'old'), before, `step ${failAt} failed: the folder is as it was`)
    } else {
      assert.deepEqual(got, { which: 'new', own: big(3).length, shared: true }, `step ${failAt} failed after the commit: the import stands`)
    }
  }
})

test('a new import whose storage fails at any write, sync or removal leaves nothing, or the imported vault, which opens', async () => {
  const { storage, mem, control } = failingStorage()
  const src = await openVault('src', { storage })
  await src.kv().setMany([['which', 'src'], ['src', big(4)], ['shared', shared]])
  await src.close()
  const archive = await exportVault('src', { storage })
  control.ops = 0
  await importVault('copy', archive, { storage })
  const steps = control.ops
  for (let failAt = 1; failAt <= steps; failAt++) {
    await mem.remove('copy')
    control.ops = 0
    control.failAt = failAt
    const failed = await importVault('copy', archive, { storage }).then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    control.failAt = -1
    if (failed) assert.deepEqual(await filesOf(mem, 'copy'), [], `step ${failAt} failed (${failed.message}): nothing is left`)
    else assert.deepEqual(await contents(storage, 'copy'), { which: 'src', own: big(4).length, shared: true }, `step ${failAt} failed after the commit: the import stands`)
  }
})

test('a streamed export aborted while nobody reads errors its stream with StoppedError and closes the vault it opened', { timeout: 30_000 }, async () => {
  const storage = new MemoryAdapter()
  const v = await openVault('idle', { storage })
  await v.kv().set('x', big(1))
  await v.close()
  const abort = new AbortController()
  const stream = await exportVault('idle', { storage, as: 'stream', level: 0, signal: abort.signal })
  const reader = stream.getReader()
  abort.abort()
  // Nothing is read: the abort alone ends the stream (before, it waited for a read that never came,
  // holding the snapshot and the vault open).
  await assert.rejects(reader.closed, (e) => e instanceof StoppedError)
  // The vault the export opened is closed: it can be deleted (it was refused as open here).
  assert.equal(await deleteVault('idle', { storage }), true)
})

test('a streamed export nobody reads, cancels or aborts ends after the idle time: its stream errors with StoppedError and the vault it opened is released', { timeout: 30_000 }, async () => {
  const storage = new MemoryAdapter()
  const v = await openVault('abandoned', { storage })
  await v.kv().set('x', big(1))
  await v.close()
  const idle = exportStreamIdle.ms
  exportStreamIdle.ms = 200 // the engine drops an unpulled snapshot after 2 minutes; the stream now lets go as long after
  try {
    const stream = await exportVault('abandoned', { storage, as: 'stream', level: 0 })
    // Held, never read: deleteVault was refused as open for as long as the process lived.
    await assert.rejects(deleteVault('abandoned', { storage }), (e) => e instanceof ConflictError)
    let deleted = false
    for (const deadline = Date.now() + 20_000; !deleted && Date.now() < deadline; ) {
      try {
        deleted = await deleteVault('abandoned', { storage })
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    assert.ok(deleted, 'the vault the export opened is released (deleteVault succeeds)')
    const reader = stream.getReader()
    // The piece already handed to the stream's queue may still be read; then the error.
    let error: unknown
    try {
      while (!(await reader.read()).done);
    } catch (e) {
      error = e
    }
    assert.ok(error instanceof StoppedError && /not read for 0.2 s/.test(error.message), String(error))
  } finally {
    exportStreamIdle.ms = idle
  }
})

test('an abort while the archive stream sends nothing stops the import at once: StoppedError, the stream cancelled, nothing written', { timeout: 30_000 }, async () => {
  const path = tempDir()
  const v = await openVault('src', { path })
  await v.kv().set('x', big(2))
  await v.close()
  const archive = await exportVault('src', { path })
  const abort = new AbortController()
  let pulls = 0
  let cancelled: unknown
  const stalled = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (++pulls === 1) return controller.enqueue(archive.subarray(0, 1000))
      // The importer waits for more; the source stalls (a download that stopped), and the user gives up.
      abort.abort()
      return new Promise<void>(() => {})
    },
    cancel(reason) {
      cancelled = reason
    },
  }, { highWaterMark: 0 })
  await assert.rejects(importVault('stalled', stalled, { path, signal: abort.signal }), (e) => e instanceof StoppedError)
  assert.ok(cancelled instanceof StoppedError, 'the stream was cancelled')
  assert.deepEqual(existsSync(join(path, 'stalled')) ? readdirSync(join(path, 'stalled')) : [], [], 'nothing was written')
  // The vault's lock is free again: the same name imports now.
  await importVault('stalled', archive, { path })
  const copy = await openVault('stalled', { path, create: false })
  assert.equal(((await copy.kv().get('x')) as Uint8Array).length, big(2).length)
  await copy.close()
})

test('a vault name or path that is a file, and storage "http": a clear typed error, the file left as it was', async () => {
  const path = tempDir()
  const v = await openVault('src', { path })
  await v.kv().set('a', 1)
  await v.close()
  const archive = await exportVault('src', { path })
  writeFileSync(join(path, 'afile'), 'mine')
  const notFolder = (e: unknown) => e instanceof InvalidArgumentError && /a file, not a folder/.test((e as Error).message)
  await assert.rejects(importVault('afile', archive, { path }), notFolder)
  await assert.rejects(importVault('afile', archive, { path, replace: true }), notFolder)
  await assert.rejects(exportVault('afile', { path }), notFolder)
  for (const under of [join(path, 'afile'), join(path, 'afile', 'deeper')]) {
    await assert.rejects(importVault('x', archive, { path: under }), notFolder, under)
    await assert.rejects(exportVault('x', { path: under }), notFolder, under)
  }
  assert.equal(readFileSync(join(path, 'afile'), 'utf8'), 'mine')
  // A static host is read-only, and a vault there is named by its URL: neither is a vault name's error.
  await assert.rejects(importVault('x', archive, { storage: 'http' } as never), UnsupportedError)
  await assert.rejects(exportVault('https://example.org/vaults/lab/', { storage: 'http' } as never), UnsupportedError)
})

test('an archive whose manifests are made to check out but hold fields no labvault writes is refused, nothing written', async () => {
  const path = tempDir()
  const v = await openVault('src', { path })
  await v.kv().set('a', 1)
  await v.close()
  const all = unzipSync(await exportVault('src', { path }))
  const [headerName, ...names] = Object.keys(all)
  const header = JSON.parse(new TextDecoder().decode(all[headerName!]!)) as { files: { path: string; size: number; sha256: string }[] }
  const sha256 = async (b: Uint8Array) => Buffer.from(await crypto.subtle.digest('SHA-256', b as Uint8Array<ArrayBuffer>)).toString('hex')
  /** The export with both manifests changed by `edit`, every checksum (slot CRC, header SHA-256) made to match. */
  const withManifest = async (edit: (m: Manifest) => Manifest): Promise<Uint8Array> => {
    const files: Zippable = {}
    const listed = []
    for (const name of names) {
      const bytes = name.startsWith('manifest-') ? encodeManifest(edit(decodeManifest(all[name])!)) : all[name]!
      files[name] = bytes
      listed.push({ path: name, size: bytes.length, sha256: await sha256(bytes) })
    }
    return zipSync({ [headerName!]: new TextEncoder().encode(JSON.stringify({ ...header, files: listed })), ...files })
  }
  const cases: [string, (m: Manifest) => Manifest, RegExp][] = [
    // Imported and opened before; then every write after the import was acknowledged and gone at the next open.
    ['a negative baseSeq', (m) => ({ ...m, baseSeq: -5 }), /baseSeq -5/],
    ['a fractional baseSeq', (m) => ({ ...m, baseSeq: 1.5 }), /baseSeq 1.5/],
    ['an author that is no string', (m) => ({ ...m, author: { x: 1 } as never }), /author is object/],
    ['a createdAt that is no date', (m) => ({ ...m, createdAt: 'soon' }), /createdAt "soon"/],
  ]
  for (const [what, edit, message] of cases) {
    await assert.rejects(importVault('crafted', await withManifest(edit), { path }), (e) => e instanceof InvalidArgumentError && message.test((e as Error).message), what)
    assert.deepEqual(existsSync(join(path, 'crafted')) ? readdirSync(join(path, 'crafted')) : [], [], `${what}: nothing was written`)
  }
  // The same archive untouched imports (the edits, not the re-zipping, are what is refused).
  await importVault('crafted', await withManifest((m) => m), { path })
  const copy = await openVault('crafted', { path, create: false })
  assert.equal(await copy.kv().get('a'), 1)
  await copy.close()
})

/** The vault `src` under `path` exports neither whole nor streamed, stored or deflated: CorruptionError naming the damage. */
async function exportRefusedAsDamaged(path: string): Promise<void> {
  for (const level of [0, 1] as const) {
    await assert.rejects(exportVault('src', { path, level }), (e) => e instanceof CorruptionError && /damaged/.test((e as Error).message), `level ${level}`)
    const stream = await exportVault('src', { path, level, as: 'stream' })
    await assert.rejects(new Response(stream).arrayBuffer(), (e) => e instanceof CorruptionError, `level ${level}, streamed`)
  }
}

test('a blob damaged on disk stops its export with CorruptionError (before, the export succeeded and only its import failed)', async () => {
  const path = tempDir()
  const v = await openVault('src', { path })
  await v.kv().set('x', big(6))
  await v.close()
  const blobs = join(path, 'src', 'blobs')
  const [prefix] = readdirSync(blobs)
  const file = join(blobs, prefix!, readdirSync(join(blobs, prefix!))[0]!)
  const bytes = readFileSync(file)
  bytes[1000]! ^= 0xff
  writeFileSync(file, bytes)
  await exportRefusedAsDamaged(path)
})

test('a replacing import that fails over a vault whose manifest is damaged leaves its files as they were: repair still recovers it', async () => {
  const path = tempDir()
  const src = await openVault('src', { path })
  await src.kv().set('who', 'archive')
  await src.close()
  const archive = await exportVault('src', { path })
  const d = await openVault('damaged', { path })
  await d.kv().set('who', 'the damaged vault')
  await d.checkpoint()
  await d.close()
  for (const slot of ['manifest-0', 'manifest-1']) writeFileSync(join(path, 'damaged', slot), 'junk')
  const before = readdirSync(join(path, 'damaged')).map((f) => [f, readFileSync(join(path, 'damaged', f)).toString('base64')])
  // Every entry arrives and is written; the archive is refused at its end (cut in its directory).
  await assert.rejects(importVault('damaged', archive.subarray(0, archive.length - 30), { path, replace: true }), CorruptionError)
  const after = readdirSync(join(path, 'damaged')).map((f) => [f, readFileSync(join(path, 'damaged', f)).toString('base64')])
  assert.deepEqual(after, before, 'the failed import changed no file of the folder (its image was overwritten by the archive\'s)')
  const repaired = await openVault('damaged', { path, create: false, repair: true })
  assert.equal(await repaired.kv().get('who'), 'the damaged vault')
  await repaired.close()
  // And a replacing import that succeeds takes the folder over.
  await importVault('damaged', archive, { path, replace: true })
  const replaced = await openVault('damaged', { path, create: false })
  assert.equal(await replaced.kv().get('who'), 'archive')
  await replaced.close()
})

test('a blob over 16 MiB damaged on disk stops its export with CorruptionError, before its entry goes out (it was not hashed: WebCrypto has no streaming SHA-256)', { timeout: 120_000 }, async () => {
  const path = tempDir()
  const v = await openVault('src', { path })
  // Above MEMORY_ENTRY_BYTES (16 MiB): the writer's two-pass path. Not all one byte, so deflate works.
  const large = new Uint8Array(17 * 1024 * 1024 + 123).map((_, i) => (i * 2654435761) >>> 24)
  await v.kv().set('large', large)
  await v.close()
  const blobs = join(path, 'src', 'blobs')
  const files = readdirSync(blobs).flatMap((p) => readdirSync(join(blobs, p)).map((f) => join(blobs, p, f)))
  const file = files.find((f) => readFileSync(f).length > 16 * 1024 * 1024)
  assert.ok(file, 'the value is one blob file over 16 MiB')
  const bytes = readFileSync(file)
  bytes[bytes.length - 5]! ^= 0x01 // past the first 16 MiB, one bit
  writeFileSync(file, bytes)
  await exportRefusedAsDamaged(path)
})

test('a hand-made archive whose image refers to blobs it does not hold is refused (CorruptionError), nothing written; before, it imported and the reads failed', async () => {
  const path = tempDir()
  const v = await openVault('src', { path })
  await v.kv().set('a', big(3)) // a blob file
  await v.kv().set('b', 'inline')
  await v.close()
  const all = unzipSync(await exportVault('src', { path }))
  const [headerName] = Object.keys(all)
  const header = JSON.parse(new TextDecoder().decode(all[headerName!]!)) as { files: { path: string }[] }
  const blob = header.files.find((f) => f.path.startsWith('blobs/'))!.path
  /** The archive re-zipped, without `drop` (in its header and its entries). */
  const without = (drop: string | undefined): Uint8Array => {
    const files: Zippable = {}
    for (const f of header.files) if (f.path !== drop) files[f.path] = all[f.path]!
    const listed = { ...header, files: header.files.filter((f) => f.path !== drop) }
    return zipSync({ [headerName!]: new TextEncoder().encode(JSON.stringify(listed)), ...files })
  }
  for (const storage of ['fs', new MemoryAdapter()] as const) {
    const where = typeof storage === 'string' ? { path } : { storage }
    await assert.rejects(importVault('lacking', without(blob), where), (e) => e instanceof CorruptionError && /refers to 1 blob\(s\) the archive does not hold/.test((e as Error).message), String(storage))
    if (typeof storage === 'string') assert.deepEqual(existsSync(join(path, 'lacking')) ? readdirSync(join(path, 'lacking')) : [], [], 'nothing was written')
    else assert.deepEqual(await filesOf(storage, 'lacking'), [], 'nothing was written (memory)')
    // The same archive re-zipped with every blob imports and reads back.
    await importVault('whole', without(undefined), where)
    const copy = await openVault('whole', { ...where, create: false })
    assert.deepEqual(await copy.kv().get('a'), big(3))
    await copy.close()
  }
})
