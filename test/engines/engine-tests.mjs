// The tests test/engines/run-engines.mjs runs in Firefox and WebKit: each drives a page of
// test/browser/fixtures/ (the same pages Chromium's Playwright specs drive) and throws on failure.
// In-page functions are plain JS (this file is not transpiled: the functions are sent as source).
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { launchFirefox, waitInPage } from './browsers.mjs'

/** The domain suites, in test/conformance/vault-suites.ts order (the page's own list is checked against it). */
const SUITES = [...readFileSync(resolve(import.meta.dirname, '../conformance/vault-suites.ts'), 'utf8').matchAll(/^\s+(\w+): \w+ConformanceCases,$/gm)].map((m) => m[1])
if (SUITES.length < 5) throw new Error(`could not read the suite names from vault-suites.ts (got ${SUITES.join()})`)

/** What each engine can store in: WebKitGTK has no OPFS (navigator.storage.getDirectory is undefined). */
export const ENGINE_STORAGES = { firefox: ['opfs', 'indexeddb'], webkit: ['indexeddb'] }
/** What `auto` must pick in each engine. */
const AUTO_PICKS = { firefox: 'opfs', webkit: 'indexeddb' }
/** The suites also run from a follower tab (the slow columns and SQL suites only in Chromium, to keep time in bounds). */
const FOLLOWER_SUITES = ['kv', 'items', 'opening', 'store']
/** Close-the-page rounds per storage (Chromium runs 20; fewer here keeps the added time in bounds). */
const DURABILITY_ROUNDS = 12

function fail(msg) {
  throw new Error(msg)
}

async function open(browser, base, path, readyFlag) {
  const page = await browser.newPage()
  await page.goto(`${base}${path}`)
  await waitInPage(page, new Function(`return window.${readyFlag} === true`), path)
  return page
}

/** Fail with every failed case; demand that every expected case ran. */
function judge(results, expected, where) {
  const bad = results.filter((r) => !r.ok)
  const missing = expected.filter((n) => !results.some((r) => r.name === n))
  if (bad.length || missing.length || results.length === 0)
    fail(
      [
        `${where}: ${results.length - bad.length}/${results.length} cases pass`,
        ...bad.map((r) => `FAIL ${r.name}\n      ${String(r.error).split('\n').slice(0, 5).join('\n      ')}`),
        ...missing.map((n) => `DID NOT RUN ${n}`),
      ].join('\n  '),
    )
  return `${results.length} cases, ${results.reduce((n, r) => n + r.ms, 0)} ms`
}

function storageConformance(adapter, inPage) {
  return {
    name: `storage conformance in ${inPage ? 'the window' : 'a dedicated worker'}: ${adapter}`,
    async run({ browser, base }) {
      const page = await open(browser, base, '/dist-test/conformance.html', 'conformanceReady')
      try {
        const expected = await page.run(() => window.storageCaseNames())
        const results = await page.run((a, w) => (w ? window.runStorageConformanceInPage(a) : window.runStorageConformance(a)), adapter, inPage)
        return judge(results, expected, `${adapter}${inPage ? ' in the window' : ''}`)
      } finally {
        await page.close()
      }
    },
  }
}

function vaultSuite(suite, storage) {
  return {
    name: `${suite} conformance through the worker: ${storage}`,
    async run({ browser, base }) {
      const page = await open(browser, base, '/dist-test/vault-conformance.html', 'vaultConformanceReady')
      try {
        const names = await page.run(() => window.caseNames())
        // (WebDriver does not keep an object's key order: compare as sets.)
        const pageSuites = Object.keys(names).sort()
        if (pageSuites.join() !== [...SUITES].sort().join()) fail(`the page has suites ${pageSuites.join()}, vault-suites.ts ${SUITES.join()}`)
        const results = await page.run((s, st) => window.runSuite(s, st), suite, storage)
        return judge(results, names[suite], `${suite} (${storage})`)
      } finally {
        await page.close()
      }
    },
  }
}

