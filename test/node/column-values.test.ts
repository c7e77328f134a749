// Values a column refuses rather than stores changed, and values it reads back as written. Found by
// probing: an i64 column took a BigUint64Array and wrapped 2^64 − 1 to −1, an f32 column stored
// 1e39 as Infinity, and a str:N:utf16 column of odd N read every short string back as ''.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
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

test('extend refuses null, undefined and an array-like of absurd length with InvalidArgumentError, writing nothing', async () => {
  // Found by probing: extend(null) threw a raw TypeError, and extend({ length: 2 ** 53 }) a raw
  // RangeError (the buffer was sized from the length before any element was looked at).
  const v = await openVault('extend-hostile', { storage: 'fs', path: dir })
  for (const dtype of ['f64', 'str:utf8', 'msgpack']) {
    const c = await v.columns.create(dtype, dtype)
    await c.append(dtype === 'f64' ? 1 : 'x')
    for (const bad of [null, undefined, { length: 2 ** 53 }, { length: 2 ** 32 }, { length: -1 }, { length: 1.5 }]) {
      await assert.rejects(c.extend(bad as never), InvalidArgumentError, `${dtype}: ${JSON.stringify(bad)}`)
      await assert.rejects(c.withCache({}, () => c.extend(bad as never)), InvalidArgumentError, `${dtype} with the cache: ${JSON.stringify(bad)}`)
    }
    if (dtype !== 'msgpack') await assert.rejects(c.extend({ length: 1e9 } as never), InvalidArgumentError, 'undefined is no element of this dtype')
    await c.extend({ length: 2, 0: dtype === 'f64' ? 2 : 'y', 1: dtype === 'f64' ? 3 : 'z' } as never)
    assert.equal(await c.length(), 3, `${dtype}: the refused calls wrote nothing`)
  }
  await v.close()
})

test('cache options: NaN, negative or non-numbers are InvalidArgumentError at once (NaN hung the thread); 0 writes every append', () => {
  // Found by probing: the buffer was sized from NaN (0 bytes) and grew by doubling 0, forever,
  // blocking the event loop. Run in a child process so that a hang fails the test, bounded.
  const script = `
    import { openVault, InvalidArgumentError } from './src/node.ts'
    const v = await openVault('nan-cache', { storage: 'memory' })
    const refused = async (p) => { try { await p } catch (err) { if (err instanceof InvalidArgumentError) return; throw err } throw new Error('not refused') }
    // The vault-level cache, before its client loaded and after.
    for (let i = 0; i < 2; i++) {
      for (const bad of [{ capBytes: NaN }, { flushThreshold: -1 }, { capBytes: '1' }, 'big']) await refused((async () => v.columns.enableCache(bad))())
      if (v.columns.cacheEnabled) throw new Error('a refused enableCache turned the cache on')
      if (i === 0) await v.columns.list()
    }
    for (const [dtype, x] of [['f64', 1.5], ['str:utf8', 'x']]) {
      const c = await v.columns.create(dtype, dtype)
      await refused(c.withCache({ capBytes: NaN }, async () => c.append(x)))
      await refused((async () => c.enableCache({ flushThreshold: Infinity }))())
      if (c.cacheEnabled || (await c.length()) !== 0) throw new Error(dtype + ': a refused cache changed something')
      await c.withCache(null, async () => c.append(x))
      await c.withCache({ capBytes: 0 }, async () => { for (let i = 0; i < 99; i++) await c.append(x) })
      if ((await c.length()) !== 100 || (await c.get(99)) !== x) throw new Error(dtype + ': the appends were not written')
    }
    await v.close()
    console.log('done')`
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '..', '..'), timeout: 30_000, encoding: 'utf8' })
  assert.equal(r.signal, null, 'the child was killed: it hung')
  assert.equal(r.stdout.trim(), 'done', r.stderr)
})

test('a json column refuses what JSON would silently turn into something else (Map, Set, typed arrays, nested functions)', async () => {
  // Found by probing: a Map or Set was stored as {} and a Float64Array as { "0": …, "1": … }, and
  // { f() {} } lost f, each acknowledged as written.
  const v = await openVault('json-faithful', { storage: 'fs', path: dir })
  const j = await v.columns.create('j', 'json')
  for (const bad of [new Map([[1, 2]]), new Set(['a']), new Float64Array([1.5]), new Uint8Array([1]), { a: [new Map()] }, { f: () => 1 }, [Symbol('s')]]) {
    await assert.rejects(j.append(bad), InvalidArgumentError)
  }
  await assert.rejects(j.extend([{ ok: 1 }, new Set()]), InvalidArgumentError)
  assert.equal(await j.length(), 0, 'nothing was written')
  // JSON's own rules stand: NaN is null, a Date its ISO text, toJSON is used.
  await j.extend([{ a: 1, b: [true, null] }, NaN, new Date(0), { toJSON: () => 'x' }])
  assert.deepEqual(await j.slice(), [{ a: 1, b: [true, null] }, null, '1970-01-01T00:00:00.000Z', 'x'])
  await v.close()
})
