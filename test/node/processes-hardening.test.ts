import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError, deleteVault, openVault } from '../../src/node.js'
import { MemoryAdapter } from '../../src/storage/memory-adapter.js'
import { openVaultEngine } from '../../src/domains/registry.js'
import { inProcessPort } from '../../src/client/in-process-port.js'
import { Vault } from '../../src/client/vault.js'
import type { SqliteDatabase } from '../../src/sqlite/sqlite-database.js'
import { tempDir } from './helpers.js'

// Processes against what a careless or hostile caller does (see also processes.test.ts).

const dir = tempDir('labvault-processes-hard-')
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A memory adapter whose appends (the log's commits) fail while `failing` is set. */
class FailingAppends extends MemoryAdapter {
  failing = false
  override async append(path: string, data: Uint8Array): Promise<number> {
    if (this.failing) throw new Error('disk unplugged')
    return super.append(path, data)
  }
}

test('openVault with readOnly and restart: InvalidArgumentError naming both, before anything is opened (it opened, then failed with UnsupportedError and left the handle open)', async () => {
  const v = await openVault('ro-restart', { storage: 'fs', path: dir })
  await v.kv().set('k', 1)
  await v.close()
  await assert.rejects(openVault('ro-restart', { storage: 'fs', path: dir, readOnly: true, restart: true }), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, String(err))
    assert.match(err.message, /readOnly/)
    assert.match(err.message, /restart/)
    return true
  })
  // Nothing was left open: the vault can be deleted.
  assert.equal(await deleteVault('ro-restart', { storage: 'fs', path: dir }), true)
  // Each alone is fine.
  const w = await openVault('ro-restart2', { storage: 'fs', path: dir, restart: true })
  await w.close()
  const r = await openVault('ro-restart2', { storage: 'fs', path: dir, readOnly: true })
  await r.close()
})

test('a restart whose recovery fails rejects the open and leaves no handle open behind (the vault stayed open in this process: deleteVault refused it)', async () => {
  const adapter = new FailingAppends()
  const v = await openVault('afteropen', { storage: adapter, processLeaseMs: 20 })
  await v.processes.start('left-behind')
  await v.close() // stops renewing: the process crashes once its lease ends
  await sleep(60)
  adapter.failing = true
  await assert.rejects(openVault('afteropen', { storage: adapter, restart: true }), /disk unplugged/)
  adapter.failing = false
  assert.equal(await deleteVault('afteropen', { storage: adapter }), true)
})

test("holders' lease rows do not pile up: expired ones are removed when a process starts or crashed ones are recovered (every Vault that ever ran a process left its row for good)", async () => {
  const engine = await openVaultEngine({ name: 'holders', storage: new MemoryAdapter(), processLeaseMs: 200 })
  const db = (engine as unknown as { files: { db: SqliteDatabase } }).files.db
  const holders = () => db.all('SELECT id FROM process_holders ORDER BY id').map((r) => r[0] as string)
  const handle = () => new Vault(inProcessPort(engine), 'holders')
  // Ten holders run a process each and go away without leave(); the last one crashes.
  let crashed = ''
  for (let i = 0; i < 10; i++) {
    const v = handle()
    const p = await v.processes.start(`batch-${i}`)
    if (i < 9) await p.done()
    else crashed = p.id
    v.processes._close()
  }
  await sleep(500) // every lease ended more than a lease ago
  const crashedInfo = await handle().processes.get(crashed)
  assert.equal(crashedInfo.status, 'crashed')
  const next = handle()
  const q = await next.processes.start('next')
  // Only the holder that runs something now is left; the crashed process still shows as crashed.
  assert.deepEqual(holders(), [next.processes.holder])
  assert.equal((await next.processes.get(crashed)).status, 'crashed')
  assert.ok((await next.processes.recover()).some((r) => r.id === crashed))
  await q.done()
  next.processes._close()
  await sleep(500)
  // Recovery removes expired rows too (here: the last holder's).
  assert.deepEqual(await handle().processes.recover(), [])
  assert.deepEqual(holders(), [])
  await engine.close()
})