/** Two pages, one vault: the leader holds it, the follower runs every case through it. */
function followerSuite(suite, storage) {
  return {
    name: `${suite} conformance from a follower tab: ${storage}`,
    async run({ browser, base }) {
      const leader = await open(browser, base, '/dist-test/vault-conformance.html', 'vaultConformanceReady')
      const follower = await open(browser, base, '/dist-test/vault-conformance.html', 'vaultConformanceReady')
      try {
        const names = (await follower.run(() => window.caseNames()))[suite]
        const runId = Date.now().toString(36)
        const results = []
        for (const [i, caseName] of names.entries()) {
          const name = `vcf-${suite}-${runId}-${i}`
          const role = await leader.run((n, st) => window.hold(n, st), name, storage)
          if (role !== 'leader') fail(`the holding page's role is ${role}, not leader`)
          results.push(await follower.run((s, c, n, st) => window.runCaseAsFollower(s, c, n, st), suite, caseName, name, storage))
          await leader.run((n, st) => window.release(n, st), name, storage)
        }
        return judge(results, names, `${suite} follower tab (${storage})`)
      } finally {
        await follower.close()
        await leader.close()
      }
    },
  }
}

function smoke(engine, storage) {
  return {
    name: `12-step smoke: ${storage}`,
    async run({ browser, base }) {
      const page = await open(browser, base, '/dist-test/smoke.html', 'smokeReady')
      try {
        const r = await page.run((n, s) => window.runSmoke(n, s), `smoke-${engine}-${storage}`, storage)
        const bad = r.steps.filter((s) => !s.ok)
        if (bad.length || r.steps.length !== 12) fail(`${r.steps.length - bad.length}/12 steps pass\n  ${bad.map((s) => `FAIL ${s.step}: ${s.error}`).join('\n  ')}`)
        if (storage === 'auto' && r.storage !== AUTO_PICKS[engine]) fail(`auto picked ${r.storage}, expected ${AUTO_PICKS[engine]}`)
        return `12/12 steps on ${r.storage}`
      } finally {
        await page.close()
      }
    },
  }
}

/**
 * Close the page in the middle of a write loop (its worker dies with it), reopen in a new page, and
 * find every write that was acknowledged before the page was closed (test/browser/durability.spec.ts
 * in Chromium). Acknowledged keys are read from the page just before it closes: writes acknowledged
 * in between are not checked, none checked is unacknowledged.
 */
function durability(engine, storage) {
  return {
    name: `closing the page mid-write loses no acknowledged write (${storage}, ${DURABILITY_ROUNDS} rounds)`,
    async run({ browser, base }) {
      const name = `close-${engine}-${storage}`
      const acked = []
      const setup = await open(browser, base, '/dist-test/harness.html', 'harnessReady')
      await setup.run((n, s) => window.labvault.deleteVault(n, { storage: s }), name, storage)
      await setup.close()
      for (let round = 0; round < DURABILITY_ROUNDS; round++) {
        const page = await open(browser, base, '/dist-test/harness.html', 'harnessReady')
        await page.run(
          (name, storage, round) => {
            window.acked = []
            void (async () => {
              const v = await window.labvault.openVault(name, { storage })
              window.opened = true
              for (let i = 0; ; i++) {
                if (i % 10 === 0) {
                  const batch = Array.from({ length: 50 }, (_, j) => [`r${round}-b${i}-${j}`, { round, i, j }])
                  await v.kv().setMany(batch)
                  for (const [k] of batch) window.acked.push(k)
                } else {
                  const k = `r${round}-${i}`
                  await v.kv().set(k, { round, i })
                  window.acked.push(k)
                }
              }
            })()
          },
          name,
          storage,
          round,
        )
        await waitInPage(page, () => window.opened === true, 'the write loop', 30_000)
        await new Promise((r) => setTimeout(r, 30 + ((round * 37) % 250)))
        acked.push(...(await page.run(() => window.acked)))
        await page.close()
      }
      const check = await open(browser, base, '/dist-test/harness.html', 'harnessReady')
      try {
        const r = await check.run(
          async (name, storage, keys) => {
            const v = await window.labvault.openVault(name, { storage })
            const found = await v.kv().getMany(keys)
            const missing = keys.filter((k) => !found.has(k))
            const integrity = await v.integrityCheck()
            await v.close()
            await window.labvault.deleteVault(name, { storage })
            return { missing: missing.slice(0, 10), missingCount: missing.length, integrity }
          },
          name,
          storage,
          acked,
        )
        if (acked.length <= 100) fail(`only ${acked.length} writes were acknowledged: the loop hardly ran`)
        if (r.missingCount) fail(`${r.missingCount} of ${acked.length} acknowledged writes lost, e.g. ${r.missing.join(', ')}`)
        if (r.integrity.join() !== 'ok') fail(`integrity check: ${r.integrity.join('; ')}`)
        return `${acked.length} acknowledged writes all found`
      } finally {
        await check.close()
      }
    },
  }
}

