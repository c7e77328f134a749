import { expect, test } from '@playwright/test'
import type { SmokePage } from './fixtures/smoke.js'

// The 12-step smoke of issue 13 in Chromium (Firefox and WebKit run the same page: test/engines/).
for (const storage of ['opfs', 'indexeddb', 'auto'] as const) {
  test(`12-step smoke: ${storage}`, async ({ page }) => {
    await page.goto('/dist-test/smoke.html')
    await page.waitForFunction(() => (window as unknown as SmokePage).smokeReady === true)
    const r = await page.evaluate((s) => (window as unknown as SmokePage).runSmoke(`smoke-${s}`, s), storage)
    for (const s of r.steps.filter((x) => !x.ok)) console.log(`FAIL ${s.step}: ${s.error}`)
    expect(r.steps.map((s) => s.step)).toHaveLength(12)
    expect(r.steps.filter((s) => !s.ok).map((s) => s.step)).toEqual([])
    // Chromium has OPFS in its workers: `auto` picks it.
    if (storage === 'auto') expect(r.storage).toBe('opfs')
  })
}
