/**
 * lazyServed (src/engine/lazy-domain.ts): a heavy domain's engine half loads on its first call
 * (docs/cold-start.md). Calls made while it loads wait for the one load, in order; a failed load
 * fails those calls and the next call loads again; once loaded a call reaches the object in the
 * same tick. And through the public API: a vault whose lazy domains were never called closes, and
 * reopens with every domain's tables (their schemas are created with the vault, not on first call).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { lazyServed } from '../../src/engine/lazy-domain.js'
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
