import { test, expect, type Page } from '@playwright/test'

/**
 * The demo (demo/, built by `npm run build` into demo/dist) driven as a visitor would: two tabs on
 * one vault, a sweep trained in the first, paused and resumed from the second, the views checked
 * against what the sweep wrote, notes searched. It takes the screenshots the README shows: into
 * test-results/screenshots on every run, and into docs/screenshots with `npm run screenshots`
 * (LABVAULT_SCREENSHOTS=docs), so `npm test` leaves the checkout clean.
 */

const shots = process.env.LABVAULT_SCREENSHOTS === 'docs' ? 'docs/screenshots' : 'test-results/screenshots'

async function open(page: Page, vault: string): Promise<void> {
  await page.goto(`/demo/dist/index.html?vault=${vault}`)
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
  await expect(page.locator('#errors')).toBeEmpty()
}

test('the demo trains a sweep, is paused and resumed from a second tab, shows every view, and its export imports into a fresh profile', async ({ browser }) => {
  test.setTimeout(120_000)
  const context = await browser.newContext({ viewport: { width: 960, height: 800 } })
  const vault = `e2e-${Date.now()}`
  // Both tabs open the new vault at once: one sets it up, the other finds it done (one dataset
  // record, one features instance: checked below).
  const [a, b] = [await context.newPage(), await context.newPage()]
  await Promise.all([open(a, vault), open(b, vault)])
  await expect(a.locator('#storage')).toContainText('OPFS')
  await expect(b.locator('#instances tbody tr')).toHaveCount(1)

  // A sweep of two runs: a logistic regression slow enough to pause, and a k-NN.
  await a.fill('#sweep-form [name=lr]', '0.5')
  await a.fill('#sweep-form [name=l2]', '0.01')
  await a.fill('#sweep-form [name=epochs]', '60')
  await a.fill('#sweep-form [name=k]', '5')
  await a.fill('#sweep-form [name=pace]', '40')
  await a.click('#sweep-form button[type=submit]')

  // Tab B sees the run (live, through vault.watch) and pauses it.
  const run = 'train logreg lr=0.5 l2=0.01'
  const rowB = b.locator(`#processes tr[data-process="${run}"]`)
  await expect(rowB).toHaveAttribute('data-status', 'running', { timeout: 20_000 })
  await rowB.locator('button.pause').click()
  const rowA = a.locator(`#processes tr[data-process="${run}"]`)
  await expect(rowA).toHaveAttribute('data-status', 'paused', { timeout: 10_000 })
  await expect(rowB).toHaveAttribute('data-status', 'paused')
  // Paused means no step is taken: the run's checkpoints stay where they are.
  const checkpoints = () => a.evaluate(async (name) => (await (window as any).vault.processes.active()).find((p: any) => p.name === name)?.checkpoints as number, run)
  const held = await checkpoints()
  await a.waitForTimeout(500)
  expect(await checkpoints()).toBe(held)
  await b.screenshot({ path: `${shots}/processes-paused.png`, fullPage: true, clip: await clipOf(b, '#sweep-section', 'table#processes') })
  await rowB.locator('button.resume').click()
  await expect(a.locator('#sweep-status')).toHaveAttribute('data-done', /sweep/, { timeout: 45_000 })
  await expect(a.locator('#sweep-status')).toContainText('2 runs completed')

  // Both tabs show both runs, completed, with scores.
  for (const page of [a, b]) await expect(page.locator('#runs tbody tr[data-status="completed"]')).toHaveCount(2, { timeout: 10_000 })
  const names = await a.locator('#runs tbody tr td:nth-child(2)').allTextContents()
  expect(names.sort()).toEqual(['knn k=5', 'logreg lr=0.5 l2=0.01'])
  // Sort by validation accuracy, both ways; the filter keeps the matching run only.
  const valAcc = async () => (await a.locator('#runs tbody tr td:nth-child(6)').allTextContents()).map((t) => parseFloat(t))
  await a.click('#runs th[data-sort="valAccuracy"]')
  const desc = await valAcc()
  expect(desc).toEqual([...desc].sort((x, y) => y - x))
  await a.click('#runs th[data-sort="valAccuracy"]')
  expect(await valAcc()).toEqual([...desc].reverse())
  await a.fill('#runs-filter', 'knn')
  await expect(a.locator('#runs tbody tr')).toHaveCount(1)
  await a.fill('#runs-filter', '')
  // The curves have one point per step of each run (60 epochs + 6 k-NN steps of 10 rows).
  await expect(a.locator('#curves')).toHaveAttribute('data-points', '66', { timeout: 10_000 })
  await expect(a.locator('#compare svg').first()).toBeVisible()
  await a.screenshot({ path: `${shots}/runs-and-curves.png`, fullPage: true, clip: await clipOf(a, 'section:has(#runs)', 'section:has(#compare)') })

  // SQL: the best run of each model class.
  await expect(a.locator('#topn tbody tr')).toHaveCount(2, { timeout: 20_000 })
  expect((await a.locator('#topn tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-model-class')))).sort()).toEqual(['NearestNeighbours', 'SoftmaxRegression'])

  // Lineage of the k-NN run: dataset → pipeline → model → predictions.
  await a.selectOption('#lineage-run', { label: 'knn k=5' })
  await expect(a.locator('#lineage .lineage-box')).toHaveCount(4)
  await expect(a.locator('#lineage [data-kind="dataset"]')).toContainText('300 rows')
  await expect(a.locator('#lineage [data-kind="model"]')).toContainText('NearestNeighbours')
  await expect(a.locator('#lineage [data-kind="predictions"]')).toContainText('val:')
  await a.screenshot({ path: `${shots}/lineage.png`, fullPage: true, clip: await clipOf(a, 'section:has(#lineage)', 'section:has(#lineage)') })

  // Notes: one per run, found by words and by meaning; one added in tab B is found from tab A.
  await b.fill('#notes-text', 'Remember to try a wider weight decay grid next time')
  await b.click('#notes-add button')
  await expect(a.locator('#notes-count')).toHaveText('3 notes', { timeout: 10_000 })
  await a.fill('#notes-query', 'neighbours')
  await a.click('#notes-search button')
  await expect(a.locator('#notes-hits li')).toHaveCount(1)
  await expect(a.locator('#notes-hits li')).toContainText('knn k=5')
  await a.fill('#notes-query', 'decay grid')
  await a.selectOption('#notes-mode', 'similar')
  await a.click('#notes-search button')
  await expect(a.locator('#notes-hits li').first()).toContainText('wider weight decay grid')
  await a.screenshot({ path: `${shots}/notes.png`, fullPage: true, clip: await clipOf(a, 'section:has(#notes-hits)', 'section:has(#notes-hits)') })

  // Features: edit the stored module, rebuild, a second instance; tab B sees it.
  const source = await a.inputValue('#module-source')
  await a.fill('#module-source', source.replace('(4 * Math.PI * r.area)', '(2 * Math.PI * r.area)'))
  await a.click('#rebuild')
  await expect(a.locator('#features-status')).toContainText('built base_', { timeout: 20_000 })
  await expect(b.locator('#instances tbody tr')).toHaveCount(2, { timeout: 10_000 })
  await a.screenshot({ path: `${shots}/features.png`, fullPage: true, clip: await clipOf(a, 'section:has(#instances)', 'section:has(#instances)') })

  // The sample vault the site serves, opened read-only over HTTP: the sweep the build trained.
  await a.click('#open-sample')
  await expect(a.locator('#sample-runs tbody tr[data-status="completed"]')).toHaveCount(4, { timeout: 20_000 })
  await expect(a.locator('#sample-info')).toContainText('storage http, read-only true')
  await expect(a.locator('#sample-best li')).toHaveCount(2)
  await expect(a.locator('#sample-write')).toContainText(/Error: .*read-only/)
  await a.screenshot({ path: `${shots}/sample-vault.png`, fullPage: true, clip: await clipOf(a, 'section:has(#sample-runs)', 'section:has(#sample-runs)') })

  // A second sweep, stopped from the page that trains it: the run is recorded as failed, nothing
  // of it reaches the predictions (the SQL view still has one best run per class).
  await a.fill('#sweep-form [name=lr]', '0.1')
  await a.fill('#sweep-form [name=l2]', '0')
  await a.fill('#sweep-form [name=epochs]', '500')
  await a.uncheck('#sweep-form [name=knn]')
  await a.click('#sweep-form button[type=submit]')
  const second = a.locator('#processes tr[data-process="train logreg lr=0.1 l2=0"]')
  await expect(second).toHaveAttribute('data-status', 'running', { timeout: 20_000 })
  await second.locator('button.stop').click()
  await expect(a.locator('#sweep-status')).toHaveText('sweep 2: 0 runs completed', { timeout: 20_000 })
  await expect(b.locator('#runs tbody tr[data-status="failed"]')).toHaveCount(1, { timeout: 10_000 })
  await expect(a.locator('#runs tbody tr[data-status="completed"]')).toHaveCount(2)
  await expect(a.locator('#topn tbody tr')).toHaveCount(2)

  // Export the whole vault (a download), then import it into a fresh profile (a new context: its
  // own, empty OPFS) and open it there: everything came along.
  const download = a.waitForEvent('download')
  await a.click('#export')
  // Kept beside the test's output: a download goes when its context closes.
  const archive = test.info().outputPath('exported.labvault.zip')
  await (await download).saveAs(archive)
  await expect(a.locator('#archive-status')).toContainText('exported')
  await a.screenshot({ path: `${shots}/vault-panel.png`, fullPage: true, clip: await clipOf(a, 'section:has(#export-actions)', 'section:has(#export-actions)') })
  await expect(a.locator('#errors')).toBeEmpty()
  await expect(b.locator('#errors')).toBeEmpty()
  await context.close()

  const fresh = await browser.newContext({ viewport: { width: 960, height: 800 } })
  const c = await fresh.newPage()
  await open(c, `landing-${Date.now()}`)
  await expect(c.locator('#runs tbody tr')).toHaveCount(0)
  await c.setInputFiles('#import-file', archive)
  await c.fill('#import-name', vault)
  await c.click('#import-form button')
  await expect(c.locator('#import-done')).toHaveText(`open "${vault}"`, { timeout: 20_000 })
  await c.click('#import-done')
  await expect(c.locator('body')).toHaveAttribute('data-ready', 'true', { timeout: 30_000 })
  await expect(c.locator('#runs tbody tr[data-status="completed"]')).toHaveCount(2)
  await expect(c.locator('#notes-count')).toHaveText('3 notes')
  await expect(c.locator('#instances tbody tr')).toHaveCount(2)
  await expect(c.locator('#curves')).toHaveAttribute('data-points', '66')
  await expect(c.locator('#errors')).toBeEmpty()
  await fresh.close()
})

/** The page region (document coordinates, for a full-page screenshot) from the top of `first` to the bottom of `last`. */
async function clipOf(page: Page, first: string, last: string) {
  const edges = async () => ({
    top: (await page.locator(first).first().evaluate((e) => e.getBoundingClientRect().top + window.scrollY)) - 4,
    bottom: await page.locator(last).first().evaluate((e) => e.getBoundingClientRect().bottom + window.scrollY),
  })
  const { top, bottom } = await edges()
  return { x: 0, y: Math.max(0, top), width: 960, height: Math.ceil(bottom - top) + 8 }
}
