import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { expect, test } from '@playwright/test'

// docs/notebooks.md's worked example, run as written in a page of one origin whose labvault, Plot, d3
// and Arrow come from another (CORS) origin, as in an Observable notebook: the loss column is charted
// with Observable Plot from Arrow, and the chart is checked.

const root = resolve(import.meta.dirname, '../..')
const CDN_URL = 'https://cdn.jsdelivr.net/npm/labvault/dist/browser/'

/** The first ```js block after the "A worked example" heading of docs/notebooks.md. */
function workedExample(): string {
  const doc = readFileSync(resolve(root, 'docs/notebooks.md'), 'utf8')
  const section = doc.slice(doc.indexOf('## A worked example'))
  const block = /```js\n([\s\S]*?)```/.exec(section)
  if (!block) throw new Error('docs/notebooks.md has no worked example block')
  return block[1]!
}

/**
 * The UMD bundles a notebook's require() would load, as URL paths under the repository (both origins
 * serve it). Looked up by path, not by Node's resolver, which follows the node_modules symlink out of
 * the served folder; d3 may be hoisted or nested under Plot.
 */
function libraries(): string {
  const first = (...paths: string[]) => {
    const found = paths.find((p) => existsSync(resolve(root, p)))
    if (!found) throw new Error(`none of ${paths.join(', ')} is installed`)
    return '/' + found
  }
  return new URLSearchParams({
    d3: first('node_modules/d3/dist/d3.min.js', 'node_modules/@observablehq/plot/node_modules/d3/dist/d3.min.js'),
    plot: first('node_modules/@observablehq/plot/dist/plot.umd.min.js'),
    arrow: first('node_modules/apache-arrow/Arrow.es2015.min.js'),
  }).toString()
}

declare global {
  interface Window {
    harnessReady?: boolean
    cdnBase?: string
  }
}

test('the notebook example of docs/notebooks.md charts a column with Observable Plot from Arrow, labvault imported from another origin', async ({ page }) => {
  const code = workedExample()
  expect(code).toContain(CDN_URL)
  const requests: string[] = []
  page.context().on('request', (r) => requests.push(r.url()))
  await page.goto(`/dist-test/notebook.html?${libraries()}`)
  await page.waitForFunction(() => window.harnessReady === true)
  const cdnBase = await page.evaluate(() => window.cdnBase!)
  expect(new URL(cdnBase).origin).not.toBe(new URL(page.url()).origin)

  const result = await page.evaluate(async ({ code, cdnBase, cdnUrl }) => {
    const { deleteVault } = await import(cdnBase + 'labvault.js')
    await deleteVault('notebook', { storage: 'opfs' })
    // The cell as written, the CDN's address swapped for the test's second origin.
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor
    const cell = new AsyncFunction('Plot', 'Arrow', 'display', code.replaceAll(cdnUrl, cdnBase) + '\nreturn vault')
    const w = window as unknown as { Plot: unknown; Arrow: unknown; display: unknown }
    const vault = await cell(w.Plot, w.Arrow, w.display)
    const stored = await (await vault.columns.get('loss')).length()
    await vault.close()
    await deleteVault('notebook', { storage: 'opfs' })
    const svgs = document.querySelectorAll('body > svg, body > figure svg')
    const line = document.querySelector('svg g[aria-label="line"] path')
    const d = line?.getAttribute('d') ?? ''
    // d3's linear line: M x,y then L x,y per further point.
    const points = [...d.matchAll(/[ML]([-\d.e]+),([-\d.e]+)/g)].map((m) => [Number(m[1]), Number(m[2])])
    const yTicks = [...document.querySelectorAll('svg g[aria-label="y-axis tick label"] text')].map((t) => t.textContent)
    return { stored, svgCount: svgs.length, points, rules: document.querySelectorAll('svg g[aria-label="rule"] line').length, yTicks }
  }, { code, cdnBase, cdnUrl: CDN_URL })

  expect(result.stored).toBe(200)
  expect(result.svgCount).toBe(1)
  expect(result.points).toHaveLength(200)
  const xs = result.points.map((p) => p[0]!)
  const ys = result.points.map((p) => p[1]!)
  // Steps left to right; a falling loss goes down the chart (SVG y grows downwards).
  expect(xs.every((x, i) => i === 0 || x > xs[i - 1]!)).toBe(true)
  expect(ys.every((y, i) => i === 0 || y >= ys[i - 1]!)).toBe(true)
  expect(ys[199]! - ys[0]!).toBeGreaterThan(100)
  expect(result.rules).toBe(1)
  expect(result.yTicks.length).toBeGreaterThan(2)
  // labvault's client and its worker script came from the other origin.
  expect(requests.some((u) => u === cdnBase + 'labvault.js')).toBe(true)
  expect(requests.some((u) => u.startsWith(cdnBase) && u.includes('vault.worker'))).toBe(true)
})
