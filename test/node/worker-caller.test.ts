import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { ClosedError, InvalidArgumentError, NotFoundError, UnsupportedError, VaultError } from '../../src/errors/errors.js'
import { workerCaller, type CallerEndpoint, type WorkerCaller } from '../../src/protocol/worker-caller.js'
import { Moving, serveCalls, type ServingEndpoint } from '../../src/worker/serve-calls.js'

// The page's caller (src/protocol/worker-caller.ts) against the worker's side
// (src/worker/serve-calls.ts), as the engine's worker runs it (workers/vault.worker.ts): typed
// errors, order, transfers, stray messages, and any value round-tripping exactly.

/** What the tests' "worker" serves. */
class Service {
  echo<T>(value: T): T {
    return value
  }
  add(a: number, b: number): number {
    return a + b
  }
  /** Answers after `ms`: a later call can be answered first. */
  async later(ms: number, value: string): Promise<string> {
    await new Promise((r) => setTimeout(r, ms))
    return value
  }
  size(bytes: Uint8Array): number {
    return bytes.byteLength
  }
  /** `n` bytes, moved to the caller (kept: copied). */
  bytes(n: number, keep: boolean): Uint8Array | Moving {
    const b = new Uint8Array(n).fill(5)
    this.made.push(b)
    return keep ? b : new Moving(b, [b.buffer])
  }
  made: Uint8Array[] = []
  missing(key: string): never {
    throw new NotFoundError(`key "${key}" not found`)
  }
  async refuse(): Promise<never> {
    throw new InvalidArgumentError('argument "x" is bad')
  }
  plain(): never {
    throw 'a string, not an Error'
  }
  seen: number[] = []
  record(n: number): number {
    this.seen.push(n)
    return this.seen.length
  }
  fn(): () => void {
    return () => {}
  }
  /** Not among the served methods. */
  secret(): string {
    return 'secret'
  }
}

const SERVED = ['echo', 'add', 'later', 'size', 'bytes', 'missing', 'refuse', 'plain', 'record', 'fn'] as const

function pair(): { service: Service; caller: WorkerCaller<Service>; port: MessagePort; other: MessagePort } {
  const { port1, port2 } = new MessageChannel()
  const service = new Service()
  serveCalls(port2 as unknown as ServingEndpoint, service, SERVED)
  return { service, caller: workerCaller<Service>(port1 as unknown as CallerEndpoint), port: port1, other: port2 }
}

function close(...ports: MessagePort[]): void {
  for (const p of ports) p.close()
}

test('calls reach the served object and resolve to its results', async () => {
  const { caller, port, other } = pair()
  assert.equal(await caller.call('add', [2, 3]), 5)
  assert.deepEqual(await caller.call('echo', [{ a: [1, 'x'], b: new Map([[1, 2]]) }]), { a: [1, 'x'], b: new Map([[1, 2]]) })
  assert.equal(await caller.call('echo', [undefined]), undefined)
  close(port, other)
})

test('many concurrent calls arrive in order and each gets its own reply, also out of order', async () => {
  const { service, caller, port, other } = pair()
  const records = Array.from({ length: 500 }, (_, i) => caller.call('record', [i]))
  const slow = caller.call('later', [40, 'slow'])
  const fast = caller.call('later', [0, 'fast'])
  const order: string[] = []
  await Promise.all([slow.then((v) => order.push(v)), fast.then((v) => order.push(v))])
  assert.deepEqual(order, ['fast', 'slow'], 'the second call was answered first')
  assert.deepEqual(await Promise.all(records), Array.from({ length: 500 }, (_, i) => i + 1))
  assert.deepEqual(service.seen, Array.from({ length: 500 }, (_, i) => i))
  close(port, other)
})

test('a transferred buffer moves, both ways: detached on the sender, whole on the receiver', async () => {
  const { service, caller, port, other } = pair()
  const bytes = new Uint8Array(1 << 16).fill(7)
  assert.equal(await caller.call('size', [bytes], [bytes.buffer]), 1 << 16)
  assert.equal(bytes.byteLength, 0, 'the sender no longer has the buffer')
  const kept = new Uint8Array(8)
  assert.equal(await caller.call('size', [kept]), 8)
  assert.equal(kept.byteLength, 8, 'without a transfer list it is copied')
  // A result wrapped in Moving moves back; one not wrapped is copied.
  const moved = (await caller.call('bytes', [1000, false])) as Uint8Array
  assert.deepEqual(moved, new Uint8Array(1000).fill(5))
  assert.equal(service.made[0]!.byteLength, 0, 'the worker no longer has a moved result')
  const copied = (await caller.call('bytes', [10, true])) as Uint8Array
  assert.deepEqual(copied, new Uint8Array(10).fill(5))
  assert.equal(service.made[1]!.byteLength, 10, 'a result not moved stays whole in the worker')
  close(port, other)
})

