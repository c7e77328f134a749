import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError, configure, deleteVault, listVaults, openVault } from '../../src/node.js'
import { tempDir } from './helpers.js'

const dir = tempDir()

/** [option, bad value]: each must be refused with InvalidArgumentError naming the option, opening nothing. */
const badOpenOptions: [string, unknown][] = [
  ['durability', 'bogus'],
  ['durability', 'Strict'],
  ['durability', true],
  ['lockTimeoutMs', -1],
  ['lockTimeoutMs', Number.NaN],
  ['lockTimeoutMs', Infinity],
  ['lockTimeoutMs', '1000'],
  ['lockTimeoutMs', 2 ** 31],
  ['lockLeaseMs', 0],
  ['lockLeaseMs', -5],
  ['lockLeaseMs', Number.NaN],
  ['processLeaseMs', -1],
  ['processLeaseMs', '10s'],
  ['checkpointBytes', -1],
  ['checkpointBytes', 1.5],
  ['checkpointBytes', Number.NaN],
  ['checkpointBytes', '16MiB'],
  ['storage', 'disk'],
  ['storage', 42],
  ['storage', null],
  ['storage', {}],
  ['storage', { kind: 'x', read() {} }],
  ['path', 42],
  ['path', ''],
  ['path', 'a\0b'],
  ['create', 'yes'],
  ['create', 1],
  ['readOnly', 'true'],
  ['repair', 1],
  ['persist', 'no'],
  ['sharing', 'shard'],
  ['sharing', false],
  ['restart', 'true'],
  ['worker', 42],
  ['worker', true],
  ['worker', {}],
  ['assetBase', 42],
  ['wasmUrl', {}],
  ['signal', {}],
  ['signal', true],
  ['author', 42],
  ['description', {}],
  ['logger', 42],
  ['logger', 'console'],
  ['logger', null],
  ['logger', {}],
  ['logger', { debug() {}, info() {}, warn() {} }],
  // Unknown names: a typo must not silently drop the option it meant.
  ['durabilty', 'strict'],
  ['readonly', true],
  ['lockTimeout', 100],
]

