// A careless or hostile user of typed columns: what they do must not lose acknowledged values or
// change what is stored. Each test is a defect found by probing (docs/columns.md).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir('labvault-column-hostile-')

test('close() writes every column\'s buffered appends, also when another column\'s buffer cannot be written', async () => {
  // Found by probing: Columns.flush stopped at the first column whose flush failed (here 'a',
  // deleted through a transaction while vault.columns held its buffer), so close() dropped the
  // values buffered for 'b' without a word.
  const v = await openVault('flush-all', { storage: 'fs', path: dir })
  const a = await v.columns.create('a', 'f64')
  const b = await v.columns.create('b', 'f64')
  const c = await v.columns.create('c', 'str:utf8')
  v.columns.enableCache({})
  await a.append(1)
  await b.append(2)
  await c.extend(['x', 'y'])
  // Deleted through another handle while this one buffers its appends: they cannot be written, and
  // close() says so (it resolved as though they were), after writing the other columns' buffers.
  const other = await openVault('flush-all', { storage: 'fs', path: dir })
  await other.columns.delete('a')
  await other.close()
  await assert.rejects(v.close(), { code: 'NOT_FOUND' })
  const again = await openVault('flush-all', { storage: 'fs', path: dir })
  assert.deepEqual(await again.columns.list(), [
    { name: 'b', dtype: 'f64', length: 1 },
    { name: 'c', dtype: 'str:utf8', length: 2 },
  ])
  assert.deepEqual(await (await again.columns.get('c')).slice(), ['x', 'y'])
  await again.close()
})

test('columns.flush() writes every other column and then rejects with the failed column\'s error', async () => {
  const v = await openVault('flush-error', { storage: 'fs', path: dir })
  const a = await v.columns.create('a', 'f64')
  const b = await v.columns.create('b', 'f64')
  v.columns.enableCache({})
  await a.append(1)
  await b.append(2)
  const other = await openVault('flush-error', { storage: 'fs', path: dir })
  await other.columns.delete('a')
  await other.close()
  await assert.rejects(v.columns.flush(), { code: 'NOT_FOUND' })
  // Read through a transaction's own columns (no cache of its own): what is stored, not buffered.
  const stored = await v.transaction(async (tx) => (await tx.columns.get('b')).slice())
  assert.deepEqual(stored, new Float64Array([2]))
  await v.columns.disableCache()
  await v.close()
})

test('toArrow() of a str column keeps a leading U+FEFF, as slice() does', async () => {
  // Found by probing: arrow-js decodes Utf8 with a TextDecoder that drops a leading U+FEFF, so
  // toArrow().get(i) read "\uFEFFab" as "ab" (every str: encoding, fixed size or not).
  const v = await openVault('arrow-bom', { storage: 'memory' })
  const values = ['\uFEFFab', '\uFEFF', 'x', '', '\uFEFF\uFEFFz']
  for (const dtype of ['str:utf8', 'str:8:utf8', 'str:utf16le', 'str:16:utf16be']) {
    const c = await v.columns.create(dtype, dtype)
    await c.extend(values)
    const arrow = await c.toArrow()
    assert.deepEqual(Array.from({ length: arrow.length }, (_, i) => arrow.get(i)), await c.slice(), dtype)
    const part = await c.toArrow(1, 3)
    assert.deepEqual([part.get(0), part.get(1)], ['\uFEFF', 'x'], `${dtype}, part`)
  }
  await v.close()
})