test('progress and journal state that JSON would change silently (NaN, ±Infinity → null; Map, Set, typed arrays), from the client or reaching the engine: InvalidArgumentError naming where, nothing written', async () => {
  const engine = await openVaultEngine({ name: 'json', storage: new MemoryAdapter() })
  const v = new Vault(inProcessPort(engine), 'json')
  const p = await v.processes.start('train')
  await p.checkpoint({ loss: 0.5 })
  const entry = await p.begin('op', { state: { step: 1 } })
  const before = await v.processes.get(p.id)
  // What the page's client sends as it is (a worker's structured clone keeps NaN and Maps).
  const call = (method: string, args: unknown[]) => engine.invoke(null, 'processes', method, args)
  const holder = v.processes.holder
  const bad: [string, unknown[], RegExp][] = [
    ['checkpoint', [p.id, holder, { loss: NaN }, Date.now()], /progress\.loss is NaN/],
    ['checkpoint', [p.id, holder, { curve: [1, Infinity] }, Date.now()], /progress\.curve\[1\] is Infinity/],
    ['checkpoint', [p.id, holder, -Infinity, Date.now()], /progress is -Infinity/],
    ['checkpoint', [p.id, holder, { seen: new Set([1]) }, Date.now()], /progress\.seen is a Set/],
    ['done', [p.id, holder, { best: NaN }, Date.now()], /progress\.best is NaN/],
    ['done', [p.id, holder, { w: new Float32Array(2) }, Date.now()], /progress\.w is a Float32Array/],
    ['begin', [p.id, holder, 'op2', { state: { m: new Map() } }, Date.now()], /journal state\.m is a Map/],
    ['note', [p.id, holder, entry, { lr: NaN }], /journal state\.lr is NaN/],
  ]
  for (const [method, args, message] of bad) {
    await assert.rejects(call(method, args), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, `${method}: ${String(err)}`)
      assert.match(err.message, message)
      return true
    })
  }
  // Through the client too: its JSON snapshot turned the NaN into null before the engine saw it.
  const viaClient: [() => Promise<unknown>, RegExp][] = [
    [() => p.checkpoint({ loss: NaN }), /progress\.loss is NaN/],
    [() => p.done({ curve: [1, Infinity] }), /progress\.curve\[1\] is Infinity/],
    [() => p.begin('op3', { state: { lr: NaN } }), /journal state\.lr is NaN/],
    [() => p.note(entry, { seen: new Set([1]) }), /journal state\.seen is a Set/],
  ]
  for (const [run, message] of viaClient) {
    await assert.rejects(run(), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, String(err))
      assert.match(err.message, message)
      return true
    })
  }
  const after = await v.processes.get(p.id)
  assert.equal(after.status, 'running')
  assert.equal(after.checkpoints, before.checkpoints)
  assert.deepEqual(after.progress, { loss: 0.5 })
  assert.deepEqual(after.inFlight, before.inFlight)
  // JSON's other rules stand: -0 is 0, a Date its ISO text.
  await call('checkpoint', [p.id, holder, { z: -0, at: new Date(0) }, Date.now()])
  assert.deepEqual((await v.processes.get(p.id)).progress, { z: 0, at: '1970-01-01T00:00:00.000Z' })
  await p.done()
  await engine.close()
})

test('begin with options that are not { keys, state, onCrash } (a misspelt option, null, a string) or a key that is not { ns, key }: InvalidArgumentError, nothing begun (a typo began an operation that snapshotted nothing, so a rollback restored nothing)', async () => {
  const v = await openVault('begin-opts', { storage: 'fs', path: dir })
  await v.kv('settings').set('lr', 1)
  const p = await v.processes.start('w')
  const bad: unknown[] = [
    { key: [{ key: 'lr' }] }, // keys, misspelt
    { keys: [{ namespace: 'settings', key: 'lr' }] }, // ns, misspelt: the default namespace's "lr" was snapshotted
    { keys: [['settings', 'lr']] },
    { oncrash: 'resume' },
    JSON.parse('{"__proto__": {"keys": []}}'),
    null,
    'settings/lr',
    [],
  ]
  for (const options of bad) await assert.rejects(p.begin('rewrite', options as never), InvalidArgumentError, JSON.stringify(options))
  assert.deepEqual((await v.processes.get(p.id)).inFlight, [])
  // The well-formed ones still work, and roll back what they named.
  await p.begin('rewrite', { keys: [{ ns: 'settings', key: 'lr' }], state: { step: 0 }, onCrash: 'rollback' })
  await p.begin('plain')
  await p.begin('plain', undefined)
  await v.kv('settings').set('lr', 2)
  await p.fail('gave up')
  assert.equal(await v.kv('settings').get('lr'), 1)
  await v.close()
})

test('fail() with an error whose text cannot be read (its toString throws) still fails the process', async () => {
  // Found by probing: String(err) threw before the call, so fail() rejected with that plain Error
  // and the process went on running (its heartbeat too) although its code had given up.
  const v = await openVault('fail-text', { storage: 'fs', path: dir })
  const p = await v.processes.start('train')
  const hostile = { toString: () => { throw new Error('no text') } }
  await p.fail(hostile)
  const info = await v.processes.get(p.id)
  assert.equal(info.status, 'failed')
  assert.equal(info.error, 'an error whose text could not be read')
  await v.close()
})

