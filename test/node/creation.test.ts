// A new vault has no image (format 3, docs/format.md "A new vault"): creation writes `log-0.log`
// (header + the creation record holding the schema) and both manifest slots; the first checkpoint
// writes the first image. Checked here:
// - what creation leaves on disk, and that reopening, writing and checkpointing such a vault work;
// - a crash at every mutating storage call of a creation (seeded tears of what was not synced):
//   the next open sees no vault or a valid empty one, never one that cannot open;
// - a second process follows a vault that has no image (opens it, reads another's commits) and
//   catches up across its first checkpoint;
// - the empty slot files a creation makes beside its log: with a torn or missing log, or alone, an
//   abandoned creation (opened anew, deletable); beside a vault's commits, no manifest (CorruptionError);
// - both manifest slots lost: an abandoned creation when the log holds no commit, a CorruptionError
//   (or `repair`, which keeps the commits) when it does;
// - a vault of format 2 (with an image at generation 0) opens unchanged;
// - a never checkpointed vault's folder served by a static host opens read-only (no image fetched);
// - a real process killed (SIGKILL) while it creates vaults one after the other (some opened, their
//   files still being written: test/node/creation-background.test.ts checks that phase with held writes).
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { CorruptionError, NotFoundError, deleteVault, openVault } from '../../src/node.js'
import { MemoryAdapter } from '../../src/storage/memory-adapter.js'
import { decodeManifest, encodeManifest } from '../../src/persistence/manifest.js'
import { FORMAT_VERSION, MANIFEST_SLOTS } from '../../src/persistence/format.js'
import { FaultInjectingAdapter } from '../support/fault-adapter.js'
import { tempDir } from './helpers.js'
import { startChild } from './sharing-helpers.js'
import { startStaticServer } from '../support/static-server.js'
import { startEventChild } from '../support/child-events.js'

const dir = tempDir('labvault-creation-')
const files = (name: string) => readdirSync(join(dir, name)).filter((f) => !f.startsWith('.')).sort()
const manifestOf = (name: string, slot = 0) => decodeManifest(readFileSync(join(dir, name, MANIFEST_SLOTS[slot])))!

