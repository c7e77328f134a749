import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { LazyModule, lazyClient, registerClasses, standIn } from '../../src/client/lazy-client.js'
import { UnsupportedError } from '../../src/errors/errors.js'
import { lazyStore } from '../../src/client/lazy-domains.js'
import { Store as RealStore } from '../../src/domains/store/client/store.js'
import { DocumentList, ItemList, openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir()

// The stand-ins that load a domain's client on first use (src/client/lazy-client.ts,
// docs/cold-start.md): what they promise whatever the page or process is.

class Counter {
  private n = 0
  async add(k: number): Promise<number> {
    this.n += k
    return this.n
  }
  async fail(): Promise<never> {
    throw new RangeError('the real method threw')
  }
}

describe('lazy domain clients', () => {
  test('a client that cannot be loaded is UnsupportedError naming it, and the next call loads it again', async () => {
    let attempts = 0
    const module = new LazyModule('the counter client', async () => {
      attempts++
      if (attempts === 1) throw new TypeError('Failed to fetch dynamically imported module')
      return new Counter()
    })
    const counter = lazyClient(module, ['add', 'fail'])
    await assert.rejects(counter.add(1), (err: unknown) => err instanceof UnsupportedError && /the counter client/.test(err.message) && /Failed to fetch/.test(err.message))
    assert.equal(module.loaded, undefined)
    // Methods run on the loaded client (`this` is the client), in call order, once loaded.
    assert.deepEqual(await Promise.all([counter.add(2), counter.add(3)]), [2, 5])
    assert.equal(attempts, 2)
    assert.ok((module.loaded as object | undefined) instanceof Counter)
    assert.equal(await counter.add(1), 6)
    // An error of the real method is the caller's, unchanged.
    await assert.rejects(counter.fail(), RangeError)
  })

  test("a stand-in's instanceof holds exactly for the real class's instances, once its module loaded", () => {
    class Real {}
    class Sub extends Real {}
    const RealStandIn = standIn<typeof Real>('LazyTestReal')
    assert.equal(new Sub() instanceof RealStandIn, false, 'nothing registered yet')
    registerClasses({ LazyTestReal: Real, notAClass: 42 })
    assert.equal(new Sub() instanceof RealStandIn, true)
    assert.equal(Object.create(new Real()) instanceof RealStandIn, true, 'a guarded facade (prototype is the instance)')
    assert.equal({} instanceof RealStandIn, false)
    assert.equal((null as object | null) instanceof RealStandIn, false)
    assert.equal(RealStandIn.name, 'LazyTestReal')
  })

  test("a vault's domain accessors are stand-ins; the handles they give are the real classes", async () => {
    const v = await openVault('lazy-stand-ins', { storage: 'fs', path: dir })
    try {
      assert.equal(v.columns, v.columns, 'one stand-in per vault')
      assert.equal(v.columns.cacheEnabled, false)
      v.columns.enableCache({ flushThreshold: 1024 })
      assert.equal(v.columns.cacheEnabled, true, 'enableCache before the client loaded is remembered')
      const c = await v.columns.create('c', 'i32')
      await c.append(7)
      await v.columns.disableCache()
      assert.deepEqual([...(await c.slice())], [7])
      const docs = await v.lists.create('docs', { type: 'document' })
      assert.ok(docs instanceof DocumentList && docs instanceof ItemList)
      const artifacts = v.tables.artifacts('missing')
      await assert.rejects(artifacts.list(), (err: unknown) => (err as Error).name === 'NotFoundError')
    } finally {
      await v.close()
    }
  })

  test("the store's stand-ins (their names taken from the store's method table) forward only the real client's methods, each once", async () => {
    // Which public methods they must forward is checked at compile time (CoversAll, src/client/lazy-domains.ts);
    // that each name they forward exists on the real client, here.
    const v = await openVault('lazy-store-names', { storage: 'fs', path: dir })
    try {
      const caller = (v as unknown as { _domainCaller: never })._domainCaller
      const standIn = lazyStore(caller, { guard: (o) => o, optimize: undefined })
      const store = new RealStore(caller, { guard: (o) => o, optimize: undefined })
      const pairs: [string, object, object][] = [['store', standIn, store], ['store.arrays', standIn.arrays, store.arrays], ['store.projects', standIn.projects, store.projects]]
      for (const [what, lazy, real] of pairs) {
        const names = Object.keys(lazy).filter((n) => typeof (lazy as Record<string, unknown>)[n] === 'function')
        assert.ok(names.length >= 4, `${what}: its stand-in forwards methods`)
        assert.equal(new Set(names).size, names.length, `${what}: a name twice`)
        for (const n of names) assert.equal(typeof (real as Record<string, unknown>)[n], 'function', `${what}.${n} is no method of the real client`)
      }
      // And it works: a call through the stand-in reaches the loaded client.
      assert.deepEqual(await standIn.schemaVersion(), await store.schemaVersion())
      assert.deepEqual(await standIn.projects.list(), [])
    } finally {
      await v.close()
    }
  })

  test('stand-ins of one module keep call order across them, also for a call made as the load settles', async () => {
    const log: string[] = []
    class Named {
      constructor(private readonly tag: string) {}
      async add(k: number): Promise<void> {
        log.push(`${this.tag}${k}`)
      }
    }
    type Pair = { x: Named; y: Named }
    let open!: (pair: Pair) => void
    const loaded = new Promise<Pair>((resolve) => (open = resolve))
    const module = new LazyModule('the pair', () => loaded)
    const x = lazyClient(module, ['add'], undefined, undefined, (pair) => pair.x)
    const y = lazyClient(module, ['add'], undefined, undefined, (pair) => pair.y)
    const calls = [y.add(1), x.add(2), y.add(3)]
    // A call made once the module has its value (this runs right after LazyModule took it) but
    // before the calls queued behind the load ran: it must not overtake them.
    const late = loaded.then(() => x.add(4))
    open({ x: new Named('x'), y: new Named('y') })
    await Promise.all([...calls, late])
    assert.deepEqual(log, ['y1', 'x2', 'y3', 'x4'])
    assert.equal(await x.add(5), undefined)
    assert.deepEqual(log.at(-1), 'x5', 'once loaded and nothing waits, a call runs at once')
  })
})
