import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { resolve } from 'node:path'
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

/** The chunk of dist/browser that holds the worker's engine service (the worker's first script imports it at once). */
export function engineChunkName(): string {
  const dir = resolve(import.meta.dirname, '../../dist/browser')
  const found = readdirSync(dir).filter((f) => /^vault-worker-.*\.js$/.test(f) && existsSync(resolve(dir, `${f}.map`)) && (JSON.parse(readFileSync(resolve(dir, `${f}.map`), 'utf8')) as { sources: string[] }).sources.some((s) => s.endsWith('/src/worker/worker-service.ts')))
  if (found.length !== 1) throw new Error(`expected one engine chunk in dist/browser, found ${found.length}: build first (npm run build)`)
  return found[0]!
}
