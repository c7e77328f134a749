// What both entries (browser and Node) export besides openVault, listVaults and deleteVault.
export * from './errors/errors.js'
export { fromPlatformError } from './errors/platform-error.js'
export type { StorageAdapter } from './storage/storage-adapter.js'
export { MemoryAdapter } from './storage/memory-adapter.js'
export { Vault, VaultTransaction, VaultDomains } from './client/vault.js'
export { KeyValue, type CacheOptions } from './domains/kv/client/key-value.js'
export type { Key, KeyQuery, SetOptions, SetStreamOptions, ValueEncoding } from './domains/kv/shared/kv-types.js'
export type { ByteSource } from './domains/kv/client/kv-streams.js'
export type { OpenVaultOptions, LocationOptions, StorageChoice, WorkerConfiguration, WorkerOption } from './client/options.js'
export type { VaultLogger, VaultConsoleLogger, VaultLogEntry } from './client/logging-port.js'
export type { OptimizeResult, VaultInfo } from './protocol/engine-types.js'
export type { Durability, RecoveryReport } from './protocol/engine-types.js'
export { FORMAT_VERSION } from './persistence/format.js'
// Item lists, lineage, sessions, search (src/items).
// The domain clients' classes are types here; each entry exports them as values (Node: the classes,
// src/domain-exports.ts; browser: stand-ins whose modules load on first use, src/browser-domain-exports.ts).
export type { ItemLists, ItemList, DocumentList, EmbeddingList, FileItemList, RecordList, AnyItemList } from './domains/items/client/item-lists.js'
export type { Lineage, ItemRange } from './domains/items/client/lineage.js'
export type { Search } from './domains/items/client/search.js'
export type { Session, Sessions } from './domains/items/client/session.js'
export { hitsToArrow } from './domains/items/client/hits-arrow.js'
export type * from './domains/items/shared/item-types.js'
// Processes and signals (src/processes); change notifications (src/sharing).
export type { BeginOptions } from './domains/processes/client/processes.js'
export type { JournalEntry, JournalKey, ProcessInfo, ProcessRequest, ProcessStatus, PruneOptions, RecoveryResult } from './domains/processes/client/processes.js'
export type { ChangeEvent, WatchFilter } from './domains/changes/shared/changes.js'
// Typed columns (src/columns).
export type { Column, Columns } from './domains/columns/client/column.js'
export type { ColumnInfo, ColumnOptions, ColumnCacheOptions, DTypeString, ShapedArray, ElementOf, InputOf, SliceOf, ExtendInput } from './domains/columns/shared/column-types.js'
// Versioned tables built by stored code (src/domains/tables, docs/tables.md).
export type { Tables, Builders, TableArtifacts, CodeModules } from './domains/tables/client/tables.js'
export type { TableData } from './domains/tables/client/table-arrow.js'
export type { VaultTreeResult } from './domains/tables/client/tree.js'
export type * from './domains/tables/shared/table-types.js'
export type { BuilderSpec, IndexBuilderSpec, ColumnBuilderSpec, ReturnType as BuilderReturnType } from './domains/tables/shared/builder-types.js'
export type { BuilderContext } from './domains/tables/engine/compute/compute-types.js'

export type { Store, StoreArrays, StoreProjects, StoreWiring } from './domains/store/client/store.js'
export type * from './domains/store/shared/store-types.js'
export { METRIC_COLUMNS, GROUP_COLUMNS } from './domains/store/shared/store-types.js'
export type { ExportToPath, PredictionsParquetOptions, ReplayOperator, ReplayOperators, ReplayOptions, ReplayRow } from './domains/store/client/store.js'
export { readParquet, readParquetRows, writeParquet, type ParquetWriteOptions, type ZstdWasmSource } from './codec/parquet.js'

// SQL over the vault (src/domains/sql): vault.sql returns apache-arrow Tables; databaseClient() for notebooks.
export type { DatabaseColumn, DatabaseRow, DatabaseRows, DatabaseRowStream } from './domains/sql/client/database-client.js'
export type { SqlOptions, SqlParam, SqlRelationInfo } from './domains/sql/shared/sql-types.js'
export type { ExportParquetOptions, ImportParquetOptions, ImportParquetResult } from './domains/sql/client/sql-parquet.js'
