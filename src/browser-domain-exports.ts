// The browser entry's domain classes (src/index.ts): stand-ins with the types of the real classes
// (src/domain-exports.ts), so that importing labvault does not load every domain's client. Each
// client's module loads when the vault first uses it (src/client/lazy-domains.ts); `instanceof`
// against a stand-in holds exactly for instances of the real class (src/client/lazy-client.ts).
import type * as real from './domain-exports.js'
import { standIn } from './client/lazy-client.js'

// Each stand-in is marked pure: a page that imports none of them (a key-value-only page) loses the
// calls that make them too (docs/cold-start.md, "Main-thread bytes").

/** Item lists (`vault.lists`). */
export const ItemLists = /* @__PURE__ */ standIn<typeof real.ItemLists>('ItemLists')
export type ItemLists = real.ItemLists
/** Any item list: the base class of the four kinds. */
export const ItemList = /* @__PURE__ */ standIn<typeof real.ItemList>('ItemList')
export type ItemList<TValue, TInput> = real.ItemList<TValue, TInput>
/** A list of documents (text). */
export const DocumentList = /* @__PURE__ */ standIn<typeof real.DocumentList>('DocumentList')
export type DocumentList = real.DocumentList
/** A list of embeddings (float32 vectors of one dimension). */
export const EmbeddingList = /* @__PURE__ */ standIn<typeof real.EmbeddingList>('EmbeddingList')
export type EmbeddingList = real.EmbeddingList
/** A list of files (bytes in the blob store). */
export const FileItemList = /* @__PURE__ */ standIn<typeof real.FileItemList>('FileItemList')
export type FileItemList = real.FileItemList
/** A list of records (objects with the list's fields). */
export const RecordList = /* @__PURE__ */ standIn<typeof real.RecordList>('RecordList')
export type RecordList<R extends Record<string, unknown> = Record<string, unknown>> = real.RecordList<R>
/** Lineage between item ranges (`vault.lineage`). */
export const Lineage = /* @__PURE__ */ standIn<typeof real.Lineage>('Lineage')
export type Lineage = real.Lineage
/** Search over item lists (`vault.search`). */
export const Search = /* @__PURE__ */ standIn<typeof real.Search>('Search')
export type Search = real.Search
/** A session (`vault.session(name)`). */
export const Session = /* @__PURE__ */ standIn<typeof real.Session>('Session')
export type Session = real.Session
/** Every session of the vault (`vault.sessions`). */
export const Sessions = /* @__PURE__ */ standIn<typeof real.Sessions>('Sessions')
export type Sessions = real.Sessions
/** A typed column (`vault.columns.get(name)`). */
export const Column = /* @__PURE__ */ standIn<typeof real.Column>('Column')
export type Column<D extends string = string> = real.Column<D>
/** Typed columns (`vault.columns`). */
export const Columns = /* @__PURE__ */ standIn<typeof real.Columns>('Columns')
export type Columns = real.Columns
/** Versioned tables (`vault.tables`). */
export const Tables = /* @__PURE__ */ standIn<typeof real.Tables>('Tables')
export type Tables = real.Tables
/** A table's builder specs (`vault.tables.builders`). */
export const Builders = /* @__PURE__ */ standIn<typeof real.Builders>('Builders')
export type Builders = real.Builders
/** An instance's artifacts (`vault.tables.artifacts(table)`). */
export const TableArtifacts = /* @__PURE__ */ standIn<typeof real.TableArtifacts>('TableArtifacts')
export type TableArtifacts = real.TableArtifacts
/** Code modules (`vault.code`). */
export const CodeModules = /* @__PURE__ */ standIn<typeof real.CodeModules>('CodeModules')
export type CodeModules = real.CodeModules
/** The experiment store (`vault.store`). */
export const Store = /* @__PURE__ */ standIn<typeof real.Store>('Store')
export type Store = real.Store
/** The store's prediction arrays (`vault.store.arrays`). */
export const StoreArrays = /* @__PURE__ */ standIn<typeof real.StoreArrays>('StoreArrays')
export type StoreArrays = real.StoreArrays
/** The store's projects (`vault.store.projects`). */
export const StoreProjects = /* @__PURE__ */ standIn<typeof real.StoreProjects>('StoreProjects')
export type StoreProjects = real.StoreProjects

/** Compile-time check: the stand-ins have exactly the real classes' types (this line fails `npm run typecheck` otherwise). */
type Mine = Omit<typeof import('./browser-domain-exports.js'), 'sameAsReal'>
type SameAsReal = Mine extends typeof real ? (typeof real extends Mine ? true : false) : false
/** @internal */
export const sameAsReal: SameAsReal = true
/** The processes client (`vault.processes`). */
export const Processes = /* @__PURE__ */ standIn<typeof real.Processes>('Processes')
export type Processes = real.Processes
/** A running process (`vault.processes.start(name)`). */
export const ProcessHandle = /* @__PURE__ */ standIn<typeof real.ProcessHandle>('ProcessHandle')
export type ProcessHandle = real.ProcessHandle
/** The notebook database client (`vault.databaseClient()`). */
export const DatabaseClient = /* @__PURE__ */ standIn<typeof real.DatabaseClient>('DatabaseClient')
export type DatabaseClient = real.DatabaseClient
