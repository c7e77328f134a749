import type { Page } from '@playwright/test'

declare global {
  interface Window {
    labvault: typeof import('../../src/index.js')
    harnessReady?: boolean
  }
}

/** Open the test harness page (the built package on `window.labvault`) and wait until it is ready. */
export async function harness(page: Page): Promise<void> {
  await page.goto('/dist-test/harness.html')
  await page.waitForFunction(() => window.harnessReady === true)
}
