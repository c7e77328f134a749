import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { expose, wrap, type Remote } from 'comlink'
import fc from 'fast-check'
import { ClosedError, InvalidArgumentError, NotFoundError, VaultError } from '../../src/errors/errors.js'
import { comlinkCaller, type CallerEndpoint, type ComlinkCaller } from '../../src/protocol/comlink-caller.js'
import { installErrorTransfer } from '../../src/protocol/error-transfer.js'

// The page's caller (src/protocol/comlink-caller.ts) against comlink's real `expose`, as the
// engine's worker runs it (workers/vault.worker.ts): same wire format, typed errors, order, transfers.

installErrorTransfer()

/** What the tests' "worker" exposes. */
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
}

function pair(): { service: Service; caller: ComlinkCaller<Service>; port: MessagePort; other: MessagePort } {
  const { port1, port2 } = new MessageChannel()
  const service = new Service()
  expose(service, port2)
  return { service, caller: comlinkCaller<Service>(port1 as unknown as CallerEndpoint), port: port1, other: port2 }
}

function close(...ports: MessagePort[]): void {
  for (const p of ports) p.close()
}

test('calls reach the exposed object and resolve to its results', async () => {
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

test('a transferred buffer moves: detached on the sender, whole on the receiver', async () => {
  const { caller, port, other } = pair()
  const bytes = new Uint8Array(1 << 16).fill(7)
  assert.equal(await caller.call('size', [bytes], [bytes.buffer]), 1 << 16)
  assert.equal(bytes.byteLength, 0, 'the sender no longer has the buffer')
  const kept = new Uint8Array(8)
  assert.equal(await caller.call('size', [kept]), 8)
  assert.equal(kept.byteLength, 8, 'without a transfer list it is copied')
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
  // A result structured clone refuses: comlink's expose reports it as a thrown TypeError.
  await assert.rejects(caller.call('fn', []), (e: unknown) => e instanceof TypeError && /Unserializable/.test(e.message))
  // An argument structured clone refuses: nothing is sent, the call rejects, the next call works.
  await assert.rejects(caller.call('echo', [() => 1]), (e: unknown) => e instanceof Error && e.name === 'DataCloneError')
  assert.equal(await caller.call('add', [1, 1]), 2)
  close(port, other)
})

test('replies whose id is not pending, and stray messages, are ignored', async () => {
  const { caller, port, other } = pair()
  const pending = caller.call('later', [20, 'real'])
  // Forged replies from the other side: ids never used, null, a non-object, no id at all.
  other.postMessage({ id: 999, type: 'RAW', value: 'forged' })
  other.postMessage({ id: 'nope', type: 'HANDLER', name: 'throw', value: { name: 'Error', message: 'forged' } })
  other.postMessage(null)
  other.postMessage(42)
  other.postMessage({ type: 'RAW', value: 'no id' })
  assert.equal(await pending, 'real')
  // The same id answered twice: the second answer is not taken for a later call.
  const first = caller.call('add', [1, 2])
  assert.equal(await first, 3)
  other.postMessage({ id: 2, type: 'RAW', value: 'late duplicate' })
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

test('against a real worker thread (comlink node adapter): calls, typed errors, transfers', async () => {
  const source = `
    const { parentPort } = require('node:worker_threads')
    import('comlink').then(async ({ expose, transferHandlers }) => {
      const { default: nodeEndpoint } = await import('comlink/dist/esm/node-adapter.mjs')
      // The page reads errors in the form the engine's worker sends (src/protocol/error-transfer.ts).
      transferHandlers.set('throw', {
        canHandle: (v) => typeof v === 'object' && v !== null && Object.getOwnPropertySymbols(v).some((s) => s.description === 'Comlink.thrown'),
        serialize: ({ value }) => [{ name: value.name, message: value.message, code: value.code }, []],
        deserialize: () => {},
      })
      expose({
        mul: (a, b) => a * b,
        len: (u) => u.byteLength,
        fail: () => { const e = new Error('no such key'); e.name = 'NotFoundError'; e.code = 'NOT_FOUND'; throw e },
      }, nodeEndpoint(parentPort))
    })`
  // comlink's node adapter (its file ships no declarations for this path: typed here).
  const adapter = 'comlink/dist/esm/node-adapter.mjs'
  const { default: nodeEndpoint } = (await import(adapter)) as { default: (w: Worker) => unknown }
  const worker = new Worker(source, { eval: true })
  try {
    type Remote = { mul(a: number, b: number): number; len(u: Uint8Array): number; fail(): never }
    const caller = comlinkCaller<Remote>(nodeEndpoint(worker) as unknown as CallerEndpoint)
    const products = await Promise.all(Array.from({ length: 50 }, (_, i) => caller.call('mul', [i, 3])))
    assert.deepEqual(products, Array.from({ length: 50 }, (_, i) => i * 3))
    const u = new Uint8Array(1000)
    assert.equal(await caller.call('len', [u], [u.buffer]), 1000)
    assert.equal(u.byteLength, 0)
    await assert.rejects(caller.call('fail', []), (e: unknown) => e instanceof NotFoundError && e.message === 'no such key')
  } finally {
    await worker.terminate()
  }
})

// ---------------------------------------------------------------------------------------------
// Any value comes back exactly as comlink's own `wrap` gives it back (property test).

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

test(`any argument and result round-trips exactly as with comlink's wrap (seed ${SEED}, ${RUNS} runs)`, async () => {
  const mine = pair()
  const theirs = new MessageChannel()
  expose(new Service(), theirs.port2)
  const wrapped: Remote<Service> = wrap<Service>(theirs.port1)
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof({ weight: 5, arbitrary: valueArb }, { weight: 1, arbitrary: deepArb }), { minLength: 0, maxLength: 3 }), async (args) => {
        for (const value of args) {
          const viaCaller = await mine.caller.call('echo', [value])
          const viaWrap = await wrapped.echo(value)
          assert.deepStrictEqual(viaCaller, viaWrap)
          assert.deepStrictEqual(viaCaller, value)
        }
      }),
      { seed: SEED, numRuns: RUNS },
    )
  } finally {
    close(mine.port, mine.other, theirs.port1, theirs.port2)
  }
})
