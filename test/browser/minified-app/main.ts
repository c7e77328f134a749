// A page built by Vite in production mode (minified, class names mangled), using the package as
// its README says: the test (test/browser/minified.spec.ts) checks that errors keep their name,
// code and class on both sides of the worker, and that nothing hangs (issue 8, items 19 and 20).
import * as labvault from 'labvault'
import VaultWorker from 'labvault/worker?worker'
import wasmUrl from 'labvault/sql-wasm.wasm?url'

/** What the test learns about an error: plain data that crosses page.evaluate. */
export interface ErrorReport {
  name: string
  code: string | undefined
  message: string
  /** The class the error should be, by its exported name: is `err instanceof labvault[expected]`? */
  isExpected: boolean
  isVaultError: boolean
}

async function report(expected: keyof typeof labvault, fn: () => Promise<unknown>): Promise<ErrorReport | 'resolved'> {
  try {
    await fn()
    return 'resolved'
  } catch (err) {
    const e = err as Error & { code?: string }
    const Class = labvault[expected] as unknown as abstract new (...a: never[]) => unknown
    return { name: e.name, code: e.code, message: e.message, isExpected: err instanceof Class, isVaultError: err instanceof labvault.VaultError }
  }
}

const app = {
  labvault,
  VaultWorker,
  wasmUrl,
  report,
  /** The error classes as this minified build sees them (the names a minifier would mangle). */
  classNames: () => [labvault.NotFoundError.name, labvault.VaultError.name],
}
;(window as unknown as { app: typeof app }).app = app
document.getElementById('status')!.textContent = 'ready'
;(window as unknown as { appReady: boolean }).appReady = true
