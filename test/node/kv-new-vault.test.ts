import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { MemoryAdapter } from '../../src/node.js'
import { openVaultEngine } from '../../src/domains/registry.js'
import { newVaultRead } from '../../src/domains/kv/shared/kv-new-vault.js'

// A page whose vault does not exist yet answers `kv.get` / `kv.has` itself while the engine opens
// (src/sharing/tabs/tab-sharing.ts, "A new vault"). The guarantee: it answers exactly the calls the
// engine of an empty vault answers, with the same answer, and leaves every other call (a bad
// argument included) to the engine. Checked here against a real engine on an empty vault.

const RUNS = Number(process.env.LABVAULT_PROP_RUNS ?? 300)
const SEED = process.env.LABVAULT_PROP_SEED === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(process.env.LABVAULT_PROP_SEED)

/** Namespaces and keys from the hostile corners: odd Unicode, lone surrogates, prototype names, empty, huge, wrong types. */
const hostileString = fc.oneof(
  fc.constantFrom('', 'default', '__proto__', 'constructor', 'toString', '\u0000', '\uD800', 'a\uDC00', '\u{1F600}', 'e\u0301', '\uFEFF', 'x'.repeat(256), 'x'.repeat(257)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.nat({ max: 70_000 }).map((n) => 'k'.repeat(n)),
)
const hostileKey = fc.oneof(
  hostileString,
  fc.uint8Array({ maxLength: 40 }),
  fc.nat({ max: 70_000 }).map((n) => new Uint8Array(n)),
  fc.constantFrom<unknown>(undefined, null, 42, {}, [], ['a'], new Uint16Array(2), new ArrayBuffer(2), () => 1),
)

test('newVaultRead answers exactly what an empty vault’s engine answers, and nothing the engine would refuse', async () => {
  const engine = await openVaultEngine({ name: 'empty', storage: new MemoryAdapter() })
  try {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('get', 'has'), fc.oneof(hostileString, fc.constantFrom<unknown>(undefined, 1, null)), hostileKey, async (method, ns, key) => {
        const known = newVaultRead(method, [ns, key])
        const engineAnswer = await engine.invoke(null, 'kv', method, [ns, key]).then(
          (value) => ({ ok: true as const, value }),
          (err: Error) => ({ ok: false as const, name: err.name }),
        )
        if (known) assert.deepEqual(engineAnswer, { ok: true, value: known.value })
        else assert.equal(engineAnswer.ok, false, `left to the engine, which answered ${JSON.stringify(engineAnswer)}`)
      }),
      { numRuns: RUNS, seed: SEED },
    )
  } finally {
    await engine.close()
  }
})

test('newVaultRead answers only get and has, with their exact arguments', () => {
  assert.deepEqual(newVaultRead('get', ['default', 'a']), { value: undefined })
  assert.deepEqual(newVaultRead('has', ['default', new Uint8Array([1])]), { value: false })
  for (const method of ['getMany', 'hasAll', 'size', 'keys', 'scan', 'set', 'delete', 'clear', 'streamInfo', '__proto__', 'constructor', undefined]) {
    assert.equal(newVaultRead(method, ['default', 'a']), undefined, String(method))
  }
  assert.equal(newVaultRead('get', ['default', 'a', 'extra']), undefined)
  assert.equal(newVaultRead('get', ['default']), undefined)
  assert.equal(newVaultRead('get', 'not a list'), undefined)
  assert.equal(newVaultRead('get', { 0: 'default', 1: 'a', length: 2 }), undefined)
})
