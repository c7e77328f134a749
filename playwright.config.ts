import { existsSync } from 'node:fs'
import { defineConfig } from '@playwright/test'

// Use the system Chromium when there is one (Debian's here: Playwright's own download does not work on
// these machines); otherwise fall back to Playwright's bundled browser, as ordinary users have it.
// LABVAULT_TEST_PORT moves both servers (the page origin and, one above it, the CDN-like origin), so
// several checkouts can run their browser tests side by side.
const port = Number(process.env.LABVAULT_TEST_PORT ?? 4173)
const systemChromium = process.env.CHROMIUM_PATH ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined)

export default defineConfig({
  testDir: './test/browser',
  testMatch: '**/*.spec.ts',
  timeout: 120_000,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: systemChromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    },
  },
  webServer: [
    { command: `node scripts/serve.mjs --port ${port} --root .`, url: `http://127.0.0.1:${port}/package.json`, reuseExistingServer: !process.env.CI },
    // A second origin, as a CDN would be: the built package is imported from here by a page on the first.
    { command: `node scripts/serve.mjs --port ${port + 1} --root . --cors`, url: `http://127.0.0.1:${port + 1}/package.json`, reuseExistingServer: !process.env.CI },
  ],
})
