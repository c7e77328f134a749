import { expect, test } from '@playwright/test'
import type { TablesCodePage } from './fixtures/tables-code.js'

// Code modules of versioned tables in a real browser worker: the module is imported from its source
// text through a blob URL, builders run over it (a YAML spec, row-wise with concurrency, rows with
// ctx.arrow), and a module importing a package is refused with a typed error naming it.
//   npm run build && LABVAULT_TEST_PORT=<port> npx playwright test test/browser/tables-code.spec.ts

const SOURCE = `
export const where = () => import.meta.url.slice(0, import.meta.url.indexOf(':'))
export function index(args) { return Array.from({ length: args.n }, (_, i) => ({ paper: 'paper-' + 'x'.repeat(i) })) }
export async function len(args) { await new Promise((r) => setTimeout(r, 1)); return args.p.length }
export function half(args, ctx) { return ctx.arrow.tableFromArrays({ half: Float64Array.from(args.lens, (x) => x / 2) }) }
`

test('a code module loads from source text in a worker (blob URL) and its builders run there', async ({ page }) => {
  await page.goto('/dist-test/tables-code.html')
  await page.waitForFunction(() => (window as unknown as TablesCodePage).tablesCodeReady === true)
  const reply = await page.evaluate((source) => (window as unknown as TablesCodePage).runTablesCode(source), SOURCE)
  expect(reply.error).toBeUndefined()
  expect(reply.ok).toBe(true)
  expect(reply.moduleUrlScheme).toBe('blob')
  expect(reply.columns).toEqual({
    paper: ['paper-', 'paper-x', 'paper-xx', 'paper-xxx'],
    len: [6, 7, 8, 9],
    half: [3, 3.5, 4, 4.5],
  })
  expect(reply.dtypes).toEqual({ paper: 'str:utf8', len: 'i32', half: 'f64?' })
  expect(reply.bareImport?.name).toBe('InvalidArgumentError')
  expect(reply.bareImport?.code).toBe('INVALID_ARGUMENT')
  expect(reply.bareImport?.message).toContain('"needs-arrow"')
  expect(reply.bareImport?.message).toContain('cannot import packages')
})
