/**
 * Calls made on `vault.tables` take effect in the order they are made, even unawaited: a write
 * stores its columns in the blob store first, and a read or write made after it must not run
 * before it (docs/tables.md, "Call order"). Seeded rounds of unawaited writes, describes and reads
 * (instances, get, descriptions, info), checked against a model that applies them in call order;
 * memory and fs.
 *
 * LABVAULT_PROP_RUNS runs (default 4); a failure prints its seed, LABVAULT_PROP_SEED=<seed> replays it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { deleteVault, openVault, type LocationOptions, type Vault } from '../../src/node.js'
import { mulberry32 } from '../support/prng.js'
import { tempDir } from './helpers.js'

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 4)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

const dir = tempDir('labvault-tables-order-')
const backends: [string, LocationOptions][] = [
  ['memory', { storage: 'memory' }],
  ['fs', { storage: 'fs', path: dir }],
]

interface Model {
  /** Rows of each materialised instance of table t, oldest first. */
  instances: number[]
  description: string
}

type Step = { what: string; issue: (v: Vault) => Promise<unknown>; expect: (m: Model) => unknown }

function step(rand: () => number, round: number, i: number): Step {
  const r = rand()
  if (r < 0.35) {
    // Sometimes large enough that its column blob takes a while.
    const rows = rand() < 0.3 ? 50_000 + i : 1 + Math.floor(rand() * 5)
    const a = Float64Array.from({ length: rows }, (_, k) => k + round)
    return {
      what: `write(${rows} rows)`,
      issue: async (v) => (await v.tables.write('t', { a })) && 'ok',
      expect: (m) => {
        m.instances.push(rows)
        return 'ok'
      },
    }
  }
  if (r < 0.45) {
    const text = `d${round}.${i}`
    return {
      what: `describe(${text})`,
      issue: async (v) => (await v.tables.describe('t', text)) && 'ok',
      expect: (m) => {
        m.description = text
        return 'ok'
      },
    }
  }
  if (r < 0.65) return { what: 'instances().length', issue: async (v) => (await v.tables.instances('t')).length, expect: (m) => m.instances.length }
  if (r < 0.85) {
    return {
      what: 'get().numRows',
      issue: (v) => v.tables.get('t').then((g) => g.table.numRows, (e: Error) => e.name),
      expect: (m) => m.instances.at(-1) ?? 'NotFoundError',
    }
  }
  return { what: 'descriptions().table', issue: async (v) => (await v.tables.descriptions('t')).table, expect: (m) => m.description }
}

let n = 0
for (const [backend, location] of backends) {
  test(`unawaited calls on vault.tables take effect in call order: ${backend} (seed ${SEED}, ${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer(), async (seed) => {
        const name = `tables-order-${++n}`
        const v = await openVault(name, location)
        try {
          await v.tables.create('t')
          const rand = mulberry32(seed)
          const model: Model = { instances: [], description: '' }
          for (let round = 0; round < 3; round++) {
            const plan = Array.from({ length: 12 }, (_, i) => step(rand, round, i))
            const results = await Promise.allSettled(plan.map((s) => s.issue(v)))
            plan.forEach((s, i) => {
              const res = results[i]!
              const got = res.status === 'fulfilled' ? res.value : `rejected: ${String(res.reason)}`
              assert.equal(got, s.expect(model), `seed ${seed} round ${round}: call ${i} ${s.what}\n  calls: ${plan.map((p) => p.what).join('; ')}`)
            })
          }
        } finally {
          await v.close()
          await deleteVault(name, location)
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
    )
  })
}

for (const [backend, location] of backends) {
  test(`a get issued before a deleteInstance or a delete of its table reads the instance: ${backend}`, async () => {
    const name = `tables-order-delete-${++n}`
    {
      const w = await openVault(name, location)
      await w.tables.create('t')
      await w.tables.write('t', { x: [1, 2, 3], s: ['a', 'b', 'c'] })
      await w.close()
    }
    for (const remove of ['deleteInstance', 'delete'] as const) {
      // A fresh handle: nothing cached on the calling side, so get asks the engine for the bytes.
      const v = await openVault(name, location)
      const { instanceId } = (await v.tables.instances('t'))[0]!
      const read = v.tables.get('t')
      const removed = remove === 'deleteInstance' ? v.tables.deleteInstance('t', instanceId) : v.tables.delete('t')
      // Before the fix: NotFoundError "no stored column has hash ..." (the instance was gone when
      // the second half of the read asked for its columns).
      const { table } = await read
      await removed
      assert.deepEqual(table.toArray().map((r) => r.toJSON()), [{ x: 1, s: 'a' }, { x: 2, s: 'b' }, { x: 3, s: 'c' }])
      if (remove === 'deleteInstance') await v.tables.write('t', { x: [1, 2, 3], s: ['a', 'b', 'c'] })
      await v.close()
    }
    await deleteVault(name, location)
  })
}

for (const [backend, location] of backends) {
  test(`a get issued before a deleteInstance and a checkpoint reads the instance (or finds it gone), never a report of damage: ${backend}`, async () => {
    const name = `tables-order-collected-${++n}`
    {
      const w = await openVault(name, location)
      await w.tables.create('t')
      await w.tables.write('t', { x: [1, 2, 3] })
      await w.close()
    }
    const v = await openVault(name, location)
    const { instanceId } = (await v.tables.instances('t'))[0]!
    const read = v.tables.get('t').then(
      (r) => ({ rows: r.table.numRows }),
      (err: Error) => ({ error: err.name }),
    )
    await v.tables.deleteInstance('t', instanceId)
    await v.checkpoint()
    // The checkpoint runs before the read's second call (columnBytes): the columns are read while
    // their blobs are still there, else found gone (NotFoundError); never CorruptionError.
    const outcome = await read
    assert.ok('rows' in outcome ? outcome.rows === 3 : outcome.error === 'NotFoundError', JSON.stringify(outcome))
    assert.deepEqual(await v.integrityCheck(), ['ok'])
    await v.close()
    await deleteVault(name, location)
  })
}
