/**
 * The opening conformance suite: what `openVault` gives besides the domains (closing with
 * `await using`, the `logger` option), through the public API, the same cases in Node (memory, fs),
 * through the worker in Chromium (OPFS, IndexedDB) and from a follower tab (see ./vault-conformance.ts).
 */
import { check, equal, rejects } from './assert.js'
import type { VaultLogEntry } from '../../src/shared-exports.js'
import type { VaultConformanceCase } from './vault-conformance.js'

/** A secret the logged entries must never show (values, keys and names are not logged). */
const SECRET = 'hunter2-secret'

/** `entry` without its duration (which varies), for comparing. */
function shape(entry: VaultLogEntry): string {
  return `${entry.domain}.${entry.method} ${entry.kind}${entry.inTransaction ? ' tx' : ''} ${entry.outcome}${entry.error ? ` ${entry.error}` : ''}`
}

/** Every case of the suite, in a stable order. */
export const openingConformanceCases: VaultConformanceCase[] = [
  {
    name: 'vault[Symbol.asyncDispose]() closes the vault; what was written before stays',
    async run({ lib, open }) {
      const vault = await open()
      // Engines without Symbol.asyncDispose (WebKitGTK 2.50) get the key TypeScript's `await using`
      // falls back to, so the vault is disposable there too.
      const key: symbol = Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose')
      const dispose = () => (vault as unknown as Record<symbol, () => Promise<void>>)[key]!.call(vault)
      check(typeof (vault as unknown as Record<symbol, unknown>)[key] === 'function', 'a Vault has a Symbol.asyncDispose method')
      await vault.kv().set('kept', 1)
      await dispose()
      check(vault.isClosed, 'isClosed after disposal')
      await rejects(vault.kv().get('kept'), lib.ClosedError, 'a call after disposal')
      await dispose() // idempotent, as close()
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
  {
    name: 'logger (a function): every operation once it settles, with domain, method, kind, duration and outcome; never a value, key or name',
    async run({ lib, open }) {
      const entries: VaultLogEntry[] = []
      const vault = await open({ logger: (e) => entries.push(e) })
      const kv = vault.kv(`ns-${SECRET}`)
      const from = entries.length // the runner may have called the vault already (a follower asks for its role)
      await kv.set(`key-${SECRET}`, { password: SECRET })
      equal(await kv.get(`key-${SECRET}`), { password: SECRET }, 'the value, read back through a logged handle')
      await rejects(vault.columns.get(`col-${SECRET}`), lib.NotFoundError, 'a missing column')
      await vault.transaction(async (tx) => {
        await tx.kv().set('t', 1)
      })
      await vault.checkpoint()
      await vault.close()
      const mine = entries.slice(from)
      const shapes = mine.map(shape)
      const expected = ['kv.set write ok', 'kv.get read ok', 'vault.beginTransaction write ok', 'kv.set write tx ok', 'vault.commitTransaction end tx ok', 'vault.checkpoint write ok', 'vault.close write ok']
      // Each kv call above is one engine call; how many engine calls columns.get makes is the domain's business.
      equal(shapes.filter((x) => expected.includes(x)), expected, `the logged operations, in order (all: ${JSON.stringify(shapes)})`)
      const failed = mine.filter((e) => e.outcome === 'error')
      check(failed.length === 1 && failed[0]!.domain === 'columns' && failed[0]!.error === 'NotFoundError', `the failed call, with its error's class: ${JSON.stringify(failed)}`)
      for (const e of mine) {
        check(typeof e.durationMs === 'number' && Number.isFinite(e.durationMs) && e.durationMs >= 0, `a duration in ms: ${e.durationMs}`)
        check(e.vault === vault.name, `the vault's name: ${e.vault}`)
      }
      check(!JSON.stringify(mine).includes(SECRET), `no value, key or namespace is logged: ${JSON.stringify(mine)}`)
    },
  },
  {
    name: 'logger (console-like): debug for what succeeded, warn for what failed, a one-line message and the entry',
    async run({ lib, open }) {
      const lines: { level: string; message: string; entry: VaultLogEntry }[] = []
      const at = (level: string) => (message: string, entry: VaultLogEntry) => lines.push({ level, message, entry })
      const vault = await open({ logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } })
      const from = lines.length
      await vault.kv().set('a', SECRET)
      await rejects(vault.columns.get(SECRET), lib.NotFoundError, 'a missing column')
      const mine = lines.slice(from)
      const ok = mine.filter((l) => l.entry.domain === 'kv')
      equal(ok.map((l) => `${l.level} ${shape(l.entry)}`), ['debug kv.set write ok'], 'a success goes to debug')
      const failed = mine.filter((l) => l.entry.outcome === 'error')
      equal(failed.map((l) => `${l.level} ${l.entry.domain} ${l.entry.error}`), ['warn columns NotFoundError'], 'a failure goes to warn')
      for (const l of [...ok, ...failed]) {
        check(l.message.includes(`${l.entry.domain}.${l.entry.method}`) && !l.message.includes(SECRET), `the message names the call, not the values: ${l.message}`)
      }
    },
  },
  {
    name: 'a logger that throws (or rejects) never breaks a call',
    async run({ open }) {
      let calls = 0
      const throwing = await open({
        logger: () => {
          calls++
          throw new Error('logger down')
        },
      })
      await throwing.kv().set('x', 1)
      equal(await throwing.kv().get('x'), 1, 'the call resolves despite the logger')
      const rejecting = await open({
        logger: async () => {
          calls++
          throw new Error('async logger down')
        },
      })
      equal(await rejecting.kv().get('x'), 1, 'the call resolves despite an async logger')
      const consoleThrowing = await open({ logger: { debug: () => { calls++; throw new Error('no') }, info() {}, warn() {}, error() {} } })
      equal(await consoleThrowing.kv().get('x'), 1, 'the call resolves despite a console-like logger')
      check(calls >= 3, `the loggers were called: ${calls}`)
    },
  },
  {
    name: 'a new vault (format 3: no image until its first checkpoint) reopens, takes writes, checkpoints and reopens whole',
    async run({ open }) {
      const vault = await open()
      const info = await vault.info()
      equal(info.formatVersion, 3, 'a new vault is format 3')
      equal(info.recovery.replayedRecords, 0, 'nothing replayed at creation')
      await vault.kv().set('a', 1)
      const docs = await vault.lists.create('docs', { type: 'document' })
      await docs.append('first')
      await vault.close()
      // Reopened from its log alone (the creation record builds every domain's tables).
      const again = await open()
      equal(await again.kv().get('a'), 1, 'a value written before the first checkpoint')
      equal((await again.lists.info('docs')).length, 1, 'a list made before the first checkpoint')
      await again.checkpoint()
      await again.kv().set('b', 2)
      await again.close()
      const third = await open()
      equal(await third.kv().get('a'), 1, 'kept across the first checkpoint')
      equal(await third.kv().get('b'), 2, 'written after the first checkpoint')
      equal((await third.lists.info('docs')).length, 1, 'the list across the first checkpoint')
    },
  },
]