/**
 * Firefox only: a write past the origin's quota. The test starts a Firefox of its own whose storage
 * is limited (`dom.quotaManager.temporaryStorage.fixedLimit`: 50 MB in all, 10 MB per origin), fills
 * a vault with 1 MiB blobs until a write rejects, and checks: the rejection is QuotaExceededError;
 * the next small write succeeds (Firefox's IndexedDB throws InvalidStateError at the first `put`
 * after a quota abort: it failed untyped); a reopened vault holds every acknowledged write and no
 * rejected one. Then the IndexedDB adapter alone: a file rewritten right after a quota abort must
 * read back whole from a fresh connection (its block delete landed without its blocks before:
 * CorruptionError).
 */
function firefoxQuota() {
  return {
    name: 'a write past the origin quota: QuotaExceededError, the next write and close work, nothing acknowledged lost (opfs, indexeddb)',
    async run({ base, log }) {
      const browser = await launchFirefox({ log, prefs: { 'dom.quotaManager.temporaryStorage.fixedLimit': 50 * 1024 } })
      try {
        const page = await open(browser, base, '/dist-test/harness.html', 'harnessReady')
        const notes = []
        for (const storage of ['opfs', 'indexeddb']) {
          const r = await page.run(async (storage) => {
            const L = window.labvault
            const name = `quota-${storage}`
            const random = (n) => {
              const b = new Uint8Array(n)
              for (let j = 0; j < n; j += 65536) crypto.getRandomValues(b.subarray(j, Math.min(n, j + 65536)))
              return b
            }
            await L.deleteVault(name, { storage })
            let v = await L.openVault(name, { storage })
            const acked = []
            let error
            for (let i = 0; i < 40 && !error; i++) {
              try {
                await v.kv().set(`b${i}`, random(1 << 20))
                acked.push(`b${i}`)
              } catch (e) {
                error = { name: e.name, typed: e instanceof L.QuotaExceededError, message: String(e.message), failed: `b${i}` }
              }
            }
            let next
            try {
              await v.kv().set('small', 1)
              next = 'ok'
            } catch (e) {
              next = `${e.name}: ${e.message}`
            }
            // Every acknowledged write is durable already: close settles without an error.
            const closeError = await v.close().then(() => undefined, (e) => `${e.name}: ${e.message}`)
            v = await L.openVault(name, { storage })
            const found = await v.kv().getMany([...acked, 'small', error?.failed ?? ''])
            const integrity = await v.integrityCheck()
            await v.close()
            await L.deleteVault(name, { storage })
            return { acked: acked.length, error, next, closeError, missing: acked.filter((k) => !found.has(k)), small: found.has('small'), rejectedThere: found.has(error?.failed ?? ''), integrity }
          }, storage)
          if (!r.error) fail(`${storage}: ${r.acked} MiB written and no write rejected: the quota was not applied`)
          if (r.error.name !== 'QuotaExceededError' || !r.error.typed) fail(`${storage}: the write past the quota rejected with ${r.error.name}: ${r.error.message}`)
          if (r.next !== 'ok') fail(`${storage}: the small write after the quota error failed: ${r.next}`)
          if (r.closeError) fail(`${storage}: close after the quota error rejected: ${r.closeError}`)
          if (r.missing.length || !r.small) fail(`${storage}: acknowledged writes lost after reopening: ${[...r.missing, ...(r.small ? [] : ['small'])].join(', ')}`)
          if (r.rejectedThere) fail(`${storage}: the rejected write ${r.error.failed} is in the vault`)
          if (r.integrity.join() !== 'ok') fail(`${storage}: integrity check: ${r.integrity.join('; ')}`)
          notes.push(`${storage}: ${r.acked} acknowledged`)
        }
        const torn = await page.run(async () => {
          const { IndexedDbAdapter } = window.labvault
          const db = `quota-adapter-${Date.now()}`
          const a = await IndexedDbAdapter.open(db, { writeBackDelay: 0 })
          await a.write('f', new Uint8Array(100 * 1024).fill(7))
          await a.sync('f')
          let quota
          for (let i = 0; i < 40 && !quota; i++) {
            const b = new Uint8Array(1 << 20)
            for (let j = 0; j < b.length; j += 65536) crypto.getRandomValues(b.subarray(j, j + 65536))
            try {
              await a.write(`fill${i}`, b)
              await a.sync(`fill${i}`)
            } catch (e) {
              quota = e.name
            }
          }
          let rewrite = 'ok'
          try {
            await a.write('f', new Uint8Array(10).fill(9))
            await a.sync('f')
          } catch (e) {
            rewrite = `${e.name}: ${e.message}`
          }
          const fresh = await IndexedDbAdapter.open(db)
          let read
          try {
            read = Array.from(await fresh.read('f')).join()
          } catch (e) {
            read = `${e.name}: ${e.message}`
          }
          await fresh.close()
          await a.close().catch(() => {})
          await new Promise((resolve) => {
            const request = indexedDB.deleteDatabase(db)
            request.onsuccess = request.onerror = request.onblocked = resolve
          })
          return { quota, rewrite, read }
        })
        if (torn.quota !== 'QuotaExceededError') fail(`adapter: filling the origin ended with ${torn.quota}`)
        const want = new Array(10).fill(9).join()
        // The rewrite either lands whole or not at all: a fresh connection reads the new bytes or the old ones.
        if (torn.rewrite === 'ok' ? torn.read !== want : torn.read !== new Array(100 * 1024).fill(7).join()) fail(`adapter: rewrite after the quota abort: ${torn.rewrite}; a fresh connection reads ${torn.read.slice(0, 120)}`)
        if (torn.rewrite !== 'ok') fail(`adapter: the rewrite right after the quota abort failed: ${torn.rewrite}`)
        await page.close()
        return notes.join(', ')
      } finally {
        await browser.close()
      }
    },
  }
}

