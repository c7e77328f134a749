import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError, VaultError, openVault, type Vault } from '../../src/node.js'
import { MAX_KEY_BYTES, MAX_VALUE_DEPTH } from '../../src/codec/checks.js'
import { tempDir } from './helpers.js'

/**
 * Hostile values, keys and names (issue 8, items 1, 4, 9, 12, 22 and the limits): each is either
 * stored exactly — live, after a reopen that replays the log, and after a checkpoint and reopen —
 * or refused with InvalidArgumentError before anything is written.
 */

const dir = tempDir()
let counter = 0
const name = () => `hostile${++counter}`

/** Run `write` once, then `read` live, after close + reopen (log replay) and after checkpoint + reopen. */
async function everyPath(write: (v: Vault) => Promise<void>, read: (v: Vault, when: string) => Promise<void>): Promise<void> {
  const n = name()
  const open = () => openVault(n, { storage: 'fs', path: dir })
  let v = await open()
  await write(v)
  await read(v, 'live')
  await v.close()
  v = await open()
  assert.equal((await v.info()).recovery.replayedRecords > 0, true, 'the reopen replays the log')
  await read(v, 'after log replay')
  await v.checkpoint()
  await v.close()
  v = await open()
  await read(v, 'after checkpoint')
  await v.close()
}

