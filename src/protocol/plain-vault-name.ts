/**
 * Vault names of ASCII letters, digits, `_` and `-`, 1 to 128 of them: every such name passes the
 * whole rule of src/protocol/vault-name.ts (test/node/vault-name.test.ts checks it by generation),
 * so a page checks these without loading that rule (src/index.ts, `checkVaultName`).
 */
export const PLAIN_VAULT_NAME = /^[\w-]{1,128}$/
