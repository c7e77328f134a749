// Stopping an execution while one builder call is in flight, and closing the vault around table
// operations that run as processes. Before: the run's abort (ctx.signal) fired only at a progress
// report or a builder's end, so `execute({ signal })`, `processes.stop(id, { force: true })` and
// close() waited for the call to return by itself (for ever, for a call that waits on ctx.signal);
// a table operation given a processId and issued before close() was rejected with ClosedError and
// not applied; and close() during `execute({ onProgress })` crashed Node with an unhandled
// ClosedError. (Found by probing as a careless user would.)
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { InvalidArgumentError, openVault, StoppedError, type Vault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-tables-abort-')

/** What the builders saw (they run in this process, in the engine). */
const seen = globalThis as unknown as { labvaultAbortSeen?: string[]; labvaultCalled?: string[] }

/**
 * Table `name`: an index of two rows and column `c`, whose builder waits for `ctx.signal` (recording
 * that it saw it) or, with `deaf`, ignores it and waits 10 minutes.
 */
async function waitingTable(vault: Vault, name: string, deaf = false): Promise<void> {
  await vault.code.create(
    `m_${name}`,
    `export const idx = () => ({ id: [1, 2] })
export const listens = (a, ctx) => new Promise((resolve, reject) => (globalThis.labvaultCalled ??= []).push(${JSON.stringify(name)}) && ctx.signal.addEventListener('abort', () => {
  ;(globalThis.labvaultAbortSeen ??= []).push(${JSON.stringify(name)})
  reject(ctx.signal.reason)
}))
export const deaf = () => (globalThis.labvaultCalled ??= []).push(${JSON.stringify(name)}) && new Promise((resolve) => setTimeout(() => resolve(1), 600000).unref())
`,
  )
  await vault.tables.create(name)
  await vault.tables.createInstance(name)
  await vault.tables.builders.create(name, `${name}_index`, { changedColumns: ['id'], function: { module: `m_${name}`, export: 'idx' } })
  await vault.tables.builders.create(name, 'c', { changedColumns: ['c'], function: { module: `m_${name}`, export: deaf ? 'deaf' : 'listens' } })
}

/** Resolves once process `id` runs (its status is stored as running). */
async function processRunning(vault: Vault, id: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const p = await vault.processes.get(id).catch(() => undefined)
    if (p?.status === 'running') return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`process ${id} never ran`)
}

/**
 * Resolves once table `name`'s builder `c` has been called (it records the call): a fixed
 * wait instead (150 or 400 ms) ran out before the call on a loaded machine, and the abort came before
 * the builder could see it.
 */
async function builderCalled(name: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (seen.labvaultCalled?.includes(name)) return
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`the builder of ${name} was never called`)
}

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
before(() => process.on('unhandledRejection', onUnhandled))
after(() => process.off('unhandledRejection', onUnhandled))

test("execute's signal reaches a builder call in flight (ctx.signal), and the call rejects with the signal's reason; nothing is kept", { timeout: 60_000 }, async () => {
  const vault = await openVault('signal', { storage: 'fs', path: dir })
  await waitingTable(vault, 'listening')
  const controller = new AbortController()
  const reason = new Error('user abort')
  const running = vault.tables.execute('listening', { signal: controller.signal })
  const outcome = running.then(() => 'resolved', (err: unknown) => err)
  await builderCalled('listening')
  controller.abort(reason)
  assert.equal(await outcome, reason)
  assert.deepEqual(seen.labvaultAbortSeen?.filter((n) => n === 'listening'), ['listening'], 'the builder saw ctx.signal abort')
  assert.equal((await vault.tables.instances('listening')).filter((i) => !i.temporary).length, 0)
  await vault.close()
})

test('processes.stop(id, { force: true }) ends an execution at once, also while a builder call ignores ctx.signal', { timeout: 60_000 }, async () => {
  const vault = await openVault('force', { storage: 'fs', path: dir })
  await waitingTable(vault, 'deaf', true)
  const processId = await vault.processes.newId()
  const outcome = vault.tables.execute('deaf', { processId }).then(() => 'resolved', (err: unknown) => err)
  await processRunning(vault, processId)
  await builderCalled('deaf')
  await vault.processes.stop(processId, { force: true })
  // The call would return after 10 minutes: the execution did not wait for it.
  const err = await outcome
  assert.ok(err instanceof StoppedError, `rejected with StoppedError, got ${String(err)}`)
  assert.equal((await vault.processes.get(processId)).status, 'stopped')
  assert.deepEqual(await vault.tables.locks(), [], 'its lock is let go')
  await vault.close()
})

test('close() during a background execute whose builder call waits on ctx.signal: the call is told, close resolves, and the run is left paused', { timeout: 60_000 }, async () => {
  const open = () => openVault('close-listening', { storage: 'fs', path: dir })
  const vault = await open()
  await waitingTable(vault, 'closing')
  const { processId } = await vault.tables.execute('closing', { background: true })
  await processRunning(vault, processId)
  await builderCalled('closing')
  await vault.close()
  assert.ok(seen.labvaultAbortSeen?.includes('closing'), 'the builder saw ctx.signal abort')
  const again = await open()
  assert.equal((await again.processes.get(processId)).status, 'paused')
  await again.close()
})