async function invalid(p: Promise<unknown> | (() => unknown), pattern?: RegExp): Promise<void> {
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`)
    assert.ok(VaultError.isVaultError(err))
    if (pattern) assert.match((err as Error).message, pattern)
    return true
  })
}

const emoji = 'x😀'
const high = emoji.slice(0, -1) // 'x\uD83D': a truncated emoji
const low = 'y' + emoji.slice(-1)
const long = 'z'.repeat(5000) + '\uD800' + 'z'.repeat(5000)

function detachedBytes(): Uint8Array {
  const buffer = new ArrayBuffer(8)
  const view = new Uint8Array(buffer)
  structuredClone(buffer, { transfer: [buffer] })
  return view
}

describe('lone surrogates (item 1)', () => {
  test('keys, namespaces and prefixes with a lone surrogate are refused and nothing is written', async () => {
    const v = await openVault(name(), { storage: 'memory' })
    const kv = v.kv()
    for (const key of ['a\uD800', 'a\uDC00', high, low, '\uDBFF']) {
      await invalid(kv.set(key, 1), /lone surrogate/)
      await invalid(kv.get(key))
      await invalid(kv.has(key))
      await invalid(kv.delete(key))
      await invalid(kv.setMany([['ok', 1], [key, 2]]))
      await invalid(kv.getMany(['ok', key]))
      await invalid(kv.keys({ prefix: key }))
    }
    await kv.set('a\uFFFD', 3)
    assert.deepEqual(await kv.keys(), ['a\uFFFD'])
    assert.throws(() => v.kv('ns\uD800'), InvalidArgumentError)
    await v.close()
  })

  test('column, list, field, session, process and description names with a lone surrogate are refused', async () => {
    const v = await openVault(name(), { storage: 'memory' })
    await invalid(v.columns.create('c\uD800', 'f64'), /lone surrogate/)
    await invalid(v.columns.ensure('c\uDC00', 'f64'))
    await invalid(v.lists.create('l\uD800', { type: 'document' }))
    await invalid(v.lists.create('r', { type: 'record', fields: ['ok', 'f\uDC00'] }))
    await invalid(v.session('s\uD800'))
    await invalid(v.session('s', { code: 'x = "\uD800"' }))
    await invalid(v.processes.start('p\uD800'))
    const docs = await v.lists.create('docs', { type: 'document' })
    await invalid(docs.describe('d\uD800', 'text'))
    await invalid(docs.describe('d', 'text \uDC00'))
    assert.deepEqual(await v.columns.list(), [])
    assert.deepEqual((await v.lists.list()).map((l) => l.name), ['docs'])
    await v.close()
  })

  test('three keys that differ only in lone surrogates used to collapse into one after reopen; now they cannot be made', async () => {
    const v = await openVault(name(), { storage: 'memory' })
    const kv = v.kv()
    await kv.set('a\uFFFD', 3)
    await invalid(kv.set('a\uD800', 1))
    await invalid(kv.set('a\uDC00', 2))
    assert.equal(await kv.get('a\uFFFD'), 3)
    await v.close()
  })

  test('values holding lone surrogates round-trip exactly on every path', async () => {
    const values: [string, unknown][] = [
      ['short', high],
      ['low', low],
      ['long', long],
      ['pair kept', emoji],
      ['in array', [high, low, 'plain']],
      ['object key', { [high]: low, ok: 1 }],
      ['map key', new Map<unknown, unknown>([[high, 1], [low, new Set([high])]])],
      ['set', new Set([high, low, 'x'])],
    ]
    await everyPath(
      async (v) => {
        for (const [k, val] of values) await v.kv().set(k, val)
      },
      async (v, when) => {
        for (const [k, val] of values) assert.deepEqual(await v.kv().get(k), val, `${k} ${when}`)
      },
    )
  })

  test('document text with lone surrogates round-trips exactly; positions do not overlap', async () => {
    const texts = ['ab\uD800cd'.repeat(10), 'xyz', low, emoji, long]
    await everyPath(
      async (v) => {
        const docs = await v.lists.create('docs', { type: 'document' })
        await docs.appendMany(texts.slice(0, 2))
        for (const t of texts.slice(2)) await docs.append(t)
      },
      async (v, when) => {
        const docs = await v.lists.get<import('../../src/node.js').DocumentList>('docs')
        assert.deepEqual(await docs.slice(0, texts.length), texts, when)
        assert.equal(await docs.get(0), texts[0])
        const content = await docs.content()
        let pos = 0
        for (const [i, item] of content.entries()) {
          assert.equal(item.start, pos, `item ${i} starts where item ${i - 1} ends (${when})`)
          assert.equal(item.text, texts[i])
          pos = item.end
        }
        assert.equal((await docs.info()).chars, pos)
        assert.equal(await docs.text(), texts.join(''))
        assert.equal(await docs.text({ start: 2, end: 4 }), '\uD800c')
        assert.deepEqual((await docs.item(1)).start, content[1]!.start)
        assert.deepEqual((await v.search.text("xyz")).map((h) => (h as { index: number }).index), [1])
      },
    )
  })

  test('columns: str:utf8 refuses a lone surrogate, str:utf16le, json and msgpack keep it exactly', async () => {
    await everyPath(
      async (v) => {
        const utf8 = await v.columns.create('u8', 'str:utf8')
        await invalid(utf8.append(high), /lone surrogate/)
        await invalid(utf8.extend(['ok', low]))
        assert.equal(await utf8.length(), 0)
        await (await v.columns.create('u16', 'str:utf16le')).extend([high, low, long, emoji])
        await (await v.columns.create('u16n', 'str:8:utf16le')).extend([high, low])
        await (await v.columns.create('j', 'json')).extend([high, { [low]: [high] }])
        await (await v.columns.create('m', 'msgpack')).extend([high, { [low]: [high] }, long])
      },
      async (v, when) => {
        assert.deepEqual(await (await v.columns.get('u16')).slice(), [high, low, long, emoji], when)
        assert.deepEqual(await (await v.columns.get('u16n')).slice(), [high, low], when)
        assert.deepEqual(await (await v.columns.get('j')).slice(), [high, { [low]: [high] }], when)
        assert.deepEqual(await (await v.columns.get('m')).slice(), [high, { [low]: [high] }, long], when)
      },
    )
  })

  test('record values with lone surrogates round-trip exactly', async () => {
    await everyPath(
      async (v) => {
        const runs = await v.lists.create('runs', { type: 'record', fields: ['model', 'note'] })
        await runs.append({ model: high, note: { [low]: long } })
      },
      async (v, when) => {
        assert.deepEqual(await (await v.lists.get('runs')).get(0), { model: high, note: { [low]: long } }, when)
      },
    )
  })
})

describe('the caller\'s buffer is captured when the call is made (item 4)', () => {
  test('kv: changing a value, a key or a setDefault value right after the call changes nothing stored', async () => {
    const original = new Uint8Array(300 * 1024).fill(7) // over the blob threshold
    const originalSmall = Uint8Array.of(1, 2, 3)
    await everyPath(
      async (v) => {
        const kv = v.kv()
        const big = original.slice()
        const small = originalSmall.slice()
        const key = new TextEncoder().encode('bytes-key')
        const typed = new Float64Array([1, 2])
        const pending = [kv.set('big', big), kv.set('small', small), kv.set(key, 'v'), kv.setDefault('def', typed), kv.setMany([['many', small]])]
        big.fill(9)
        small[0] = 99
        key[0] = 0x42
        typed[0] = 42
        await Promise.all(pending)
        // Same content as the original: deduplicates onto the first blob, which must hold it.
        await kv.set('big2', original.slice())
      },
      async (v, when) => {
        const kv = v.kv()
        assert.deepEqual(await kv.get('big'), original, when)
        assert.deepEqual(await kv.get('big2'), original, when)
        assert.deepEqual(await kv.get('small'), originalSmall, when)
        assert.deepEqual(await kv.get('many'), originalSmall, when)
        assert.equal(await kv.get(new TextEncoder().encode('bytes-key')), 'v', when)
        assert.deepEqual(await kv.get('def'), new Float64Array([1, 2]), when)
      },
    )
  })

  test('columns and lists: changing what was passed right after the call changes nothing stored', async () => {
    await everyPath(
      async (v) => {
        const f = await v.columns.create('f', 'f64')
        const b = await v.columns.create('b', 'bytes')
        const floats = new Float64Array([1, 2, 3])
        const bytes = Uint8Array.of(5, 6)
        const files = await v.lists.create('files', { type: 'file' })
        const fileBytes = new Uint8Array(100 * 1024).fill(1)
        const runs = await v.lists.create('runs', { type: 'record', fields: ['w'] })
        const weights = new Float32Array([0.5])
        const docs = await v.lists.create('docs', { type: 'document' })
        const texts = ['one', 'two']
        const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
        const vec = new Float32Array([1, 2])
        const pending = [
          f.extend(floats), b.append(bytes), files.append({ bytes: fileBytes, name: 'a.bin' }), runs.append({ w: weights }),
          docs.appendMany(texts), emb.append(vec),
        ]
        floats[0] = 100
        bytes[0] = 100
        fileBytes.fill(2)
        weights[0] = 100
        texts.push('three')
        vec[0] = 100
        await Promise.all(pending)
      },
      async (v, when) => {
        assert.deepEqual(await (await v.columns.get('f')).slice(), new Float64Array([1, 2, 3]), when)
        assert.deepEqual(await (await v.columns.get('b')).slice(), [Uint8Array.of(5, 6)], when)
        const file = (await (await v.lists.get('files')).get(0)) as { bytes: Uint8Array }
        assert.deepEqual(file.bytes, new Uint8Array(100 * 1024).fill(1), when)
        assert.deepEqual(await (await v.lists.get('runs')).get(0), { w: new Float32Array([0.5]) }, when)
        assert.deepEqual(await (await v.lists.get('docs')).slice(0, 10), ['one', 'two'], when)
        assert.deepEqual(await (await v.lists.get('emb')).get(0), new Float32Array([1, 2]), when)
      },
    )
  })
})

describe('__proto__ (item 9)', () => {
  test('an own __proto__ key of a value, and a record field named __proto__, round-trip without pollution', async () => {
    const value = JSON.parse('{"__proto__": {"polluted": 1}, "a": [{"__proto__": 2}]}')
    await everyPath(
      async (v) => {
        await v.kv().set('p', value)
        await (await v.columns.create('m', 'msgpack')).append(value)
        const list = await v.lists.create('r', { type: 'record', fields: ['__proto__', 'b'] })
        await list.append(JSON.parse('{"__proto__": {"x": 1}, "b": 2}'))
      },
      async (v, when) => {
        for (const got of [await v.kv().get('p'), (await (await v.columns.get('m')).get(0))] as Record<string, unknown>[]) {
          assert.deepEqual(Object.keys(got), ['__proto__', 'a'], when)
          assert.ok(Object.hasOwn(got, '__proto__'))
          assert.equal(Object.getPrototypeOf(got), Object.prototype)
          assert.deepEqual(Object.getOwnPropertyDescriptor(got, '__proto__')!.value, { polluted: 1 })
          assert.ok(Object.hasOwn((got.a as object[])[0]!, '__proto__'))
        }
        const rec = (await (await v.lists.get('r')).get(0)) as Record<string, unknown>
        assert.deepEqual(Object.keys(rec), ['__proto__', 'b'], when)
        assert.deepEqual(Object.getOwnPropertyDescriptor(rec, '__proto__')!.value, { x: 1 })
        assert.equal(({} as Record<string, unknown>).polluted, undefined)
        assert.equal(({} as Record<string, unknown>).x, undefined)
      },
    )
  })
})

describe('batch sizes and limits are validated (item 12)', () => {
  test('kv.iterate, keys, entries and columns.batches refuse bad sizes, naming the option', async () => {
    const v = await openVault(name(), { storage: 'memory' })
    const kv = v.kv()
    await kv.setMany([['a', 1], ['b', 2]])
    const drain = async (it: AsyncIterable<unknown>) => {
      for await (const _ of it) void _
    }
    for (const bad of [0, -1, 1.5, NaN, Infinity, '10' as unknown as number]) {
      await invalid(drain(kv.iterate({ batchSize: bad })), /batchSize/)
      await invalid(drain(kv.iterate({ limit: bad === 0 ? -1 : bad })), /limit/)
    }
    await invalid(kv.keys({ limit: 1e20 }), /limit/)
    await invalid(kv.entries({ limit: -1 }), /limit/)
    assert.deepEqual(await kv.keys({ limit: 0 }), [])
    const seen: unknown[] = []
    for await (const [k] of kv.iterate({ batchSize: 1, limit: 5 })) seen.push(k)
    assert.deepEqual(seen, ['a', 'b'])
    const col = await v.columns.create('c', 'f64')
    await col.extend([1, 2, 3])
    await invalid(drain(col.batches({ batchSize: 0 })), /batchSize/)
    await invalid(drain(col.batches({ start: NaN })), /start/)
    await invalid(drain(col.iterate({ end: 1.5 })), /end/)
    await invalid(kv.withCache({ flushThreshold: NaN }, () => 1), /flushThreshold/)
    await v.close()
  })
})

describe('raw platform errors become InvalidArgumentError (item 22)', () => {
  test('detached and SharedArrayBuffer-backed views are refused as values, keys, column and list inputs', async () => {
    const v = await openVault(name(), { storage: 'memory' })
    const kv = v.kv()
    const shared = new Uint8Array(new SharedArrayBuffer(4))
    for (const bad of [detachedBytes(), shared]) {
      await invalid(kv.set('k', bad))
      await invalid(kv.set('k', { nested: [bad] }))
      await invalid(kv.set(bad, 1))
      await invalid((await v.columns.ensure('b', 'bytes')).append(bad))
      await invalid((await v.columns.ensure('u8', 'bytes:8')).extend([bad]))
      await invalid((await v.lists.has('files') ? v.lists.get<import('../../src/node.js').FileItemList>('files') : v.lists.create('files', { type: 'file' })).then((f) => f.append({ bytes: bad })))
    }
    const detachedFloats = new Float64Array(new ArrayBuffer(8))
    structuredClone(detachedFloats.buffer, { transfer: [detachedFloats.buffer] })
    await invalid((await v.columns.ensure('f', 'f64')).extend(detachedFloats))
    await invalid((await v.columns.ensure('f32', 'f32')).extend(detachedFloats))
    const emb = await v.lists.create('emb', { type: 'embedding', dim: 1 })
    const detachedVec = new Float32Array(new ArrayBuffer(4))
    structuredClone(detachedVec.buffer, { transfer: [detachedVec.buffer] })
    await invalid(emb.append(detachedVec))
    assert.equal(await kv.size(), 0)
    await v.close()
  })

  test('bulk calls refuse null, numbers and strings instead of iterating them', async () => {
    const v = await openVault(name(), { storage: 'memory' })
    const kv = v.kv()
    await kv.set('a', 1)
    await invalid(kv.setMany(null as never))
    await invalid(kv.setMany(5 as never))
    await invalid(kv.setMany([['k']] as never), /pairs/)
    await invalid(kv.update(null as never))
    await invalid(kv.update(5 as never))
    await invalid(kv.getMany('abc' as never), /string/)
    await invalid(kv.deleteMany('abc' as never))
    await invalid(kv.popMany(null as never))
    await invalid(kv.hasAll(7 as never))
    assert.deepEqual(await kv.keys(), ['a'])
    await v.close()
  })

  test('embedding lists refuse number strings and non-finite numbers; a record field set to undefined is missing', async () => {
    const v = await openVault(name(), { storage: 'memory' })
    const emb = await v.lists.create('emb', { type: 'embedding', dim: 2 })
    await invalid(emb.append(['1', '2'] as never), /not a number/)
    await invalid(emb.append([1, NaN]), /non-finite/)
    await invalid(emb.append([1, Infinity]))
    await invalid(emb.appendMany([[1, 2], [3, '4' as never]]))
    const runs = await v.lists.create('runs', { type: 'record', fields: ['a', 'b'] })
    await invalid(runs.append({ a: 1, b: undefined }), /missing field "b"/)
    assert.equal(await emb.size(), 0)
    assert.equal(await runs.size(), 0)
    await v.close()
  })
})

describe('limits (untyped errors and missing limits)', () => {
  test(`values nested deeper than ${MAX_VALUE_DEPTH} levels are refused before anything is written; ${MAX_VALUE_DEPTH} levels round-trip`, async () => {
    let ok: unknown = 1
    for (let i = 0; i < MAX_VALUE_DEPTH; i++) ok = i % 2 ? [ok] : { a: ok }
    let deep: unknown = 1
    for (let i = 0; i < 10_000; i++) deep = [deep]
    await everyPath(
      async (v) => {
        await v.kv().set('ok', ok)
        await invalid(v.kv().set('deep', deep), /nested deeper than 512/)
        await invalid(v.kv().set('one more', [ok]), /nested deeper/)
        await invalid((await v.columns.create('m', 'msgpack')).append(deep))
        await invalid((await v.lists.create('r', { type: 'record', fields: ['x'] })).append({ x: deep }))
      },
      async (v, when) => {
        assert.deepEqual(await v.kv().get('ok'), ok, when)
        assert.deepEqual(await v.kv().keys(), ['ok'])
        assert.equal(await (await v.columns.get('m')).length(), 0)
      },
    )
  })

  test('a plain object of more than 65,535 keys round-trips (it was a raw Error from the codec), nested and in a msgpack column too', async () => {
    const wide: Record<string, number> = {}
    for (let i = 0; i < 70_000; i++) wide['k' + i] = i
    const proto = JSON.parse('{"__proto__": 1}') as Record<string, number>
    for (let i = 0; i < 70_000; i++) proto['p' + i] = i
    const n = name()
    let v = await openVault(n, { storage: 'fs', path: dir })
    await v.kv().set('wide', wide)
    await v.kv().set('nested', [{ wide }, new Map([['w', wide]])])
    await v.kv().set('proto', proto)
    await (await v.columns.create('m', 'msgpack')).append(wide)
    for (const when of ['live', 'after reopen']) {
      assert.deepEqual(await v.kv().get('wide'), wide, when)
      assert.deepEqual(await v.kv().get('nested'), [{ wide }, new Map([['w', wide]])], when)
      const back = (await v.kv().get('proto')) as Record<string, number>
      assert.equal(Object.keys(back).length, 70_001, when)
      assert.equal(Object.getOwnPropertyDescriptor(back, '__proto__')?.value, 1, when)
      assert.deepEqual(await (await v.columns.get('m')).get(0), wide, when)
      await v.close()
      v = await openVault(n, { storage: 'fs', path: dir })
    }
    await v.close()
  })

  test(`keys are limited to ${MAX_KEY_BYTES} bytes (UTF-8 for strings); names to their documented lengths`, async () => {
    const v = await openVault(name(), { storage: 'memory' })
    const kv = v.kv()
    await kv.set('k'.repeat(MAX_KEY_BYTES), 1)
    await kv.set(new Uint8Array(MAX_KEY_BYTES), 2)
    await invalid(kv.set('k'.repeat(MAX_KEY_BYTES + 1), 1), /65536 bytes/)
    await invalid(kv.set('é'.repeat(MAX_KEY_BYTES / 2 + 1), 1), /65536 bytes/)
    await invalid(kv.set(new Uint8Array(MAX_KEY_BYTES + 1), 1), /65536/)
    await invalid(kv.get('k'.repeat(MAX_KEY_BYTES + 1)))
    assert.equal(await kv.size(), 2)
    assert.throws(() => v.kv('n'.repeat(257)), InvalidArgumentError)
    assert.throws(() => v.kv(''), InvalidArgumentError)
    v.kv('n'.repeat(256))
    await invalid(v.columns.create('c'.repeat(513), 'f64'))
    await invalid(v.lists.create('l'.repeat(129), { type: 'document' }))
    await invalid(v.session('s'.repeat(257)))
    await v.close()
  })

  test('a string prefix selects exactly the keys that start with it (U+10FFFF included)', async () => {
    const v = await openVault(name(), { storage: 'memory' })
    const kv = v.kv()
    const keys = ['a', 'a\u{10FFFF}', 'a\u{10FFFF}x', 'ab', 'b', '\u{10FFFF}', '\u{10FFFF}\u{10FFFF}', 'a\uD7FF', 'a\uE000']
    for (const k of keys) await kv.set(k, 1)
    for (const prefix of ['', 'a', 'a\u{10FFFF}', '\u{10FFFF}', 'a\uD7FF']) {
      const want = keys.filter((k) => k.startsWith(prefix)).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
      assert.deepEqual(await kv.keys({ prefix }), want, JSON.stringify(prefix))
    }
    await v.close()
  })
})
