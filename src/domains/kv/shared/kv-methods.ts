import { reads, writes } from '../../../protocol/method-table.js'

/** The key-value domain's callable methods and their kinds (src/protocol/method-table.ts). */
export const kvMethods = {
  kv: {
    ...reads('get', 'has', 'hasAll', 'getMany', 'size', 'keys', 'scan', 'streamInfo', 'streamChunk'),
    ...writes('set', 'setMany', 'setDefault', 'delete', 'deleteMany', 'pop', 'popMany', 'popItem', 'clear', 'streamPut', 'streamCommit', 'streamAbort'),
  },
} as const
