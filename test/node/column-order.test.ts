/**
 * Calls made in order on one column handle take effect in that order, even unawaited: a read sees
 * every write issued before it and none issued after it (docs/columns.md, "Call order"). Seeded
 * rounds of unawaited appends, extends, sets, inserts, deletes, clears and reads, with and without
 * the write cache, checked against a plain array that applies them in call order; memory and fs.
 *
 * LABVAULT_PROP_RUNS runs (default 8); a failure prints its seed, LABVAULT_PROP_SEED=<seed> replays it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { deleteVault, openVault, type LocationOptions } from '../../src/node.js'
import { tempDir } from './helpers.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 8)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const dir = tempDir('labvault-column-order-')
const backends: [string, LocationOptions][] = [
  ['memory', { storage: 'memory' }],
  ['fs', { storage: 'fs', path: dir }],
]

type Op =
  | { op: 'append'; v: number }
  | { op: 'extend'; vs: number[] }
  | { op: 'set' | 'insert'; i: number; v: number }
  | { op: 'delete' | 'get'; i: number }
  | { op: 'slice' | 'length' | 'clear' | 'flush' }

const value = fc.integer({ min: -1000, max: 1000 })
const index = fc.integer({ min: -4, max: 6 })
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('append' as const), v: value }),
  fc.record({ op: fc.constant('extend' as const), vs: fc.array(value, { maxLength: 4 }) }),
  fc.record({ op: fc.constantFrom('set' as const, 'insert' as const), i: index, v: value }),
  fc.record({ op: fc.constantFrom('delete' as const, 'get' as const), i: index }),
  fc.record({ op: fc.constantFrom('slice' as const, 'length' as const, 'flush' as const) }),
  fc.record({ op: fc.constant('clear' as const) }),
)

/** What the model answers for one call ('RangeError' where the index is out of range). */
function applyToModel(model: number[], o: Op): unknown {
  const at = (i: number): number | undefined => {
    const k = i < 0 ? model.length + i : i
    return k >= 0 && k < model.length ? k : undefined
  }
  switch (o.op) {
    case 'append':
      model.push(o.v)
      return undefined
    case 'extend':
      model.push(...o.vs)
      return undefined
    case 'set': {
      const k = at(o.i)
      if (k === undefined) return 'RangeError'
      model[k] = o.v
      return undefined
    }
    case 'insert': {
      const k = o.i < 0 ? model.length + o.i : o.i
      if (k < 0 || k > model.length) return 'RangeError'
      model.splice(k, 0, o.v)
      return undefined
    }
    case 'delete': {
      const k = at(o.i)
      if (k === undefined) return 'RangeError'
      model.splice(k, 1)
      return undefined
    }
    case 'get': {
      const k = at(o.i)
      return k === undefined ? 'RangeError' : model[k]
    }
    case 'slice':
      return [...model]
    case 'length':
      return model.length
    case 'clear':
      model.length = 0
      return undefined
    case 'flush':
      return undefined
  }
}

let n = 0
for (const [backend, location] of backends) {
  for (const cached of [false, true]) {
    test(`unawaited calls on one column take effect in call order: ${backend}${cached ? ', write cache on' : ''} (seed ${SEED}, ${RUNS} runs)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
          const name = `corder-${++n}`
          const v = await openVault(name, location)
          try {
            const col = await v.columns.create('c', 'i32')
            await col.extend([1, 2, 3])
            if (cached) col.enableCache({})
            const model = [1, 2, 3]
            const expected = ops.map((o) => applyToModel(model, o))
            const calls = ops.map((o): Promise<unknown> => {
              switch (o.op) {
                case 'append': return col.append(o.v)
                case 'extend': return col.extend(o.vs)
                case 'set': return col.set(o.i, o.v)
                case 'insert': return col.insert(o.i, o.v)
                case 'delete': return col.delete(o.i)
                case 'get': return col.get(o.i)
                case 'slice': return col.slice().then((a) => [...(a as Int32Array)])
                case 'length': return col.length()
                case 'clear': return col.clear()
                case 'flush': return col.flush()
              }
            })
            const got = await Promise.all(calls.map((p) => p.then((r) => r, (e: Error) => (e instanceof RangeError ? 'RangeError' : `unexpected ${e.name}: ${e.message}`))))
            assert.deepEqual(got, expected, JSON.stringify(ops))
            await col.flush()
            assert.deepEqual([...((await col.slice()) as Int32Array)], model)
          } finally {
            await v.close()
            await deleteVault(name, location)
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      )
    })
  }
}
