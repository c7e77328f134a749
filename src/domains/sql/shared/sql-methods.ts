import { reads } from '../../../protocol/method-table.js'

/**
 * The sql domain's callable methods and their kinds (src/protocol/method-table.ts). All are reads:
 * SQL over the vault never changes it, and `cancel` only interrupts a query of this engine.
 */
export const sqlMethods = {
  sql: {
    ...reads('query', 'cancel', 'relations', 'refreshStats'),
  },
} as const