function assertNames(err: unknown, option: string): true {
  assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`)
  assert.match(err.message, new RegExp(`"${option}"`), err.message)
  return true
}

describe('option validation', () => {
  for (const [option, value] of badOpenOptions) {
    test(`openVault refuses ${option}: ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`, async () => {
      const name = `opt-${option}`
      await assert.rejects(openVault(name, { storage: 'fs', path: dir, [option]: value } as never), (err) => assertNames(err, option))
      assert.ok(!(await listVaults({ storage: 'fs', path: dir })).includes(name), 'nothing was created')
    })
  }

  test('openVault refuses options that are not an object', async () => {
    for (const options of [null, 42, 'strict', ['durability']]) {
      await assert.rejects(openVault('opt-shape', options as never), InvalidArgumentError)
    }
  })

  const badLocation: [string, unknown][] = [
    ['storage', 'disk'],
    ['path', 7],
    ['worker', 1],
    ['assetBase', false],
    ['wasmUrl', 3],
    ['durability', 'strict'], // an openVault option, not one of these
    ['pth', './vaults'],
  ]
  for (const [option, value] of badLocation) {
    test(`listVaults and deleteVault refuse ${option}: ${String(value)}`, async () => {
      await assert.rejects(listVaults({ [option]: value } as never), (err) => assertNames(err, option))
      await assert.rejects(deleteVault('x', { [option]: value } as never), (err) => assertNames(err, option))
    })
  }

  test('valid options, and options set to undefined, are accepted', async () => {
    const vault = await openVault('opt-ok', {
      storage: 'fs',
      path: dir,
      durability: 'relaxed',
      lockTimeoutMs: 0,
      lockLeaseMs: 1000,
      processLeaseMs: 5000,
      checkpointBytes: 0,
      sharing: 'shared',
      create: true,
      readOnly: undefined,
      signal: new AbortController().signal,
      persist: false,
      worker: false,
      author: 'me',
    })
    await vault.kv().set('a', 1)
    assert.equal((await vault.info()).durability, 'relaxed')
    await vault.close()
    assert.deepEqual(await listVaults({ storage: 'fs', path: dir, wasmUrl: undefined }), ['opt-ok'])
  })
})

describe('configure (the one-time worker configuration of the browser entry)', () => {
  test('on Node it checks its argument and changes nothing: vaults open in-process as before', async () => {
    configure({ worker: () => ({}) as never, assetBase: '/static/labvault/', wasmUrl: 'https://cdn.example/sql-wasm.wasm' })
    configure({ worker: false })
    configure({})
    for (const bad of [null, undefined, 'x', [], { workr: 1 }, { assetBase: 5 }, { worker: 5 }, { worker: { postMessage() {}, terminate() {} } }, { storage: 'opfs' }, { path: 'x' }]) {
      assert.throws(() => configure(bad as never), InvalidArgumentError, `configure(${JSON.stringify(bad)})`)
    }
    const v = await openVault('configured', { storage: 'memory' })
    await v.kv().set('k', 1)
    assert.equal(await v.kv().get('k'), 1)
    await v.close()
  })
})

describe('logger', () => {
  const levels = ['debug', 'info', 'warn', 'error', 'log'] as const

  /** Run `fn` with console's methods recording instead of printing; returns what they were given. */
  async function capturingConsole(fn: () => Promise<void>): Promise<{ level: string; args: unknown[] }[]> {
    const seen: { level: string; args: unknown[] }[] = []
    const saved = levels.map((l) => console[l])
    for (const l of levels) console[l] = (...args: unknown[]) => void seen.push({ level: l, args })
    try {
      await fn()
    } finally {
      levels.forEach((l, i) => (console[l] = saved[i]!))
    }
    return seen
  }

  test('silent by default: without a logger nothing reaches the console', async () => {
    const seen = await capturingConsole(async () => {
      const vault = await openVault('log-silent', { storage: 'memory' })
      await vault.kv().set('a', 1)
      await vault.kv().get('a')
      await vault.columns.get('missing').catch(() => {})
      await vault.close()
    })
    assert.deepEqual(seen, [])
  })

  test('logger: console logs each call with console.debug (successes) and console.warn (failures)', async () => {
    const seen = await capturingConsole(async () => {
      const vault = await openVault('log-console', { storage: 'memory', logger: console })
      await vault.kv().set('a', 1)
      await vault.columns.get('missing').catch(() => {})
      await vault.close()
    })
    const lines = seen.map((s) => `${s.level} ${String(s.args[0]).replace(/[\d.]+ ms$/, 'N ms')}`)
    assert.ok(lines.includes('debug labvault "log-console": kv.set ok in N ms'), lines.join('\n'))
    assert.ok(lines.some((l) => /^warn labvault "log-console": columns\.\w+ failed \(NotFoundError\) in N ms$/.test(l)), lines.join('\n'))
    assert.ok(lines.includes('debug labvault "log-console": vault.close ok in N ms'), lines.join('\n'))
    assert.ok(seen.every((s) => s.level === 'debug' || s.level === 'warn'), 'only debug and warn')
  })

  test('a read-only handle: a refused write is logged as failed (UnsupportedError) and never reaches the engine', async () => {
    const entries: string[] = []
    const writer = await openVault('log-ro', { storage: 'memory' })
    const reader = await openVault('log-ro', { storage: 'memory', readOnly: true, logger: (e) => entries.push(`${e.domain}.${e.method} ${e.outcome} ${e.error ?? ''}`.trim()) })
    await assert.rejects(reader.kv().set('a', 1))
    assert.equal(await writer.kv().get('a'), undefined)
    await reader.close()
    await writer.close()
    assert.deepEqual(entries, ['kv.set error UnsupportedError', 'vault.close ok'])
  })
})
