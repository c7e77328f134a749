import { reads, writes } from '../../../protocol/method-table.js'

/** The processes domain's callable methods and their kinds (src/protocol/method-table.ts). */
export const processMethods = {
  processes: {
    ...reads('config', 'get', 'active', 'list', 'completed'),
    ...writes('start', 'heartbeat', 'leave', 'pause', 'resume', 'stop', 'done', 'fail', 'begin', 'note', 'end', 'cleanup', 'recover', 'adopt', 'prune'),
    // A paused process waits here until it is resumed or stopped.
    checkpoint: 'wait',
  },
} as const