test('a table operation given a processId and issued before close() is applied, and its promise resolves; close() during execute({ onProgress }) leaves no unhandled rejection', { timeout: 60_000 }, async () => {
  const open = () => openVault('drain', { storage: 'fs', path: dir })
  const vault = await open()
  const processId = await vault.processes.newId()
  const created = vault.tables.create('with_pid', { processId })
  const plain = vault.tables.create('without_pid')
  await vault.close()
  assert.equal((await created).processId, processId)
  await plain
  const again = await open()
  assert.deepEqual((await again.tables.list()).map((t) => t.name).sort(), ['with_pid', 'without_pid'])
  // An execute given onProgress (so it runs as a process of this client) and closed at once.
  await again.code.create('m', 'export const idx = () => ({ id: [1, 2, 3] })\nexport const slow = async (a) => { await new Promise((r) => setTimeout(r, 20)); return a.id }\n')
  await again.tables.create('t')
  await again.tables.createInstance('t')
  await again.tables.builders.create('t', 't_index', { changedColumns: ['id'], function: { module: 'm', export: 'idx' } })
  await again.tables.builders.create('t', 'c', { changedColumns: ['c'], function: { module: 'm', export: 'slow' }, arguments: { id: '<<self.id[index]>>' } })
  const running = again.tables.execute('t', { onProgress: () => {} }).then(() => 'resolved', (err: { name?: string }) => String(err?.name))
  await again.close()
  // Issued before close(): it runs to its end (or stops as the vault closes), either way settled.
  assert.match(await running, /^(resolved|ClosedError)$/)
  await new Promise((r) => setTimeout(r, 300))
  assert.deepEqual(unhandled, [], 'no unhandled rejection')
})

/** `promise` settled within `ms`, else 'pending'. */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> => Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms).unref())])

test("execute's signal and close() are not held up by a code module whose import never settles, or an async generator stuck in a step", { timeout: 60_000 }, async () => {
  for (const stuck of ['import', 'generator'] as const) {
    const vault = await openVault(`stuck-${stuck}`, { storage: 'fs', path: dir })
    // A top-level await that never settles (the module text is new to this realm, so it is imported here).
    const source = stuck === 'import'
      ? `await new Promise(() => {})\nexport const idx = () => ({ id: [1, 2] }) // ${Math.random()}\n`
      : 'export const idx = () => ({ id: [1, 2] })\nexport async function* g() { yield 1; await new Promise(() => {}); yield 2 }\n'
    await vault.code.create('m', source)
    await vault.tables.create('t')
    await vault.tables.createInstance('t')
    await vault.tables.builders.create('t', 't_index', { changedColumns: ['id'], function: { module: 'm', export: 'idx' } })
    if (stuck === 'generator') await vault.tables.builders.create('t', 'g', { changedColumns: ['g'], returnType: 'generator', function: { module: 'm', export: 'g' } })
    const controller = new AbortController()
    const reason = new Error(`abort ${stuck}`)
    const outcome = vault.tables.execute('t', { signal: controller.signal }).then(() => 'resolved', (err: unknown) => err)
    await new Promise((r) => setTimeout(r, 500))
    controller.abort(reason)
    // Before the fix: still pending (the execution waited on the import, or on the generator's return).
    assert.equal(await within(outcome, 5000), reason, stuck)
    assert.equal((await vault.tables.instances('t')).length, 0)
    assert.deepEqual(await vault.tables.locks(), [])
    assert.equal(await within(vault.close(), 5000), undefined, `${stuck}: close() resolves`)
  }
})

test("an onProgress that throws (or rejects) does not end the process or the execution; a signal that is no AbortSignal is InvalidArgumentError and runs nothing", { timeout: 60_000 }, async () => {
  const vault = await openVault('progress-throws', { storage: 'fs', path: dir })
  try {
    await vault.code.create('m', 'export const idx = () => ({ id: [1, 2, 3] })\nexport const slow = async (a) => { await new Promise((r) => setTimeout(r, 40)); return a.id * 2 }\n')
    for (const t of ['sync', 'async']) {
      await vault.tables.create(t)
      await vault.tables.createInstance(t)
      await vault.tables.builders.create(t, `${t}_index`, { changedColumns: ['id'], function: { module: 'm', export: 'idx' } })
      await vault.tables.builders.create(t, 'c', { changedColumns: ['c'], function: { module: 'm', export: 'slow' }, arguments: { id: '<<self.id[index]>>' } })
    }
    await assert.rejects(vault.tables.execute('sync', { signal: {} as AbortSignal }), InvalidArgumentError)
    assert.equal((await vault.processes.active()).length, 0, 'the refused call started no process')
    let calls = 0
    const outcomes = await Promise.all([
      vault.tables.execute('sync', {
        onProgress: () => {
          calls++
          throw new Error('a bug in the progress bar')
        },
      }),
      vault.tables.execute('async', { onProgress: async () => Promise.reject(new Error('async bug')) }),
    ])
    assert.ok(calls > 0, 'onProgress was called')
    for (const [t, r] of [['sync', outcomes[0]], ['async', outcomes[1]]] as const) {
      const { table } = await vault.tables.get(t, { instanceId: r.instanceId })
      assert.deepEqual([...table.getChild('c')!.toArray()].map(Number), [2, 4, 6])
    }
    await new Promise((r) => setTimeout(r, 300))
    assert.deepEqual(unhandled, [], 'no unhandled rejection')
  } finally {
    await vault.close()
  }
})
