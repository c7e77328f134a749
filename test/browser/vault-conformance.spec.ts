import { expect, test, type Page } from '@playwright/test'
import { vaultSuites, type VaultSuiteName } from '../conformance/vault-suites.js'
import type { CaseResult } from './conformance-runner.js'
import type { VaultConformancePage } from './fixtures/vault-conformance.js'

// The domain conformance suites (test/conformance/: kv, columns, items) against the built package in
// Chromium: through the engine's worker on OPFS and on IndexedDB, and from a follower tab (a second
// page whose vault forwards every call to the page that leads). Node runs the same cases on memory
// and fs (test/node/vault-conformance.test.ts). Build first: npm run build.


async function openFixture(page: Page): Promise<void> {
  await page.goto('/dist-test/vault-conformance.html')
  await page.waitForFunction(() => (window as unknown as VaultConformancePage).vaultConformanceReady === true)
}

/** Print what failed (and, with LABVAULT_CASE_TIMES, each case's time); then demand that every case ran and passed. */
function judge(suite: VaultSuiteName, where: string, results: CaseResult[]): void {
  const failed = results.filter((r) => !r.ok)
  for (const f of failed) console.log(`FAIL [${suite} ${where}] ${f.name}\n    ${f.error?.split('\n').slice(0, 6).join('\n    ')}`)
  if (process.env.LABVAULT_CASE_TIMES) for (const r of results) console.log(`  ${r.ms} ms  ${r.name}`)
  console.log(`${suite} ${where}: ${results.length - failed.length}/${results.length} cases pass (${results.reduce((n, r) => n + r.ms, 0)} ms)`)
  expect(results.map((r) => r.name)).toEqual(vaultSuites[suite].map((c) => c.name))
  expect(failed.map((f) => f.name)).toEqual([])
}

for (const suite of Object.keys(vaultSuites) as VaultSuiteName[]) {
  for (const storage of ['opfs', 'indexeddb'] as const) {
    test(`${suite} conformance through the worker: ${storage}`, async ({ page }) => {
      test.setTimeout(240_000)
      await openFixture(page)
      const results = await page.evaluate(([s, st]) => (window as unknown as VaultConformancePage).runSuite(s, st), [suite, storage] as const)
      judge(suite, `worker ${storage}`, results)
    })
  }

  test(`${suite} conformance from a follower tab: opfs`, async ({ context }) => {
    test.setTimeout(240_000)
    const leader = await context.newPage()
    const follower = await context.newPage()
    await openFixture(leader)
    await openFixture(follower)
    const results: CaseResult[] = []
    const runId = Date.now().toString(36)
    for (const [i, c] of vaultSuites[suite].entries()) {
      const name = `vcf-${suite}-${runId}-${i}`
      // The leader page opens the case's vault first and keeps it; the follower page runs the case.
      expect(await leader.evaluate((n) => (window as unknown as VaultConformancePage).hold(n, 'opfs'), name)).toBe('leader')
      results.push(await follower.evaluate(([s, cn, n]) => (window as unknown as VaultConformancePage).runCaseAsFollower(s, cn, n, 'opfs'), [suite, c.name, name] as const))
      await leader.evaluate((n) => (window as unknown as VaultConformancePage).release(n, 'opfs'), name)
    }
    judge(suite, 'follower tab (opfs)', results)
  })
}
