import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

// Writes past the origin's quota reject with QuotaExceededError, and after a reload every
// acknowledged write is there and nothing else (issue 8, items 15 and 22). Chromium's in-memory
// storage (an incognito-like context) and a profile on disk fail differently: both are tested, the
// quota made small with CDP's Storage.overrideQuotaForOrigin.

const port = Number(process.env.LABVAULT_TEST_PORT ?? 4173)
const origin = `http://127.0.0.1:${port}`
// OPFS on disk reserves room in large steps: with a few MiB a vault cannot even be created.
const QUOTA = 16 * 1024 * 1024

async function harness(context: BrowserContext): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${origin}/dist-test/harness.html`)
  await page.waitForFunction(() => window.harnessReady === true)
  return page
}

/** Override the origin's quota (undefined: back to normal). The session stays attached: detaching it ends the override. */
async function setQuota(page: Page, quotaSize: number | undefined): Promise<void> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('Storage.overrideQuotaForOrigin', quotaSize === undefined ? { origin } : { origin, quotaSize })
}

interface FillResult {
  acked: string[]
  failed: string[]
  error: { name: string; code?: string; message: string; isVaultError: boolean } | undefined
  closeError: string | undefined
}

/** Write 8 KiB values until one rejects; each write is awaited, so acknowledged means resolved. */
async function fill(page: Page, name: string, storage: string): Promise<FillResult> {
  return page.evaluate(
    async ([name, storage]) => {
      const lv = window.labvault
      await lv.deleteVault(name, { storage: storage as 'opfs' })
      const v = await lv.openVault(name, { storage: storage as 'opfs', persist: false })
      const acked: string[] = []
      const failed: string[] = []
      let error: FillResult['error']
      for (let i = 0; i < 5000 && failed.length < 3; i++) {
        const key = `k${i}`
        const value = new Uint8Array(8192)
        for (let j = 0; j < value.length; j += 4) new DataView(value.buffer).setUint32(j, (i * 2654435761 + j) >>> 0)
        try {
          await v.kv().set(key, value)
          acked.push(key) // a write after a failed one may succeed again (space freed meanwhile)
        } catch (err) {
          const e = err as Error & { code?: string }
          failed.push(key)
          error ??= { name: e.name, code: e.code, message: e.message, isVaultError: err instanceof lv.QuotaExceededError }
        }
      }
      let closeError: string | undefined
      try {
        await v.close()
      } catch (err) {
        closeError = String(err)
      }
      return { acked, failed, error, closeError }
    },
    [name, storage] as const,
  )
}

/** Reopen after a reload and check: every acknowledged key with its bytes, no failed key. */
async function verify(page: Page, name: string, storage: string, acked: string[], failed: string[]) {
  return page.evaluate(
    async ([name, storage, acked, failed]) => {
      const v = await window.labvault.openVault(name, { storage: storage as 'opfs', persist: false })
      const found = await v.kv().getMany(acked)
      const wrong: string[] = []
      for (const key of acked) {
        const i = Number(key.slice(1))
        const got = found.get(key) as Uint8Array | undefined
        if (!got || got.length !== 8192) {
          wrong.push(key)
          continue
        }
        const dv = new DataView(got.buffer, got.byteOffset, got.byteLength)
        for (let j = 0; j < got.length; j += 4) {
          if (dv.getUint32(j) !== (i * 2654435761 + j) >>> 0) {
            wrong.push(key)
            break
          }
        }
      }
      const present = (await v.kv().getMany(failed)).size
      const integrity = await v.integrityCheck()
      const size = await v.kv().size()
      await v.close()
      return { wrong: wrong.slice(0, 10), wrongCount: wrong.length, present, integrity, size }
    },
    [name, storage, acked, failed] as const,
  )
}

async function quotaRound(context: BrowserContext, storage: 'opfs' | 'indexeddb') {
  const page = await harness(context)
  await setQuota(page, QUOTA)
  const name = `quota-${storage}`
  const r = await fill(page, name, storage)
  expect(r.failed.length, `some write must fail past a ${QUOTA}-byte quota (acked ${r.acked.length})`).toBeGreaterThan(0)
  expect(r.error).toMatchObject({ name: 'QuotaExceededError', code: 'QUOTA_EXCEEDED', isVaultError: true })
  expect(r.error!.message).toMatch(/quota/i)
  expect(r.acked.length).toBeGreaterThan(10)
  // Every acknowledged write is durable already: close settles without an error.
  expect(r.closeError).toBeUndefined()
  await page.reload()
  await page.waitForFunction(() => window.harnessReady === true)
  const check = await verify(page, name, storage, r.acked, r.failed)
  expect(check.wrongCount, `acknowledged writes missing or wrong after reload: ${check.wrong.join(', ')}`).toBe(0)
  expect(check.present, 'a rejected write must not be there').toBe(0)
  expect(check.size).toBe(r.acked.length)
  expect(check.integrity).toEqual(['ok'])
  // Room again: the vault works and can be deleted.
  await setQuota(page, undefined)
  expect(await page.evaluate(([name, storage]) => window.labvault.deleteVault(name, { storage: storage as 'opfs' }), [name, storage] as const)).toBe(true)
  return r
}

for (const storage of ['opfs', 'indexeddb'] as const) {
  test(`quota in an incognito context (${storage}): QuotaExceededError, nothing acknowledged lost after reload`, async ({ browser }) => {
    const context = await browser.newContext()
    try {
      await quotaRound(context, storage)
    } finally {
      await context.close()
    }
  })

  test(`quota in a profile on disk (${storage}): QuotaExceededError, nothing acknowledged lost after reload`, async ({ browserName: _ }, testInfo) => {
    const userDataDir = mkdtempSync(join(tmpdir(), 'labvault-profile-'))
    const launch = testInfo.project.use.launchOptions ?? {}
    const context = await chromium.launchPersistentContext(userDataDir, { executablePath: launch.executablePath, args: launch.args })
    try {
      await quotaRound(context, storage)
    } finally {
      await context.close()
      rmSync(userDataDir, { recursive: true, force: true })
    }
  })
}
