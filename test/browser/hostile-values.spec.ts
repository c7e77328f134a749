import { expect, test } from '@playwright/test'
import { harness } from './harness.js'

// Values cross the worker by structured clone (and come back decoded by the engine): lone
// surrogates and own __proto__ keys must survive both ways, live and after a reopen (issue 8,
// items 1, 9, 12, 22).
for (const storage of ['opfs', 'indexeddb'] as const) {
  test(`lone surrogates and __proto__ round-trip through the worker with ${storage}; bad keys, names and sizes are typed errors`, async ({ page }) => {
    await harness(page)
    const result = await page.evaluate(async (storage) => {
      const { openVault, deleteVault, InvalidArgumentError } = window.labvault
      const high = 'x😀'.slice(0, -1)
      const low = 'y' + '😀'.slice(-1)
      const long = 'z'.repeat(5000) + '\uD800'
      const proto = () => JSON.parse('{"__proto__": {"polluted": 1}, "a": [{"__proto__": 2}]}') as Record<string, unknown>
      const name = `hostile-${storage}`
      await deleteVault(name, { storage })

      const typed = async (p: Promise<unknown> | (() => unknown)): Promise<string> => {
        try {
          await (typeof p === 'function' ? p() : p)
          return 'resolved'
        } catch (e) {
          return e instanceof InvalidArgumentError && (e as { code: string }).code === 'INVALID_ARGUMENT' ? 'invalid' : `other: ${String(e)}`
        }
      }

      const read = async (v: Awaited<ReturnType<typeof openVault>>) => {
        const value = (await v.kv().get('v')) as Record<string, unknown>
        const p = (await v.kv().get('proto')) as Record<string, unknown>
        const rec = (await (await v.lists.get('runs')).get(0)) as Record<string, unknown>
        const docs = await v.lists.get('docs')
        const content = await (docs as import('../../src/index.js').DocumentList).content()
        return {
          value: value.s === high && value.l === long && (value.m as Map<string, string>).get(high) === low && Object.keys(value.o as object)[0] === low,
          proto: Object.keys(p).join(',') + '|' + String(Object.hasOwn(p, '__proto__')) + '|' + String(Object.getPrototypeOf(p) === Object.prototype) + '|' + JSON.stringify(Object.getOwnPropertyDescriptor(p, '__proto__')?.value) + '|' + String(Object.hasOwn((p.a as object[])[0]!, '__proto__')),
          record: Object.keys(rec).join(',') + '|' + JSON.stringify(Object.getOwnPropertyDescriptor(rec, '__proto__')?.value) + '|' + String(rec.b === high),
          docs: content.map((c) => `${c.start}-${c.end}:${c.text === [high, low, 'abc'][c.index]}`).join(' '),
          column: JSON.stringify(await (await v.columns.get('u16')).slice()) === JSON.stringify([high, low]),
          polluted: ({} as Record<string, unknown>).polluted === undefined,
        }
      }

      const v = await openVault(name, { storage })
      await v.kv().set('v', { s: high, l: long, m: new Map([[high, low]]), o: { [low]: 1 } })
      await v.kv().set('proto', proto())
      const runs = await v.lists.create('runs', { type: 'record', fields: ['__proto__', 'b'] })
      await runs.append(JSON.parse('{"__proto__": {"x": 1}, "b": "' + 'x\\ud83d' + '"}'))
      await (await v.lists.create('docs', { type: 'document' })).appendMany([high, low, 'abc'])
      await (await v.columns.create('u16', 'str:utf16le')).extend([high, low])
      const detached = new Uint8Array(new ArrayBuffer(4))
      structuredClone(detached.buffer, { transfer: [detached.buffer] })
      const refusals = {
        key: await typed(v.kv().set(high, 1)),
        namespace: await typed(() => v.kv('ns\uD800')),
        column: await typed(v.columns.create('c\uDC00', 'f64')),
        list: await typed(v.lists.create(high, { type: 'document' })),
        utf8: await typed(async () => (await v.columns.create('u8', 'str:utf8')).append(high)),
        bigKey: await typed(v.kv().set('k'.repeat(65537), 1)),
        deep: await typed(v.kv().set('deep', JSON.parse('['.repeat(600) + ']'.repeat(600)))),
        batchSize: await typed(async () => {
          for await (const _ of v.kv().iterate({ batchSize: 0 })) void _
        }),
        detached: await typed(v.kv().set('d', detached)),
        getManyString: await typed(v.kv().getMany('abc' as never)),
        setManyNull: await typed(v.kv().setMany(null as never)),
      }
      const live = await read(v)
      await v.close()
      const again = await openVault(name, { storage, create: false })
      const reopened = await read(again)
      await again.close()
      return { refusals, live, reopened }
    }, storage)
    const want = {
      value: true,
      proto: '__proto__,a|true|true|{"polluted":1}|true',
      record: '__proto__,b|{"x":1}|true',
      docs: '0-2:true 2-4:true 4-7:true',
      column: true,
      polluted: true,
    }
    expect(result.refusals).toEqual({
      key: 'invalid', namespace: 'invalid', column: 'invalid', list: 'invalid', utf8: 'invalid', bigKey: 'invalid', deep: 'invalid',
      batchSize: 'invalid', detached: 'invalid', getManyString: 'invalid', setManyNull: 'invalid',
    })
    expect(result.live).toEqual(want)
    expect(result.reopened).toEqual(want)
  })
}