test('a write cache turned on inside a transaction is written into it before the commit (columns and kv), and dropped by a rollback', async () => {
  // Found by probing: tx.columns.enableCache(), a tx column's enableCache() or tx.kv().enableCache()
  // buffered the writes, the commit did not write the buffer, and the transaction resolved without them.
  const v = await openVault('tx-cache', { storage: 'fs', path: dir })
  await v.columns.create('x', 'f64')
  await v.transaction(async (tx) => {
    // Before the transaction's columns client loaded, then a column's own cache.
    tx.columns.enableCache({})
    const c = await tx.columns.get('x')
    c.enableCache({ flushThreshold: 1 << 20 })
    assert.equal(c.cacheEnabled, true)
    await c.append(1)
    await c.extend([2, 3])
    tx.kv().enableCache({ flushThreshold: 1 << 20 })
    await tx.kv().set('b', 2)
  })
  await v.transaction(async (tx) => {
    const c = await tx.columns.get('x')
    tx.columns.enableCache({})
    await c.append(4)
    // withCache buffers there too, and writes its buffer when its callback returns.
    await c.withCache({}, async () => {
      await c.append(5)
      assert.equal(c.cacheEnabled, true)
    })
  })
  // A rollback drops what the caches held.
  await assert.rejects(
    v.transaction(async (tx) => {
      tx.kv().enableCache({})
      await tx.kv().set('gone', 1)
      const c = await tx.columns.get('x')
      c.enableCache({})
      await c.append(99)
      throw new Error('roll back')
    }),
    /roll back/,
  )
  await v.close()
  const again = await openVault('tx-cache', { storage: 'fs', path: dir })
  assert.deepEqual(await (await again.columns.get('x')).slice(), new Float64Array([1, 2, 3, 4, 5]))
  assert.equal(await again.kv().get('b'), 2)
  assert.equal(await again.kv().get('gone'), undefined)
  await again.close()
})

test('an index that is not a number is named by its type in the error, not shown as a number', async () => {
  // Found by probing: get('1') and get(1n) said "index must be an integer, got 1".
  const v = await openVault('index-message', { storage: 'memory' })
  const c = await v.columns.create('c', 'f64')
  await c.extend([1, 2, 3])
  await assert.rejects(c.get('1' as never), { name: 'InvalidArgumentError', message: /got a string/ })
  await assert.rejects(c.delete(1n as never), { name: 'InvalidArgumentError', message: /got a bigint/ })
  await assert.rejects(c.slice(0, '2' as never), { name: 'InvalidArgumentError', message: /end must be an integer, got a string/ })
  await assert.rejects(c.set(1.5, 0), { name: 'InvalidArgumentError', message: /got 1\.5/ })
  assert.deepEqual(await c.slice(), new Float64Array([1, 2, 3]))
  await v.close()
})

test('slice and setSlice clamp ±Infinity as Array.prototype.slice does; NaN and fractions stay refused', async () => {
  // Found by probing: slice(0, Infinity), the usual "to the end", was InvalidArgumentError.
  const v = await openVault('slice-infinity', { storage: 'memory' })
  const c = await v.columns.create('c', 'f64')
  await c.extend([1, 2, 3])
  assert.deepEqual(await c.slice(0, Infinity), new Float64Array([1, 2, 3]))
  assert.deepEqual(await c.slice(-Infinity, 2), new Float64Array([1, 2]))
  assert.deepEqual(await c.slice(Infinity), new Float64Array([]))
  assert.deepEqual(await c.slice(1, -Infinity), new Float64Array([]))
  await c.setSlice(1, Infinity, [20, 30])
  assert.deepEqual(await c.slice(), new Float64Array([1, 20, 30]))
  await assert.rejects(c.slice(NaN), { name: 'InvalidArgumentError' })
  await assert.rejects(c.slice(0, 1.5), { name: 'InvalidArgumentError' })
  await v.close()
})

test('appends a vault\'s columns buffered before a transaction are written before it begins; a tx column cache ends with the transaction', async () => {
  // Found by review after the kv round: the vault's column caches were not written before a
  // transaction (it read a length without them, and deleting the column there dropped them), and a
  // column of the transaction kept past it with its cache on buffered later appends, resolved them,
  // and never wrote them anywhere.
  const v = await openVault('tx-before', { storage: 'fs', path: dir })
  const c = await v.columns.create('c', 'f64')
  v.columns.enableCache({})
  await c.extend([1, 2])
  const seen = await v.transaction(async (tx) => (await tx.columns.get('c')).length())
  assert.equal(seen, 2)
  let kept: Awaited<ReturnType<typeof v.columns.get>> | undefined
  await v.transaction(async (tx) => {
    kept = await tx.columns.get('c')
    kept.enableCache({})
    await kept.append(3)
  })
  assert.equal(kept!.cacheEnabled, false)
  await assert.rejects(kept!.append(4), { code: 'NOT_FOUND' })
  await v.columns.disableCache()
  assert.deepEqual(await c.slice(), new Float64Array([1, 2, 3]))
  await v.close()
  const again = await openVault('tx-before', { storage: 'fs', path: dir })
  assert.deepEqual(await (await again.columns.get('c')).slice(), new Float64Array([1, 2, 3]))
  await again.close()
})
