/**
 * lazyServed (src/engine/lazy-domain.ts): a heavy domain's engine half loads on its first call
 * (docs/cold-start.md). Calls made while it loads wait for the one load, in order; a failed load
 * fails those calls and the next call loads again; once loaded a call reaches the object in the
 * same tick. And through the public API: a vault whose lazy domains were never called closes, and
 * reopens with every domain's tables (their schemas are created with the vault, not on first call).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { lazyServed, lazyServedGroup } from '../../src/engine/lazy-domain.js'
import type { CallContext } from '../../src/engine/context.js'
import { openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const ctx = {} as CallContext

class Counter {
  readonly seen: string[] = []
  add(_ctx: CallContext, what: string): string {
    this.seen.push(what)
    return `added ${what}`
  }
}

test('calls made while the engine half loads run once it is loaded, in call order, with one load', async () => {
  let loads = 0
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const lazy = lazyServed({ add: 'write' } as const, async () => {
    loads++
    await gate
    return new Counter()
  })
  const proto = Object.getPrototypeOf(lazy.target) as Record<string, (ctx: CallContext, ...a: unknown[]) => unknown>
  assert.equal(lazy.loaded, undefined)
  const results = [proto.add!.call(lazy.target, ctx, 'a'), proto.add!.call(lazy.target, ctx, 'b'), proto.add!.call(lazy.target, ctx, 'c')]
  release()
  assert.deepEqual(await Promise.all(results), ['added a', 'added b', 'added c'])
  assert.equal(loads, 1)
  assert.deepEqual((lazy.loaded as Counter | undefined)?.seen, ['a', 'b', 'c'])
  // Loaded: the call reaches the object in the same tick (its result is not deferred).
  assert.equal(proto.add!.call(lazy.target, ctx, 'd'), 'added d')
  assert.deepEqual((lazy.loaded as Counter | undefined)?.seen, ['a', 'b', 'c', 'd'])
  // Only the method table's names are served.
  assert.equal(proto.seen, undefined)
})

test('a failed load fails the calls waiting for it, and the next call loads again', async () => {
  let loads = 0
  const lazy = lazyServed({ add: 'write' } as const, async () => {
    if (++loads === 1) throw new Error('chunk did not download')
    return new Counter()
  })
  const add = (Object.getPrototypeOf(lazy.target) as Record<string, (ctx: CallContext, w: string) => unknown>).add!
  await assert.rejects(Promise.resolve(add(ctx, 'a')), /chunk did not download/)
  assert.equal(lazy.loaded, undefined)
  assert.equal(await add(ctx, 'b'), 'added b')
  assert.equal(loads, 2)
  assert.deepEqual((lazy.loaded as Counter | undefined)?.seen, ['b'])
})

test('a group: the first call on any name loads every object once, and calls on all names keep their order', async () => {
  let loads = 0
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const log: string[] = []
  const make = (name: string) => ({ add: (_ctx: CallContext, what: string) => (log.push(`${name}:${what}`), `${name} ${what}`) })
  const group = lazyServedGroup({ a: { add: 'write' }, b: { add: 'write' } } as const, async () => {
    loads++
    await gate
    return { a: make('a'), b: make('b') }
  })
  const addA = (Object.getPrototypeOf(group.targets.a) as Record<string, (ctx: CallContext, w: string) => unknown>).add!
  const addB = (Object.getPrototypeOf(group.targets.b) as Record<string, (ctx: CallContext, w: string) => unknown>).add!
  assert.equal(group.loaded, undefined)
  const results = [addB(ctx, '1'), addA(ctx, '2'), addB(ctx, '3'), addA(ctx, '4')]
  release()
  assert.deepEqual(await Promise.all(results), ['b 1', 'a 2', 'b 3', 'a 4'])
  assert.deepEqual(log, ['b:1', 'a:2', 'b:3', 'a:4'])
  assert.equal(loads, 1)
  // Loaded: every name reaches its object in the same tick.
  assert.equal(addA(ctx, '5'), 'a 5')
  assert.equal(addB(ctx, '6'), 'b 6')
})

test('a group whose load failed fails the waiting calls on every name, and the next call on any name loads again', async () => {
  let loads = 0
  const group = lazyServedGroup({ a: { add: 'write' }, b: { add: 'write' } } as const, async () => {
    if (++loads === 1) throw new Error('chunk did not download')
    return { a: new Counter(), b: new Counter() }
  })
  const addA = (Object.getPrototypeOf(group.targets.a) as Record<string, (ctx: CallContext, w: string) => unknown>).add!
  const addB = (Object.getPrototypeOf(group.targets.b) as Record<string, (ctx: CallContext, w: string) => unknown>).add!
  const first = [Promise.resolve(addA(ctx, 'x')), Promise.resolve(addB(ctx, 'y'))]
  await assert.rejects(first[0]!, /chunk did not download/)
  await assert.rejects(first[1]!, /chunk did not download/)
  assert.equal(loads, 1)
  assert.equal(await addB(ctx, 'z'), 'added z')
  assert.equal(loads, 2)
  const loaded = group.loaded as { a: Counter; b: Counter } | undefined
  assert.deepEqual(loaded?.b.seen, ['z'])
  assert.deepEqual(loaded?.a.seen, [])
})

test('a vault whose item lists and processes were never called reopens with their tables, and they work on first use', async () => {
  const dir = tempDir('labvault-lazy-items-')
  const v = await openVault('v', { storage: 'fs', path: dir })
  await v.kv().set('k', 1)
  await v.close()
  const again = await openVault('v', { storage: 'fs', path: dir })
  try {
    // Unawaited calls on two of the four names while their code loads: they run in call order.
    const created = again.lists.create('docs', { type: 'document' })
    const has = again.lists.has('docs')
    const docs = await created
    assert.equal(await has, true)
    await docs.append('hello world')
    assert.deepEqual((await again.search.text('hello')).map((h) => ('index' in h ? [h.list, h.index] : h)), [['docs', 0]])
    assert.deepEqual(await again.lineage.parents('docs'), [])
    const p = await again.processes.start('job')
    assert.equal((await again.processes.get(p.id))?.name, 'job')
  } finally {
    await again.close()
  }
})

test('a vault whose heavy domains were never called has their tables, and they work on first use after a reopen', async () => {
  const dir = tempDir('labvault-lazy-domain-')
  const v = await openVault('v', { storage: 'fs', path: dir })
  await v.kv().set('k', 1)
  await v.close()
  const again = await openVault('v', { storage: 'fs', path: dir })
  try {
    assert.equal(await again.kv().get('k'), 1)
    const c = await again.columns.create('c', 'i32')
    await c.extend([1, 2, 3])
    assert.deepEqual([...(await c.slice())], [1, 2, 3])
    await again.tables.create('t')
    await again.tables.write('t', [{ x: 1 }], { dtypes: { x: 'i32' } })
    assert.equal((await again.tables.get('t')).table.numRows, 1)
    const run = await again.store.beginRun('r')
    assert.equal(typeof run, 'string')
  } finally {
    await again.close()
  }
})