test('progress and journal state over 64 KiB of JSON (docs/processes.md): InvalidArgumentError, from the client or reaching the engine, nothing written (a huge value was stored and sent back by every get and list)', async () => {
  const LIMIT = 65_536 // bytes of UTF-8 JSON text, as docs/processes.md states
  const engine = await openVaultEngine({ name: 'json-size', storage: new MemoryAdapter() })
  const v = new Vault(inProcessPort(engine), 'json-size')
  const p = await v.processes.start('train')
  await p.checkpoint({ loss: 0.5 })
  const entry = await p.begin('op', { state: { step: 1 } })
  const before = await v.processes.get(p.id)
  const call = (method: string, args: unknown[]) => engine.invoke(null, 'processes', method, args)
  const holder = v.processes.holder
  // Each just over the limit: a string (JSON adds its two quotes), an array of numbers, a string of
  // two-byte characters (its UTF-8 is what is stored), a value whose toJSON makes the text.
  const overString = 'x'.repeat(LIMIT - 1)
  const overArray = new Array<number>(LIMIT / 2).fill(0) // "[0,0,…]": 2 × n + 1 characters
  const overUtf8 = 'é'.repeat(LIMIT / 2)
  const overToJson = { toJSON: () => 'y'.repeat(LIMIT) }
  const bad: [string, unknown[]][] = [
    ['checkpoint', [p.id, holder, overString, Date.now()]],
    ['checkpoint', [p.id, holder, { curve: overArray }, Date.now()]],
    ['checkpoint', [p.id, holder, { text: overUtf8 }, Date.now()]],
    ['done', [p.id, holder, overToJson, Date.now()]],
    ['begin', [p.id, holder, 'op2', { state: overString }, Date.now()]],
    ['note', [p.id, holder, entry, { curve: overArray }]],
  ]
  const refused = (where: RegExp) => (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, String(err))
    assert.match(err.message, where)
    assert.match(err.message, /65536/)
    return true
  }
  for (const [method, args] of bad) await assert.rejects(call(method, args), refused(method === 'begin' || method === 'note' ? /journal state/ : /progress/))
  const viaClient: (() => Promise<unknown>)[] = [
    () => p.checkpoint(overString),
    () => p.checkpoint({ text: overUtf8 }),
    () => p.done({ curve: overArray }),
    () => p.begin('op3', { state: overToJson }),
    () => p.note(entry, overString),
  ]
  for (const run of viaClient) await assert.rejects(run(), refused(/progress|journal state/))
  const after = await v.processes.get(p.id)
  assert.equal(after.status, 'running')
  assert.equal(after.checkpoints, before.checkpoints)
  assert.deepEqual(after.progress, { loss: 0.5 })
  assert.deepEqual(after.inFlight, before.inFlight)
  // At the limit exactly, it is kept.
  const atLimit = 'x'.repeat(LIMIT - 2)
  await p.checkpoint(atLimit)
  await p.note(entry, atLimit)
  const kept = await v.processes.get(p.id)
  assert.equal(kept.progress, atLimit)
  assert.equal(kept.inFlight[0]!.state, atLimit)
  await p.done()
  await engine.close()
})

test('stop (not forced) of a paused process from processes.start: stopped when stop() resolves: its journal rolled back (or kept with materialize), its waiting checkpoint rejects with StoppedError', async () => {
  const engine = await openVaultEngine({ name: 'stop-paused', storage: new MemoryAdapter() })
  const v = new Vault(inProcessPort(engine), 'stop-paused')
  for (const materialize of [false, true]) {
    await v.kv().set('lr', 1)
    const p = await v.processes.start('train')
    await p.begin('rewrite', { keys: [{ key: 'lr' }] })
    await v.kv().set('lr', 2)
    await v.processes.pause(p.id)
    const waiting = p.checkpoint()
    waiting.catch(() => {})
    for (let i = 0; i < 500 && (await v.processes.get(p.id)).status !== 'paused'; i++) await sleep(5)
    await v.processes.stop(p.id, { materialize })
    const info = await v.processes.get(p.id)
    assert.equal(info.status, 'stopped', 'stopped when stop() resolved')
    assert.equal(info.request, null)
    assert.deepEqual(info.inFlight, [])
    assert.equal(await v.kv().get('lr'), materialize ? 2 : 1, materialize ? 'kept' : 'rolled back')
    await assert.rejects(waiting, (err: unknown) => (err as { code?: string }).code === 'STOPPED')
  }
  v.processes._close()
  await engine.close()
})
