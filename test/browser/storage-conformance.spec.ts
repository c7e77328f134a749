import { expect, test } from '@playwright/test'
import { storageConformanceCases } from '../conformance/storage-conformance.js'
import type { ConformancePage } from './fixtures/conformance.js'
import type { CaseResult } from './conformance-runner.js'

// The storage conformance suite, run inside a real dedicated worker against the browser adapters
// (memory and node-fs run the same cases under node:test). Build the fixtures first:
//   node scripts/build.mjs fixtures && npx playwright test test/browser/storage-conformance.spec.ts

async function openFixture(page: import('@playwright/test').Page): Promise<void> {
  await page.goto('/dist-test/conformance.html')
  await page.waitForFunction(() => (window as unknown as ConformancePage).conformanceReady === true)
}

const runs = [
  { adapter: 'opfs', where: 'a dedicated worker' },
  { adapter: 'indexeddb', where: 'a dedicated worker' },
  { adapter: 'indexeddb', where: 'the window' },
] as const

for (const { adapter, where } of runs) {
  test(`storage conformance in ${where}: ${adapter}`, async ({ page }) => {
    await openFixture(page)
    const results: CaseResult[] = await page.evaluate(
      ([a, inPage]) => (inPage ? (window as unknown as ConformancePage).runStorageConformanceInPage('indexeddb') : (window as unknown as ConformancePage).runStorageConformance(a)),
      [adapter, where === 'the window'] as const,
    )
    const failed = results.filter((r) => !r.ok)
    for (const f of failed) console.log(`FAIL [${adapter} in ${where}] ${f.name}\n    ${f.error?.split('\n').slice(0, 4).join('\n    ')}`)
    if (process.env.LABVAULT_CASE_TIMES) for (const r of results) console.log(`  ${r.ms} ms  ${r.name}`)
    console.log(`${adapter} in ${where}: ${results.length - failed.length}/${results.length} cases pass (${results.reduce((n, r) => n + r.ms, 0)} ms)`)
    // Every generic case ran (plus the adapter's own): a worker that ran nothing must not pass.
    for (const c of storageConformanceCases) expect(results.map((r) => r.name)).toContain(c.name)
    expect(failed.map((f) => f.name)).toEqual([])
  })
}
