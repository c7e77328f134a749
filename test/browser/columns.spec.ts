import { expect, test } from '@playwright/test'
import { harness } from './harness.js'

for (const storage of ['opfs', 'indexeddb'] as const) {
  test(`typed columns through the worker with ${storage}`, async ({ page }) => {
    await harness(page)
    const r = await page.evaluate(async (storage) => {
      const { openVault, deleteVault, AlreadyExistsError, InvalidArgumentError, NotFoundError } = window.labvault
      await deleteVault('cols', { storage })
      const v = await openVault('cols', { storage })
      const f = await v.columns.create('loss', 'f64')
      const data = new Float64Array(1_000_000)
      for (let i = 0; i < data.length; i++) data[i] = i / 2
      await f.extend(data)
      const back = await f.slice()
      const i64 = await v.columns.create('steps', 'i64')
      await i64.extend(new BigInt64Array([1n, 2n, 3n]))
      const steps = Array.from(await i64.slice()).map(String)
      const s = await v.columns.create('names', 'str:utf8', { minChunkBytes: 16, maxChunkBytes: 64 })
      await s.extend(Array.from({ length: 2000 }, (_, i) => `name-${i}`))
      await s.set(5, 'a much longer replacement that crosses chunk boundaries')
      await s.insert(0, 'first')
      await s.delete(10)
      const vec = await v.columns.create('emb', 'vec:f32:4')
      await vec.append(new Float32Array([1, 2, 3, 4]))
      const m = await v.columns.create('events', 'msgpack')
      await m.withCache({ flushThreshold: 1024 }, async () => {
        for (let i = 0; i < 500; i++) await m.append({ i, kind: 'tick' })
      })
      let dup = false
      try { await v.columns.create('loss', 'f64') } catch (e) { dup = e instanceof AlreadyExistsError }
      let ascii = false
      const a = await v.columns.create('a', 'str:ascii')
      try { await a.append('café') } catch (e) { ascii = e instanceof InvalidArgumentError }
      let range = false
      try { await f.get(1_000_000) } catch (e) { range = e instanceof RangeError }
      const arrow = await f.toArrow()
      await v.close()
      const again = await openVault('cols', { storage, create: false })
      const list = await again.columns.list()
      const f2 = await again.columns.get<'f64'>('loss')
      const tail = Array.from(await f2.slice(-3))
      const names = await (await again.columns.get<'str:utf8'>('names')).slice(0, 7)
      const ev = (await (await again.columns.get('events')).get(-1)) as { i: number }
      let missing = false
      try { await again.columns.get('nope') } catch (e) { missing = e instanceof NotFoundError }
      await again.close()
      return {
        sameBack: back instanceof Float64Array && back.length === data.length && back[999_999] === data[999_999],
        steps,
        dup, ascii, range, missing,
        arrowLength: arrow.length,
        list, tail, names, ev: ev.i,
      }
    }, storage)
    expect(r.sameBack).toBe(true)
    expect(r.steps).toEqual(['1', '2', '3'])
    expect(r.dup).toBe(true)
    expect(r.ascii).toBe(true)
    expect(r.range).toBe(true)
    expect(r.missing).toBe(true)
    expect(r.arrowLength).toBe(1_000_000)
    expect(r.tail).toEqual([999_997 / 2, 999_998 / 2, 999_999 / 2])
    expect(r.names).toEqual(['first', 'name-0', 'name-1', 'name-2', 'name-3', 'name-4', 'a much longer replacement that crosses chunk boundaries'])
    expect(r.ev).toBe(499)
    expect(r.list).toEqual([
      { name: 'a', dtype: 'str:ascii', length: 0 },
      { name: 'emb', dtype: 'vec:f32:4', length: 1, shape: [4] },
      { name: 'events', dtype: 'msgpack', length: 500 },
      { name: 'loss', dtype: 'f64', length: 1_000_000 },
      { name: 'names', dtype: 'str:utf8', length: 2000 },
      { name: 'steps', dtype: 'i64', length: 3 },
    ])
  })
}
