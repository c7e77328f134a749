import { reads, writes } from '../../../protocol/method-table.js'

/**
 * The tables domain's callable methods and their kinds (src/protocol/method-table.ts). Every
 * write operation of TableVault is a process (docs/tables.md, "Processes"); `execute` computes
 * between its commits and may run long, hence `wait`.
 */
export const tableMethods = {
  tables: {
    ...reads('list', 'info', 'instances', 'get', 'columnBytes', 'buildersList', 'buildersGet', 'codeList', 'codeGet', 'artifactsList', 'artifactsGet', 'descriptions', 'tree', 'locks', 'awaitBackground'),
    ...writes('create', 'rename', 'drop', 'createInstance', 'deleteInstance', 'buildersCreate', 'buildersDelete', 'codeCreate', 'codeDelete', 'write', 'describe', 'artifactsPut', 'restart'),
    execute: 'wait',
  },
} as const
