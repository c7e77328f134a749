// An Arrow vector given to `column.extend` is written as its values. Before round twenty-four it was
// iterated through arrow-js, which drops a leading U+FEFF of each string ("\uFEFFa" was stored as
// "a") and throws a raw TypeError on a dictionary whose indices are 64-bit.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Dictionary, Int32, Int64, Utf8, Vector, makeData, vectorFromArray } from 'apache-arrow'
import { InvalidArgumentError, openVault } from '../../src/node.js'

const BOM = '\uFEFF'

test('columns: extend with Arrow string vectors (chunked, sliced, dictionary with 64-bit indices) keeps each value, U+FEFF included', async () => {
  const v = await openVault('column-arrow-input', { storage: 'memory' })
  const c = await v.columns.create('s', 'str:utf8')
  const chunked = new Vector([...vectorFromArray(['x', `${BOM}a`, BOM], new Utf8()).data, ...vectorFromArray([`${BOM}${BOM}b`, ''], new Utf8()).data]).slice(1)
  await c.extend(chunked as never)
  assert.deepEqual(await c.slice(), [`${BOM}a`, BOM, `${BOM}${BOM}b`, ''])
  const words = vectorFromArray([`${BOM}w`, 'z'], new Utf8())
  const dict = new Vector([makeData({ type: new Dictionary(new Utf8(), new Int64() as unknown as Int32), length: 3, nullCount: 0, data: new BigInt64Array([1n, 0n, 1n]), dictionary: words } as never)])
  await c.extend(dict as never)
  assert.deepEqual(await c.slice(4), ['z', `${BOM}w`, 'z'])
  // What toArrow returns, given back, is the same values (not one more U+FEFF).
  const d = await v.columns.create('d', 'str:utf8')
  await d.extend((await c.toArrow()) as never)
  assert.deepEqual(await d.slice(), await c.slice())
  // A null is refused as in any array, naming the element, and nothing is written.
  await assert.rejects(d.extend(vectorFromArray(['ok', null], new Utf8()) as never), (e: unknown) => e instanceof InvalidArgumentError && /element 1/.test((e as Error).message))
  assert.equal(await d.length(), 7)
  await v.close()
})