test('errors come back typed: instanceof, code, message, the engine-side stack', async () => {
  const { caller, port, other } = pair()
  const err = await caller.call('missing', ['lr']).then(
    () => assert.fail('resolved'),
    (e: unknown) => e,
  )
  assert.ok(err instanceof NotFoundError)
  assert.ok(err instanceof VaultError)
  assert.equal(err.code, 'NOT_FOUND')
  assert.equal(err.message, 'key "lr" not found')
  assert.match(err.stack ?? '', /in the vault engine/)
  await assert.rejects(caller.call('refuse', []), (e: unknown) => e instanceof InvalidArgumentError && e.message === 'argument "x" is bad')
  await assert.rejects(caller.call('plain', []), (e: unknown) => e instanceof Error && e.message === 'a string, not an Error')
  // A result structured clone refuses: answered with a TypeError, never left unanswered.
  await assert.rejects(caller.call('fn', []), (e: unknown) => e instanceof TypeError && /answer could not be sent/.test(e.message))
  // An argument structured clone refuses: nothing is sent, the call rejects, the next call works.
  await assert.rejects(caller.call('echo', [() => 1]), (e: unknown) => e instanceof Error && e.name === 'DataCloneError')
  assert.equal(await caller.call('add', [1, 1]), 2)
  close(port, other)
})

test('only the served methods can be called: any other name is a TypeError, and nothing runs', async () => {
  const { caller, port, other } = pair()
  const call = caller.call as (method: string, args: unknown[]) => Promise<unknown>
  for (const name of ['secret', 'constructor', '__proto__', 'toString', 'made', '']) {
    await assert.rejects(call(name, []), (e: unknown) => e instanceof TypeError && /has no method/.test(e.message), name)
  }
  assert.equal(await caller.call('add', [2, 2]), 4)
  close(port, other)
})

test('answers whose id is not pending, and stray messages, are ignored on both sides', async () => {
  const { caller, port, other } = pair()
  const pending = caller.call('later', [20, 'real'])
  // Forged answers from the other side: ids never used, not a number, null, a non-array.
  other.postMessage([999, 0, 'forged'])
  other.postMessage(['nope', 1, { name: 'Error', message: 'forged' }])
  other.postMessage(null)
  other.postMessage(42)
  other.postMessage({ id: 1, type: 'RAW', value: 'an object, not an answer' })
  // Stray messages to the serving side: not calls, no answer (the caller would ignore one anyway).
  port.postMessage({ labvaultBoot: true })
  port.postMessage('hello')
  assert.equal(await pending, 'real')
  // An answer to a pending call in a form the page does not read: the call rejects, typed, rather than hang.
  const odd = caller.call('later', [50, 'never taken'])
  other.postMessage([2, 7, 'neither a result nor an error'])
  await assert.rejects(odd, (e: unknown) => e instanceof UnsupportedError && /unknown form/.test(e.message))
  // The same id answered twice: the second answer is not taken for a later call.
  const first = caller.call('add', [1, 2])
  assert.equal(await first, 3)
  other.postMessage([3, 0, 'late duplicate'])
  assert.equal(await caller.call('add', [2, 2]), 4)
  close(port, other)
})

test('fail() rejects every call in flight and later calls with the error given; release() stops', async () => {
  const { caller, port, other } = pair()
  const inFlight = [caller.call('later', [30, 'a']), caller.call('later', [30, 'b'])]
  const gone = new ClosedError('worker gone')
  caller.fail(gone)
  for (const p of inFlight) await assert.rejects(p, (e) => e === gone)
  await assert.rejects(caller.call('add', [1, 2]), (e) => e === gone)
  close(port, other)

  const second = pair()
  assert.equal(await second.caller.call('add', [1, 2]), 3)
  second.caller.release()
  await assert.rejects(second.caller.call('add', [1, 2]), (e: unknown) => e instanceof ClosedError)
  close(second.port, second.other)
})

