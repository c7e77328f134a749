import { reads, writes } from '../../../protocol/method-table.js'

/**
 * The item domains' callable methods and their kinds (src/protocol/method-table.ts): item lists,
 * lineage between items, search, and the sessions that made them.
 */
export const itemMethods = {
  lists: {
    ...reads('info', 'has', 'list', 'descriptions', 'size', 'get', 'slice', 'content', 'text', 'item'),
    ...writes('create', 'delete', 'describe', 'append'),
  },
  lineage: reads('parents', 'children', 'ancestors', 'descendants'),
  search: reads('text', 'descriptions', 'similar', 'code', 'items'),
  sessions: { ...reads('info', 'list', 'wrote', 'createdBy'), ...writes('start', 'cell', 'done', 'fail') },
} as const
