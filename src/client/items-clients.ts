import type { DomainCaller } from '../protocol/domain-caller.js'
import type { SessionOptions } from '../domains/items/shared/item-types.js'
import { startSession, type Session } from '../domains/items/client/session.js'

// The item lists' clients (`vault.lists`, `lineage`, `search`, `sessions`, `vault.session()`) as one
// module: one dynamic import for the five (they are one chunk: scripts/build.mjs), so a page that
// never uses them carries one loader, not five (docs/cold-start.md, "Main-thread bytes").
export * from '../domains/items/client/item-lists.js'
export * from '../domains/items/client/lineage.js'
export * from '../domains/items/client/search.js'
export * from '../domains/items/client/session.js'

/**
 * `vault.session(name, options)` once this module is loaded (src/client/vault.ts keeps only the
 * call): a session runs as `options.user`, else as who `defaultUser` names (the vault's author).
 */
export async function startVaultSession(caller: DomainCaller, name: string, options: SessionOptions, defaultUser: () => Promise<string>): Promise<Session> {
  const user = options.user ?? (await defaultUser())
  return startSession(caller, name, { ...options, user })
}
