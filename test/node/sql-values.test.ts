import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { openVault } from '../../src/node.js'

// How values reach the kv relation's JSON text.

describe('kv values as JSON text', () => {
  test('BigInt64Array elements beyond 2^53 keep every digit (as strings), safe ones are numbers', async () => {
    const v = await openVault('sql-values-bigint64', { storage: 'memory' })
    try {
      await v.kv().set('big', new BigInt64Array([1n, 2n ** 53n + 1n, -(2n ** 63n)]))
      await v.kv().set('ubig', new BigUint64Array([2n ** 64n - 1n]))
      await v.kv().set('plain', 2n ** 60n + 1n)
      const got = (await v.sql('SELECT key, value FROM kv ORDER BY key')).toArray().map((r) => ({ ...r.toJSON() }))
      assert.deepEqual(got, [
        { key: 'big', value: '[1,"9007199254740993","-9223372036854775808"]' },
        { key: 'plain', value: '"1152921504606846977"' },
        { key: 'ubig', value: '["18446744073709551615"]' },
      ])
    } finally {
      await v.close()
    }
  })
})
