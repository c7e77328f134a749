/**
 * What the domain conformance suites (kv, columns, items) are written against: a {@link VaultTarget}
 * that opens the case's vault through the public API, wherever it runs. The same cases run
 *   - in Node, on memory and fs storage (test/node/vault-conformance.test.ts);
 *   - in Chromium, through the engine's worker on OPFS and IndexedDB, and from a follower tab whose
 *     vault forwards every call to the leader page (test/browser/vault-conformance.spec.ts).
 *
 * Environment-neutral on purpose: no node: imports, no runtime import from src/ (a page gets the
 * classes from the built package, and `instanceof` must compare against those), assertions from
 * ./assert.ts. A case throws an Error to fail.
 */
import type { LocationOptions, OpenVaultOptions, Vault } from '../../src/shared-exports.js'

/** Options a case may add when it opens its vault (where the vault lives is the runner's). */
export type CaseOpenOptions = Omit<OpenVaultOptions, keyof LocationOptions>

/** The public API besides openVault: error classes, list classes, hitsToArrow. */
export type Labvault = typeof import('../../src/shared-exports.js') & typeof import('../../src/domain-exports.js')

/** How a case reaches its vault. */
export interface VaultTarget {
  /** The module the vault comes from (in a page: the built package). */
  lib: Labvault
  /** Where the case runs, e.g. `node fs` or `chromium follower tab (opfs)`. */
  where: string
  /**
   * Open the case's own vault: empty at the first call of a case, the same vault at every later
   * call. Opening again while a handle is open gives a second handle on the same vault. `options`
   * are added to the runner's (e.g. a `logger`).
   */
  open(options?: CaseOpenOptions): Promise<Vault>
  /** Close `vault` and open the case's vault again (what was acknowledged must still be there). */
  reopen(vault: Vault): Promise<Vault>
}

/** One named check of a domain's behaviour. */
export interface VaultConformanceCase {
  /** Unique within its suite: it names the failing case in test output. */
  name: string
  run(target: VaultTarget): Promise<void>
}

/** How a runner opens vaults: {@link runVaultCase} builds the {@link VaultTarget} from it. */
export interface VaultOpener {
  lib: Labvault
  where: string
  /** Open (creating at the first call) the vault of the case that runs now, with the case's `options` added. */
  open(options?: CaseOpenOptions): Promise<Vault>
}

/**
 * Run one case, then close every vault handle it opened (also when it failed, so that the next
 * case, or the runner's cleanup, finds the vault free).
 */
export async function runVaultCase(c: VaultConformanceCase, opener: VaultOpener): Promise<void> {
  const opened: Vault[] = []
  const open = async (options?: CaseOpenOptions) => {
    const vault = await opener.open(options)
    opened.push(vault)
    return vault
  }
  try {
    await c.run({
      lib: opener.lib,
      where: opener.where,
      open,
      async reopen(vault) {
        await vault.close()
        return open()
      },
    })
  } finally {
    for (const vault of opened) await vault.close().catch(() => {})
  }
}