describe('a new vault has no image until its first checkpoint', () => {
  test('creation writes the log and both slots; reopen, write and checkpoint work', async () => {
    let v = await openVault('fresh', { storage: 'fs', path: dir, author: 'ana' })
    // The open answers before the creation's files are durable; a write waits for them.
    await v.kv().set('a', 1)
    assert.deepEqual(files('fresh'), ['log-0.log', 'manifest-0', 'manifest-1'])
    for (const slot of [0, 1]) {
      const m = manifestOf('fresh', slot)
      assert.equal(m.formatVersion, FORMAT_VERSION)
      assert.equal(FORMAT_VERSION, 3)
      assert.equal(m.imageSize, 0)
      assert.equal(m.generation, 0)
    }
    assert.equal((await v.info()).recovery.replayedRecords, 0)
    await v.kv().set('b', 'two')
    await v.close()

    v = await openVault('fresh', { storage: 'fs', path: dir })
    assert.equal(await v.kv().get('a'), 1)
    assert.equal((await v.info()).recovery.replayedRecords, 2, 'the creation record is not a commit')
    assert.equal((await v.info()).author, 'ana')
    // Every domain's tables exist (built from the creation record on reopen).
    const list = await v.lists.create('runs', { type: 'document' })
    await list.append('hello')
    await v.checkpoint()
    assert.deepEqual(files('fresh'), ['image-1.sqlite', 'log-1.log', 'manifest-0', 'manifest-1'])
    assert.ok(manifestOf('fresh', 1).imageSize > 0)
    await v.kv().set('c', 3)
    await v.close()

    v = await openVault('fresh', { storage: 'fs', path: dir })
    assert.deepEqual([await v.kv().get('a'), await v.kv().get('b'), await v.kv().get('c')], [1, 'two', 3])
    assert.equal((await v.lists.info('runs')).length, 1)
    await v.close()
  })

  test('a crash at any step of a creation leaves no vault or a valid empty one', async () => {
    // How many mutating calls a creation makes (log write, append, sync, two slots written and synced).
    const probe = new FaultInjectingAdapter(new MemoryAdapter(), { seed: 1 })
    await (await openVault('c', { storage: probe })).close()
    const steps = probe.mutations
    assert.ok(steps >= 5, `a creation made ${steps} mutating calls`)
    const outcomes = new Set<string>()
    for (let crashAt = 1; crashAt <= steps; crashAt++) {
      for (let seed = 1; seed <= 6; seed++) {
        const adapter = new FaultInjectingAdapter(new MemoryAdapter(), { seed: seed * 7919 + crashAt, crashAt, tornProbability: 0.7 })
        const opened = await openVault('c', { storage: adapter }).then(
          (v) => v,
          () => undefined,
        )
        if (opened) {
          // The open answers before the creation's files are durable: the crash may fall during
          // their writing (close then rejects) or after (in close or later).
          await opened.close().catch(() => {})
        }
        const survived = await adapter.afterCrash()
        const where = `crash at call ${crashAt}/${steps}, seed ${seed}`
        const existing = await openVault('c', { storage: survived, create: false }).then(
          (v) => v,
          (err: unknown) => {
            assert.ok(err instanceof NotFoundError, `${where}: ${String(err)}`)
            return undefined
          },
        )
        if (existing) {
          assert.equal(await existing.kv().get('k'), undefined, where)
          await existing.kv().set('k', crashAt)
          await existing.close()
          outcomes.add('empty vault')
        } else outcomes.add('no vault')
        // Either way, opening with create makes a working vault that keeps what is written.
        const v = await openVault('c', { storage: survived })
        await v.kv().set('k2', seed)
        await v.close()
        const again = await openVault('c', { storage: survived, create: false })
        assert.equal(await again.kv().get('k2'), seed, where)
        if (existing) assert.equal(await again.kv().get('k'), crashAt, where)
        await again.close()
      }
    }
    assert.deepEqual([...outcomes].sort(), ['empty vault', 'no vault'], 'both outcomes were reached')
  })

  test('both slots lost: no commit yet is an abandoned creation; commits need repair, which keeps them', async () => {
    let v = await openVault('lost', { storage: 'fs', path: dir })
    await v.close()
    for (const slot of MANIFEST_SLOTS) rmSync(join(dir, 'lost', slot))
    await assert.rejects(openVault('lost', { storage: 'fs', path: dir, create: false }), NotFoundError)

    v = await openVault('lost2', { storage: 'fs', path: dir })
    await v.kv().set('kept', 42)
    await v.close()
    for (const slot of MANIFEST_SLOTS) rmSync(join(dir, 'lost2', slot))
    await assert.rejects(openVault('lost2', { storage: 'fs', path: dir }), CorruptionError)
    assert.deepEqual(files('lost2'), ['log-0.log'], 'nothing was removed or written')
    v = await openVault('lost2', { storage: 'fs', path: dir, repair: true })
    assert.equal(await v.kv().get('kept'), 42)
    assert.match((await v.info()).recovery.repairs.join(' '), /never checkpointed/)
    await v.close()
    v = await openVault('lost2', { storage: 'fs', path: dir })
    assert.equal(await v.kv().get('kept'), 42)
    await v.close()
  })

  test('empty slot files beside a torn, bare or missing log are an abandoned creation; beside commits they are not', async () => {
    let v = await openVault('hdr', { storage: 'fs', path: dir })
    await v.close()
    const log = readFileSync(join(dir, 'hdr', 'log-0.log'))
    // What a crash can leave of a creation: the slots made empty beside the log's first bytes (none, a
    // torn header, the header, a torn record), or before the log's file exists at all.
    const states: Array<[string, Uint8Array | undefined]> = [['no log', undefined], ['empty log', log.subarray(0, 0)], ['torn header', log.subarray(0, 9)], ['header', log.subarray(0, 16)], ['torn record', log.subarray(0, log.length - 3)]]
    for (const [what, bytes] of states) {
      for (const emptySlots of [[0], [1], [0, 1]]) {
        const name = `abandoned-${what.replace(' ', '-')}-${emptySlots.join('')}`
        mkdirSync(join(dir, name), { recursive: true })
        if (bytes) writeFileSync(join(dir, name, 'log-0.log'), bytes)
        for (const s of emptySlots) writeFileSync(join(dir, name, MANIFEST_SLOTS[s]), new Uint8Array(0))
        const where = `${what}, empty slot(s) ${emptySlots.join(', ')}`
        await assert.rejects(openVault(name, { storage: 'fs', path: dir, create: false }), NotFoundError, where)
        const again = await openVault(name, { storage: 'fs', path: dir })
        await again.kv().set('k', what)
        await again.close()
        const reopened = await openVault(name, { storage: 'fs', path: dir, create: false })
        assert.equal(await reopened.kv().get('k'), what, where)
        await reopened.close()
      }
      const lone = `deletable-${what.replace(' ', '-')}`
      mkdirSync(join(dir, lone), { recursive: true })
      if (bytes) writeFileSync(join(dir, lone, 'log-0.log'), bytes)
      for (const s of MANIFEST_SLOTS) writeFileSync(join(dir, lone, s), new Uint8Array(0))
      assert.equal(await deleteVault(lone, { storage: 'fs', path: dir }), true, what)
      assert.equal(existsSync(join(dir, lone)) && files(lone).length > 0, false, what)
    }

    // A vault with a commit whose slots were emptied is no creation: CorruptionError, nothing removed.
    v = await openVault('committed', { storage: 'fs', path: dir })
    await v.kv().set('kept', 1)
    await v.close()
    for (const s of MANIFEST_SLOTS) writeFileSync(join(dir, 'committed', s), new Uint8Array(0))
    await assert.rejects(openVault('committed', { storage: 'fs', path: dir }), CorruptionError)
    assert.deepEqual(files('committed'), ['log-0.log', ...MANIFEST_SLOTS].sort())
  })

  test('one slot lost after the first checkpoint removed log-0: the newer generation is found', async () => {
    let v = await openVault('onelost', { storage: 'fs', path: dir })
    await v.kv().set('x', 1)
    await v.checkpoint()
    await v.close()
    // As if slot 1 (generation 1) was lost and slot 0 still named generation 0 (no image).
    rmSync(join(dir, 'onelost', MANIFEST_SLOTS[1]))
    const m = manifestOf('onelost', 0)
    writeFileSync(join(dir, 'onelost', MANIFEST_SLOTS[0]), encodeManifest({ ...m, generation: 0, imageSize: 0, imageCrc: 0, baseSeq: 0 }))
    v = await openVault('onelost', { storage: 'fs', path: dir })
    assert.equal(await v.kv().get('x'), 1)
    await v.close()
  })

  test('another process opens a vault with no image, follows its commits and its first checkpoint', { timeout: 60_000 }, async () => {
    const v = await openVault('follow', { storage: 'fs', path: dir })
    await v.kv().set('before', 1)
    const child = startChild({ dir, name: 'follow', action: 'set' })
    try {
      await child.next('open')
      child.send(JSON.stringify(['fromChild', 'one']))
      await child.next('set')
      assert.equal(await v.kv().get('fromChild'), 'one')
      await v.checkpoint()
      assert.ok(!existsSync(join(dir, 'follow', 'log-0.log')))
      await v.kv().set('afterCheckpoint', 2)
      child.send(JSON.stringify(['second', 'two']))
      await child.next('set')
      assert.equal(await v.kv().get('second'), 'two')
      child.send('quit')
      await child.exited
    } finally {
      await v.close()
    }
    const again = await openVault('follow', { storage: 'fs', path: dir })
    assert.deepEqual([await again.kv().get('before'), await again.kv().get('fromChild'), await again.kv().get('afterCheckpoint'), await again.kv().get('second')], [1, 'one', 2, 'two'])
    await again.close()
  })

  test('a vault of format 2 (an image at generation 0) opens unchanged', async () => {
    // Made as format 2 made it: a checkpointed vault whose files are renamed to generation 0.
    let v = await openVault('old', { storage: 'fs', path: dir })
    await v.kv().set('k', 'v')
    await v.checkpoint()
    await v.close()
    const folder = join(dir, 'old')
    const m = manifestOf('old', 1)
    const log = readFileSync(join(folder, 'log-1.log'))
    log.writeUInt32LE(2, 8)
    log.writeUInt32LE(0, 12)
    writeFileSync(join(folder, 'log-0.log'), log)
    writeFileSync(join(folder, 'image-0.sqlite'), readFileSync(join(folder, 'image-1.sqlite')))
    for (const f of ['log-1.log', 'image-1.sqlite']) rmSync(join(folder, f))
    for (const slot of [0, 1]) writeFileSync(join(folder, MANIFEST_SLOTS[slot]), encodeManifest({ ...m, formatVersion: 2, generation: 0 }))
    const before = new Map(files('old').map((f) => [f, readFileSync(join(folder, f)).toString('hex')]))
    v = await openVault('old', { storage: 'fs', path: dir, readOnly: true })
    assert.equal(await v.kv().get('k'), 'v')
    assert.equal((await v.info()).formatVersion, 2)
    await v.close()
    assert.deepEqual(new Map(files('old').map((f) => [f, readFileSync(join(folder, f)).toString('hex')])), before, 'files unchanged')
    v = await openVault('old', { storage: 'fs', path: dir })
    await v.kv().set('k2', 'v2')
    await v.close()
    v = await openVault('old', { storage: 'fs', path: dir })
    assert.deepEqual([await v.kv().get('k'), await v.kv().get('k2')], ['v', 'v2'])
    assert.equal((await v.info()).formatVersion, 2, 'version 2 until the first checkpoint')
    await v.close()
  })

  test('a never checkpointed vault served by a static host opens read-only (with and without Range)', async () => {
    const v = await openVault('served', { storage: 'fs', path: dir })
    await v.kv().set('hello', 'world')
    await v.close()
    assert.deepEqual(files('served'), ['log-0.log', 'manifest-0', 'manifest-1'])
    for (const range of [true, false]) {
      const server = await startStaticServer(dir, { range })
      try {
        const r = await openVault(`${server.url}served/`, { storage: 'http' })
        assert.equal(await r.kv().get('hello'), 'world')
        assert.ok(!server.requests.some((q) => q.path.includes('image-')), 'no image is fetched')
        await r.close()
      } finally {
        await server.close()
      }
    }
  })

  test('a process killed while creating vaults leaves each one absent or valid, and those it closed valid', { timeout: 120_000 }, async () => {
    const outcomes = new Set<string>()
    for (let round = 0; round < 4; round++) {
      const killDir = join(dir, `killed-${round}`)
      const child = startEventChild(new URL('./fixtures/creation-child.ts', import.meta.url).pathname, { dir: killDir }, { timeoutMs: 60_000 })
      const created = new Set<number>()
      // Opened, its files maybe still being written (the open answers before they are durable).
      const opened = new Set<number>()
      let started = -1
      child.proc.stdout!.on('data', (d: Buffer) => {
        for (const line of d.toString().split('\n')) {
          const m = /"event":"(opening|opened|created)","i":(\d+)/.exec(line)
          if (m?.[1] === 'created') created.add(Number(m[2]))
          else if (m?.[1] === 'opened') opened.add(Number(m[2]))
          else if (m) started = Math.max(started, Number(m[2]))
        }
      })
      await child.next('created') // warm: sql.js loaded, the next creations are quick
      await new Promise((r) => setTimeout(r, 5 + round * 17))
      child.proc.kill('SIGKILL')
      await child.exited
      for (let i = 0; i <= started; i++) {
        const where = `round ${round}, vault c${i} (${created.has(i) ? 'durable' : opened.has(i) ? 'opened, files being written' : 'in creation'} at the kill)`
        const v = await openVault(`c${i}`, { storage: 'fs', path: killDir, create: false }).catch((err: unknown) => {
          assert.ok(err instanceof NotFoundError && !created.has(i), `${where}: ${String(err)}`)
          return undefined
        })
        outcomes.add(v ? 'valid' : 'absent')
        if (v) {
          assert.equal(await v.kv().get('k'), undefined, where)
          await v.close()
        }
        const again = await openVault(`c${i}`, { storage: 'fs', path: killDir })
        await again.kv().set('k', i)
        await again.close()
      }
    }
    assert.ok(outcomes.has('valid'), 'some vaults were complete')
    console.log(`killed while creating: ${[...outcomes].join(' and ')} vaults found`)
  })
})