/**
 * Values that engines clone differently, written from a leader page and from a follower page (the
 * follower's call crosses to the leader page and on to its worker: two more structured clones), read
 * back exactly: -0 and NaN alone and in Float32Array, BigInt64Array/BigUint64Array limits, Date
 * extremes, strings with lone surrogates and U+FEFF, an own `__proto__` key, Map keys -0 and NaN, a
 * typed array viewing part of its buffer. Float16Array (Firefox 153 and WebKitGTK 2.50 have it) is
 * refused with InvalidArgumentError and nothing is written: the value format has no tag for it.
 */
function engineValues(storage) {
  return {
    name: `values engines clone differently, from a leader and a follower page: ${storage}`,
    async run({ browser, base }) {
      const leader = await open(browser, base, '/dist-test/harness.html', 'harnessReady')
      const follower = await open(browser, base, '/dist-test/harness.html', 'harnessReady')
      const name = `engine-values-${storage}`
      try {
        await leader.run(async (n, s) => {
          await window.labvault.deleteVault(n, { storage: s })
          window.held = await window.labvault.openVault(n, { storage: s })
        }, name, storage)
        const notes = []
        for (const [who, page] of [['leader', leader], ['follower', follower]]) {
          const r = await page.run(async (n, s, who) => {
            const v = who === 'leader' ? window.held : await window.labvault.openVault(n, { storage: s })
            const role = (await v.info()).tabRole
            const sub = new Float64Array(new ArrayBuffer(64), 8, 3).fill(-0)
            const cases = {
              negZero: -0, nan: NaN, f32: new Float32Array([-0, NaN, -Infinity, 3.4e38]),
              bi64: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n]), bu64: new BigUint64Array([2n ** 64n - 1n, 0n]),
              dates: [new Date(8.64e15), new Date(-8.64e15), new Date(-0)], lone: 'a\uD800b\uDFFF\uFEFF', bom: '\uFEFF',
              proto: JSON.parse('{"__proto__":{"x":[1]}}'), map: new Map([[-0, 'z'], [NaN, 'n']]), sub, big: -(2n ** 1000n),
            }
            // Exact description: -0, NaN, class, own keys, element values.
            const d = (x) => {
              if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x)
              if (typeof x === 'bigint') return `${x}n`
              if (typeof x === 'string') return Array.from({ length: x.length }, (_, i) => x.charCodeAt(i).toString(16)).join(' ')
              if (x instanceof Date) return `Date(${d(x.getTime())})`
              if (ArrayBuffer.isView(x)) return `${x.constructor.name}[${Array.from(x, d).join()}]`
              if (x instanceof Map) return `Map{${[...x].map(([k, y]) => `${d(k)}=>${d(y)}`).join()}}`
              if (Array.isArray(x)) return `[${x.map(d).join()}]`
              if (x && typeof x === 'object') return `{${Object.getPrototypeOf(x) === Object.prototype ? '' : 'PROTO!'}${Object.getOwnPropertyNames(x).map((k) => `${k}:${d(x[k])}`).join()}}`
              return String(x)
            }
            const wrong = []
            for (const [k, value] of Object.entries(cases)) {
              await v.kv().set(`${who}-${k}`, value)
              const back = await v.kv().get(`${who}-${k}`)
              if (d(back) !== d(value)) wrong.push(`${k}: ${d(value)} came back as ${d(back)}`)
            }
            let f16 = 'no Float16Array'
            if (typeof Float16Array === 'function') {
              f16 = await v.kv().set(`${who}-f16`, new Float16Array([1.5])).then(
                () => 'accepted',
                (e) => (e instanceof window.labvault.InvalidArgumentError ? 'InvalidArgumentError' : `${e.name}: ${e.message}`),
              )
              if (await v.kv().has(`${who}-f16`)) f16 += ', and written'
            }
            if (who !== 'leader') await v.close()
            return { role, wrong, f16 }
          }, name, storage, who)
          if (r.role !== who) fail(`the ${who} page's role is ${r.role}`)
          if (r.wrong.length) fail(`${who}: ${r.wrong.join('\n  ')}`)
          if (r.f16 !== 'InvalidArgumentError' && r.f16 !== 'no Float16Array') fail(`${who}: Float16Array: ${r.f16}`)
          notes.push(`${who}: Float16Array ${r.f16}`)
        }
        return notes.join(', ')
      } finally {
        await leader.run(async (n, s) => {
          await window.held?.close()
          await window.labvault.deleteVault(n, { storage: s })
        }, name, storage).catch(() => {})
        await follower.close()
        await leader.close()
      }
    },
  }
}

/** Every test one engine runs, in order. */
export function engineTests(engine) {
  const storages = ENGINE_STORAGES[engine]
  const tests = []
  for (const s of storages) tests.push(storageConformance(s, false))
  tests.push(storageConformance('indexeddb', true))
  for (const s of [...storages, 'auto']) tests.push(smoke(engine, s))
  for (const suite of SUITES) for (const s of storages) tests.push(vaultSuite(suite, s))
  // Tab sharing: the suites whose calls cover forwarding (every kind of call, transactions, streams,
  // typed errors) from a follower page; Chromium runs every suite this way (vault-conformance.spec.ts).
  for (const suite of FOLLOWER_SUITES) tests.push(followerSuite(suite, storages[0]))
  for (const s of storages) tests.push(engineValues(s))
  for (const s of storages) tests.push(durability(engine, s))
  if (engine === 'firefox') tests.push(firefoxQuota())
  return tests
}
