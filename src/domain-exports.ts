// The domain clients' classes as values, as Node's entry exports them (src/node.ts). The browser
// entry exports stand-ins of the same types instead (src/browser-domain-exports.ts), so that a page
// loads a client's module only when it first uses that domain (docs/cold-start.md).
export { ItemLists, ItemList, DocumentList, EmbeddingList, FileItemList, RecordList } from './domains/items/client/item-lists.js'
export { Lineage } from './domains/items/client/lineage.js'
export { Search } from './domains/items/client/search.js'
export { Session, Sessions } from './domains/items/client/session.js'
export { Column, Columns } from './domains/columns/client/column.js'
export { Tables, Builders, TableArtifacts, CodeModules } from './domains/tables/client/tables.js'
export { Store, StoreArrays, StoreProjects } from './domains/store/client/store.js'
export { Processes, ProcessHandle } from './domains/processes/client/processes.js'
export { DatabaseClient } from './domains/sql/client/database-client.js'
