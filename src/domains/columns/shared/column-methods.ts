import { reads, writes } from '../../../protocol/method-table.js'

/** The columns domain's callable methods and their kinds (src/protocol/method-table.ts). */
export const columnMethods = {
  columns: {
    ...reads('info', 'list', 'length', 'slice', 'get'),
    ...writes('create', 'ensure', 'drop', 'extend', 'set', 'setSlice', 'insert', 'deleteAt', 'clear'),
  },
} as const
