/**
 * The opening conformance suite: what `openVault` gives besides the domains (closing with
 * `await using`, the `logger` option), through the public API, the same cases in Node (memory, fs),
 * through the worker in Chromium (OPFS, IndexedDB) and from a follower tab (see ./vault-conformance.ts).
 */
import { check, equal, rejects } from './assert.js'
import type { VaultConformanceCase } from './vault-conformance.js'

/** Every case of the suite, in a stable order. */
export const openingConformanceCases: VaultConformanceCase[] = [
  {
    name: 'vault[Symbol.asyncDispose]() closes the vault; what was written before stays',
    async run({ lib, open }) {
      const vault = await open()
      check(typeof vault[Symbol.asyncDispose] === 'function', 'a Vault has a Symbol.asyncDispose method')
      await vault.kv().set('kept', 1)
      await vault[Symbol.asyncDispose]()
      check(vault.isClosed, 'isClosed after disposal')
      await rejects(vault.kv().get('kept'), lib.ClosedError, 'a call after disposal')
      await vault[Symbol.asyncDispose]() // idempotent, as close()
      const again = await open()
      equal(await again.kv().get('kept'), 1, 'the value written before disposal')
    },
  },
  {
    name: '`await using` closes the vault when the block ends, also when it throws',
    async run({ lib, open }) {
      let held: Awaited<ReturnType<typeof open>> | undefined
      {
        await using vault = await open()
        held = vault
        await vault.kv().set('a', 'x')
      }
      check(held.isClosed, 'closed at the end of the block')
      await rejects(held.kv().get('a'), lib.ClosedError, 'a call after the block')
      const boom = new Error('boom')
      let caught: unknown
      try {
        await using vault = await open()
        held = vault
        await vault.kv().set('b', 'y')
        throw boom
      } catch (err) {
        caught = err
      }
      check(caught === boom, 'the block’s own error comes out')
      check(held.isClosed, 'closed when the block throws')
      const again = await open()
      equal(await again.kv().getMany(['a', 'b']), new Map([['a', 'x'], ['b', 'y']]), 'both writes kept')
    },
  },
]
