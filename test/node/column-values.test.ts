// Values a column refuses rather than stores changed, and values it reads back as written. Found by
// probing: an i64 column took a BigUint64Array and wrapped 2^64 − 1 to −1, an f32 column stored
// 1e39 as Infinity, and a str:N:utf16 column of odd N read every short string back as ''.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidArgumentError, openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-column-values-')

test('what a column cannot hold is refused (InvalidArgumentError, nothing written), not wrapped or turned into Infinity', async () => {
  const v = await openVault('refused', { storage: 'fs', path: dir })
  const i64 = await v.columns.create('i64', 'i64')
  await assert.rejects(i64.extend(new BigUint64Array([2n ** 64n - 1n, 2n ** 63n])), InvalidArgumentError)
  await i64.extend(new BigUint64Array([5n, 2n ** 63n - 1n]))
  const f32 = await v.columns.create('f32', 'f32')
  await assert.rejects(f32.append(1e39), InvalidArgumentError)
  await assert.rejects(f32.extend([1, -1e39]), InvalidArgumentError)
  await assert.rejects(f32.extend(new Float64Array([3.5e38])), InvalidArgumentError)
  await f32.extend(new Float64Array([1.5, Infinity, -Infinity, NaN, 3.4e38]))
  const vec = await v.columns.create('vec', 'vec:f32:2')
  await assert.rejects(vec.append([1, 1e39]), InvalidArgumentError)
  await vec.append(new Float64Array([1, 2]))
  await v.close()
  const again = await openVault('refused', { storage: 'fs', path: dir })
  assert.deepEqual(Array.from(await (await again.columns.get('i64')).slice()), [5n, 2n ** 63n - 1n])
  const f = Array.from((await (await again.columns.get('f32')).slice()) as Float32Array)
  assert.deepEqual(f.slice(0, 3), [1.5, Infinity, -Infinity])
  assert.ok(Number.isNaN(f[3]))
  assert.equal(f[4], Math.fround(3.4e38))
  assert.deepEqual(Array.from(await (await again.columns.get('vec')).slice(), (x) => Array.from(x as Float32Array)), [[1, 2]])
  await again.close()
})

test('str:N:utf16le and str:N:utf16be of odd N read short strings back (the odd byte is padding)', async () => {
  const v = await openVault('odd-utf16', { storage: 'fs', path: dir })
  for (const dtype of ['str:3:utf16le', 'str:3:utf16be', 'str:5:utf16le']) {
    const c = await v.columns.create(dtype, dtype)
    await c.extend(['x', 'ab', 'abc', ''])
    const expected = dtype === 'str:5:utf16le' ? ['x', 'ab', 'ab', ''] : ['x', 'a', 'a', '']
    assert.deepEqual(await c.slice(), expected, dtype)
  }
  await v.close()
})