test('against a real worker thread: calls, typed errors, transfers both ways', async () => {
  // The fixture is TypeScript: the thread registers tsx's loader before importing it.
  const fixture = new URL('./fixtures/serve-calls-worker.ts', import.meta.url).href
  const worker = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(fixture)}) })`, { eval: true })
  // A Node worker as the page's endpoint: messages arrive as events whose `data` is the message.
  const listeners = new Map<(e: MessageEvent) => void, (data: unknown) => void>()
  const endpoint: CallerEndpoint = {
    postMessage: (message, transfer) => worker.postMessage(message, transfer as never),
    addEventListener: (_type, listener) => {
      const on = (data: unknown) => listener({ data } as MessageEvent)
      listeners.set(listener, on)
      worker.on('message', on)
    },
    removeEventListener: (_type, listener) => {
      const on = listeners.get(listener)
      if (on) worker.off('message', on)
    },
  }
  try {
    type Remote = { mul(a: number, b: number): number; len(u: Uint8Array): number; fail(): never; bytes(n: number): Uint8Array }
    const caller = workerCaller<Remote>(endpoint)
    const products = await Promise.all(Array.from({ length: 50 }, (_, i) => caller.call('mul', [i, 3])))
    assert.deepEqual(products, Array.from({ length: 50 }, (_, i) => i * 3))
    const u = new Uint8Array(1000)
    assert.equal(await caller.call('len', [u], [u.buffer]), 1000)
    assert.equal(u.byteLength, 0)
    assert.deepEqual(await caller.call('bytes', [64]), new Uint8Array(64).fill(9))
    await assert.rejects(caller.call('fail', []), (e: unknown) => e instanceof NotFoundError && e.message === 'no such key')
  } finally {
    await worker.terminate()
  }
})

// ---------------------------------------------------------------------------------------------
// Any value comes back exactly as sent: structured clone's copy, whole (property test).

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 150)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const hostileString = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: fc.constantFrom('a', 'é', '\0', '😀', '\u{10FFFF}', '\uFFFD', '\uD800', '\uDFFF', '\u2028'), maxLength: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'then', '', 'toString', 'hasOwnProperty') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
)
const leaf = fc.oneof(
  hostileString,
  fc.double(),
  fc.constantFrom(-0, NaN, Infinity, -Infinity, 2 ** 53, 5e-324, null, undefined, true, false, 0n, -(2n ** 64n)),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 16 }),
  fc.constantFrom(0, 1, 1 << 20).map((n) => new Float64Array(n).fill(1.5)),
  fc.float32Array({ maxLength: 6 }),
  fc.bigInt64Array({ maxLength: 3 }),
)
const valueArb = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object'), tie('map'), tie('set')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  // Own `__proto__`, `constructor` … keys, as JSON.parse makes them: structured clone keeps them as data.
  object: fc.array(fc.tuple(hostileString, tie('value')), { maxLength: 5 }).map((entries) => {
    const o: Record<string, unknown> = {}
    for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
    return o
  }),
  map: fc.array(fc.tuple(fc.oneof(hostileString, fc.integer()), tie('value')), { maxLength: 4 }).map((e) => new Map(e)),
  set: fc.array(fc.oneof(hostileString, fc.double()), { maxLength: 4 }).map((e) => new Set(e)),
})).value
/** Deep nesting, beyond what the recursive arbitrary draws. */
const deepArb = fc.tuple(fc.integer({ min: 50, max: 400 }), leaf).map(([depth, inner]) => {
  let v: unknown = inner
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { d: v }
  return v
})

/** Stands for an invalid Date in {@link comparable}: unique, and no symbol survives structured clone. */
const INVALID_DATE = Symbol('invalid Date')

/**
 * `v` with each invalid Date (`new Date(NaN)`) replaced by {@link INVALID_DATE}, all else kept
 * (structure, keys such as `__proto__`, prototypes of plain objects): Node 20's deepStrictEqual
 * compares Dates by getTime() with ===, so two invalid Dates never compare equal, and a seed that
 * drew one failed although the value came back exactly.
 */
function comparable(v: unknown): unknown {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? INVALID_DATE : v
  if (Array.isArray(v)) return v.map(comparable)
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [comparable(k), comparable(x)]))
  if (v instanceof Set) return new Set([...v].map(comparable))
  if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) return v
  const out = Object.create(Object.getPrototypeOf(v)) as object
  for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: comparable((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true })
  return out
}

test('an invalid Date comes back as an invalid Date, at any depth (the property below compares them through comparable())', async () => {
  const mine = pair()
  try {
    let deep: unknown = new Date(NaN)
    for (let i = 0; i < 60; i++) deep = i % 2 ? [deep] : { d: deep }
    const back = await mine.caller.call('echo', [[new Date(NaN), { d: new Date(NaN) }, new Map([['k', new Date(NaN)]]), deep]])
    const [top, inObject, inMap, nested] = back as [Date, { d: Date }, Map<string, Date>, unknown]
    for (const d of [top, inObject.d, inMap.get('k')!]) assert.ok(d instanceof Date && Number.isNaN(d.getTime()))
    let inner = nested
    for (let i = 59; i >= 0; i--) inner = i % 2 ? (inner as unknown[])[0] : (inner as { d: unknown }).d
    assert.ok(inner instanceof Date && Number.isNaN(inner.getTime()))
    assert.deepStrictEqual(comparable(back), comparable([new Date(NaN), { d: new Date(NaN) }, new Map([['k', new Date(NaN)]]), deep]))
    // comparable() still tells an invalid Date from a valid one.
    assert.notDeepStrictEqual(comparable([new Date(NaN)]), comparable([new Date(0)]))
  } finally {
    close(mine.port, mine.other)
  }
})

test(`any argument and result round-trips exactly (seed ${SEED}, ${RUNS} runs)`, async () => {
  const mine = pair()
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof({ weight: 5, arbitrary: valueArb }, { weight: 1, arbitrary: deepArb }), { minLength: 0, maxLength: 3 }), async (args) => {
        for (const value of args) {
          const viaCaller = comparable(await mine.caller.call('echo', [value]))
          assert.deepStrictEqual(viaCaller, comparable(structuredClone(value)))
          assert.deepStrictEqual(viaCaller, comparable(value))
        }
        // Several at once, as the page's calls go: each answer to its own call.
        assert.deepStrictEqual(comparable(await Promise.all(args.map((value) => mine.caller.call('echo', [value])))), comparable(args))
      }),
      { seed: SEED, numRuns: RUNS },
    )
  } finally {
    close(mine.port, mine.other)
  }
})
