import type { MethodTable } from '../../../protocol/method-table.js'

/** The change feed's callable methods and their kinds (src/protocol/method-table.ts). */
export const changeMethods = {
  // `next` is a watch's long poll: it waits for the next change.
  changes: { cursor: 'read', next: 'wait' },
} as const satisfies Record<string, MethodTable>
