// What both entries (browser and Node) export besides openVault, listVaults and deleteVault.
export * from './errors/errors.js'
export type { StorageAdapter } from './storage/storage-adapter.js'
export { MemoryAdapter } from './storage/memory-adapter.js'
export { Vault, VaultTransaction, VaultDomains } from './client/vault.js'
export { KeyValue, type CacheOptions } from './domains/kv/client/key-value.js'
export type { Key, KeyQuery, SetOptions, ValueEncoding } from './domains/kv/shared/kv-types.js'
export type { OpenVaultOptions, LocationOptions, StorageChoice } from './client/options.js'
export type { VaultLogger, VaultConsoleLogger, VaultLogEntry } from './client/logging-port.js'
export type { OptimizeResult, VaultInfo } from './protocol/engine-types.js'
export type { Durability, RecoveryReport } from './protocol/engine-types.js'
export { FORMAT_VERSION } from './persistence/format.js'
// Item lists, lineage, sessions, search (src/items).
export { ItemLists, ItemList, DocumentList, EmbeddingList, FileItemList, RecordList, type AnyItemList } from './domains/items/client/item-lists.js'
export { Lineage, type ItemRange } from './domains/items/client/lineage.js'
export { Search } from './domains/items/client/search.js'
export { Session, Sessions } from './domains/items/client/session.js'
export { hitsToArrow } from './domains/items/client/hits-arrow.js'
export type * from './domains/items/shared/item-types.js'
// Processes and signals (src/processes); change notifications (src/sharing).
export { Processes, ProcessHandle, type BeginOptions } from './domains/processes/client/processes.js'
export type { JournalEntry, JournalKey, ProcessInfo, ProcessRequest, ProcessStatus, RecoveryResult } from './domains/processes/client/processes.js'
export type { ChangeEvent, WatchFilter } from './domains/changes/shared/changes.js'
// Typed columns (src/columns).
export { Column, Columns } from './domains/columns/client/column.js'
export type { ColumnInfo, ColumnOptions, ColumnCacheOptions, DTypeString, ShapedArray, ElementOf, InputOf, SliceOf, ExtendInput } from './domains/columns/shared/column-types.js'

// SQL over the vault (src/domains/sql): vault.sql returns apache-arrow Tables; databaseClient() for notebooks.
export { DatabaseClient, type DatabaseColumn, type DatabaseRow, type DatabaseRows, type DatabaseRowStream } from './domains/sql/client/database-client.js'
export type { SqlOptions, SqlParam, SqlRelationInfo } from './domains/sql/shared/sql-types.js'
