import type { SqliteDatabase, StatementGroup } from '../sqlite/sqlite-database.js'
import type { DomainSchema } from './context.js'
import { randomId } from '../protocol/random-id.js'

/**
 * The vault's identity: a random id (32 hex digits, 128 bits) made once, when the vault is created
 * (a row of its creation record) or, for a vault made before it existed, by the first open that may
 * write (a logged commit, src/engine/vault-engine.ts `migrate`). It lives in the database, beside
 * the rows it qualifies (sessions), so it is replayed from the log, kept by checkpoints and copied
 * by export and import exactly as they are; the manifest's identity fields (name, creation time)
 * are lost by a repair that rebuilds a manifest, and an older build rewriting the manifest would
 * drop a field it does not know. What uses it: a session reference names its vault, and a vault
 * refuses another vault's session whose id happens to exist in it (docs/items.md, "Sessions").
 */
export const vaultIdentitySchema: DomainSchema & { name: string; version: number } = {
  // Its row in schema_versions (the engine core's own table, beside the domains').
  name: 'vault',
  version: 1,
  schema: `CREATE TABLE IF NOT EXISTS vault_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;`,
}

/** A new vault id: 128 random bits in hex (randomId: getRandomValues, which every context has). */
export function newVaultId(): string {
  return randomId()
}

/**
 * The statement that records a vault's id. `OR IGNORE`: an id once recorded is never replaced (two
 * processes opening an old vault at once each make one; the second insert, run after catching up
 * with the first's commit, changes no row and so is not logged).
 */
export function vaultIdStatements(id: string): StatementGroup[] {
  return [["INSERT OR IGNORE INTO vault_meta (key, value) VALUES ('id', ?)", [[id]]]]
}

/** The vault's id, or undefined for a vault that has none yet (made before it existed, opened read-only so far). */
export function vaultIdOf(db: SqliteDatabase): string | undefined {
  if (!db.get("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vault_meta'")) return undefined
  return (db.get("SELECT value FROM vault_meta WHERE key = 'id'")?.[0] as string | undefined) ?? undefined
}
