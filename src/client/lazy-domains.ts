import type { DomainCaller } from '../protocol/domain-caller.js'
import { cacheOptions } from '../domains/kv/client/kv-write-cache.js'
import type { Columns } from '../domains/columns/client/column.js'
import type { ColumnCacheOptions } from '../domains/columns/shared/column-types.js'
import type { ItemLists } from '../domains/items/client/item-lists.js'
import type { Lineage } from '../domains/items/client/lineage.js'
import type { Search } from '../domains/items/client/search.js'
import type { Sessions } from '../domains/items/client/session.js'
import type { Builders, CodeModules, TableArtifacts, Tables, TablesContext } from '../domains/tables/client/tables.js'
import type { Store, StoreArrays, StoreProjects, StoreWiring } from '../domains/store/client/store.js'
import type { Processes } from '../domains/processes/client/processes.js'
import type { DatabaseClient } from '../domains/sql/client/database-client.js'
import type { SqlOptions, SqlParam, SqlRelationInfo } from '../domains/sql/shared/sql-types.js'
import type { Table } from 'apache-arrow'
import { storeMethods } from '../domains/store/shared/store-methods.js'
import { escapeIdentifier, queryTag } from '../domains/sql/shared/sql-tag.js'
import { LazyModule, lazyClient, registerClasses, type AsyncMethodOf, type CoversAll } from './lazy-client.js'

// The stand-ins of every domain client but the key-value store's (src/client/lazy-client.ts). Each
// list names the client's methods; the `CoversAll` line below it fails the typecheck when a client
// gains a member its stand-in does not forward.

/** A client module, its classes registered for the browser entry's `instanceof` stand-ins. */
export async function load<M extends object>(module: Promise<M>): Promise<M> {
  const m = await module
  registerClasses(m)
  return m
}

const COLUMNS = ['create', 'ensure', 'get', 'has', 'list', 'delete', 'disableCache', 'withCache'] as const satisfies readonly AsyncMethodOf<Columns>[]
const columnsCovered: CoversAll<Columns, (typeof COLUMNS)[number] | 'flush' | 'enableCache' | 'cacheEnabled'> = true

/** `vault.columns`: typed columns; the client (and Arrow) load on first use. */
export function lazyColumns(caller: DomainCaller): Columns {
  // The vault-level write cache is switched on synchronously: remembered until the client loads.
  let pendingCache: ColumnCacheOptions | undefined
  const module = new LazyModule('the columns client', async () => {
    const columns = new (await load(import('../domains/columns/client/column.js'))).Columns(caller)
    if (pendingCache) columns.enableCache(pendingCache)
    return columns
  })
  return lazyClient(module, COLUMNS, 'Columns', {
    /** Nothing was buffered before the client loaded. */
    flush(): Promise<void> {
      return module.started ? module.get().then((c) => c.flush()) : Promise.resolve()
    },
    enableCache(options?: ColumnCacheOptions): void {
      const ready = module.loaded
      if (ready) return ready.enableCache(options)
      // Checked now, as the loaded client does: the client applies them when it loads.
      const checked = cacheOptions(options, 'columns.enableCache()')
      pendingCache ??= checked
    },
    get cacheEnabled(): boolean {
      return module.loaded?.cacheEnabled ?? pendingCache !== undefined
    },
  })
}

/**
 * The SQL client's module (src/client/sql-clients.ts): `vault.sql`, Parquet, and the database
 * client's class, from one chunk.
 */
export const sqlModule = () => load(import('./sql-clients.js'))

/** The item lists' clients, all four (and `startSession`) from one module (src/client/items-clients.ts). */
export const itemsModule = () => load(import('./items-clients.js'))

const LISTS = ['create', 'get', 'has', 'info', 'list', 'describe', 'descriptions', 'delete'] as const satisfies readonly AsyncMethodOf<ItemLists>[]
const listsCovered: CoversAll<ItemLists, (typeof LISTS)[number]> = true
const LINEAGE = ['parents', 'children', 'ancestors', 'descendants'] as const satisfies readonly AsyncMethodOf<Lineage>[]
const lineageCovered: CoversAll<Lineage, (typeof LINEAGE)[number]> = true
const SEARCH = ['text', 'similar', 'code', 'items', 'descriptions'] as const satisfies readonly AsyncMethodOf<Search>[]
const searchCovered: CoversAll<Search, (typeof SEARCH)[number]> = true
const SESSIONS = ['list', 'info', 'wrote'] as const satisfies readonly AsyncMethodOf<Sessions>[]
const sessionsCovered: CoversAll<Sessions, (typeof SESSIONS)[number]> = true

/** `vault.lists`, `vault.lineage`, `vault.search` and `vault.sessions` of one caller. */
export interface ItemClients {
  lists: ItemLists
  lineage: Lineage
  search: Search
  sessions: Sessions
}

/**
 * The stand-ins of the four item clients, loaded together by the first call on any of them. Their
 * calls take effect in the order they are made, whichever client they are made on (docs/items.md,
 * "Call order"): with a load of its own per client, the first `vault.search.text()` waited for its
 * client while a `lists.delete()` made after it, on a loaded client, reached the engine first.
 */
export function lazyItemClients(caller: DomainCaller): ItemClients {
  const module = new LazyModule('the item lists client', async () => {
    const m = await itemsModule()
    return { lists: new m.ItemLists(caller), lineage: new m.Lineage(caller), search: new m.Search(caller), sessions: new m.Sessions(caller) }
  })
  return {
    lists: lazyClient(module, LISTS, 'ItemLists', undefined, (c) => c.lists),
    lineage: lazyClient(module, LINEAGE, 'Lineage', undefined, (c) => c.lineage),
    search: lazyClient(module, SEARCH, 'Search', undefined, (c) => c.search),
    sessions: lazyClient(module, SESSIONS, 'Sessions', undefined, (c) => c.sessions),
  }
}

const TABLES = [
  'create', 'rename', 'delete', 'list', 'info', 'createInstance', 'deleteInstance', 'instances', 'write', 'get', 'execute', 'describe', 'descriptions', 'locks', '_restart',
] as const satisfies readonly AsyncMethodOf<Tables>[]
const tablesCovered: CoversAll<Tables, (typeof TABLES)[number] | 'builders' | 'artifacts'> = true
const BUILDERS = ['create', 'list', 'get', 'delete'] as const satisfies readonly AsyncMethodOf<Builders>[]
const buildersCovered: CoversAll<Builders, (typeof BUILDERS)[number]> = true
const ARTIFACTS = ['list', 'get', 'put'] as const satisfies readonly AsyncMethodOf<TableArtifacts>[]
const artifactsCovered: CoversAll<TableArtifacts, (typeof ARTIFACTS)[number]> = true
const CODE = ['create', 'list', 'get', 'delete'] as const satisfies readonly AsyncMethodOf<CodeModules>[]
const codeCovered: CoversAll<CodeModules, (typeof CODE)[number]> = true

/** The tables client's module (its classes and `vaultTree`), loaded once. */
export const tablesModule = () => load(import('../domains/tables/client/tables.js'))

/** `vault.tables`: versioned tables; `builders` and `artifacts(…)` are stand-ins too. */
export function lazyTables(tc: TablesContext): Tables {
  const module = new LazyModule('the tables client', async () => new (await tablesModule()).Tables(tc))
  const builders = lazyClient(new LazyModule('the tables client', async () => (await module.get()).builders), BUILDERS, 'Builders')
  return lazyClient(module, TABLES, 'Tables', {
    builders,
    artifacts(table: string, options: { instanceId?: string } = {}): TableArtifacts {
      return lazyClient(new LazyModule('the tables client', async () => (await module.get()).artifacts(table, options)), ARTIFACTS, 'TableArtifacts')
    },
  })
}

/** `vault.code`: code modules. */
export function lazyCode(tc: TablesContext): CodeModules {
  return lazyClient(new LazyModule('the tables client', async () => new (await tablesModule()).CodeModules(tc)), CODE, 'CodeModules')
}

// The store's stand-ins take most of their method names from the store's method table
// (src/domains/store/shared/store-methods.ts), which the page holds anyway (src/protocol/method-kinds.ts):
// the client's methods are the engine's, those of `arrays` and `projects` under a prefix
// (`arraysLoad` is `store.arrays.load`), plus the client's own below. Listing them again cost the
// page ~75 bytes gzip (docs/cold-start.md, "Main-thread bytes"). The types below derive the same
// names, so the coverage checks still fail the typecheck when a client and its stand-in disagree.
type StoreEngineMethod = keyof (typeof storeMethods)['store']
const storeEngine = Object.keys(storeMethods.store) as StoreEngineMethod[]
/** `arraysLoad` → `load`: the engine's names of a sub-object's methods, without their prefix. */
type Unprefixed<P extends string> = StoreEngineMethod extends infer N ? (N extends `${P}${infer R}` ? Uncapitalize<R> : never) : never
function unprefixed<P extends string>(prefix: P): Unprefixed<P>[] {
  return storeEngine.filter((n) => n.startsWith(prefix)).map((n) => n[prefix.length]!.toLowerCase() + n.slice(prefix.length + 1)) as Unprefixed<P>[]
}
/** The store client's methods that are no engine method of the same name. */
const STORE_OWN = ['_call', '_table', 'savePrediction', 'vacuum', 'exportChain', 'exportPipelineConfig', 'exportRun', 'exportPredictionsParquet', 'replayChain'] as const
type StoreStandIn = Exclude<StoreEngineMethod, `arrays${string}` | `project${string}` | 'setRunProject'> | (typeof STORE_OWN)[number]
const STORE = [...storeEngine.filter((n) => !/^(arrays|project)|^setRunProject$/.test(n)), ...STORE_OWN] as StoreStandIn[] satisfies readonly AsyncMethodOf<Store>[]
const storeCovered: CoversAll<Store, StoreStandIn | 'arrays' | 'projects'> = true
const ARRAYS = unprefixed('arrays') satisfies readonly AsyncMethodOf<StoreArrays>[]
const arraysCovered: CoversAll<StoreArrays, Unprefixed<'arrays'>> = true
const PROJECTS = [...unprefixed('project'), 'setRunProject' as const] satisfies readonly AsyncMethodOf<StoreProjects>[]
const projectsCovered: CoversAll<StoreProjects, Unprefixed<'project'> | 'setRunProject'> = true

/**
 * `vault.store`: the experiment store. `wiring.guard` guards the stand-ins of `arrays` and
 * `projects` (the loaded store's own sub-objects are reached only through them).
 */
export function lazyStore(caller: DomainCaller, wiring: StoreWiring): Store {
  const module = new LazyModule('the experiment store client', async () => new (await load(import('../domains/store/client/store.js'))).Store(caller, { optimize: wiring.optimize, guard: (o) => o }))
  return lazyClient(module, STORE, 'Store', {
    arrays: wiring.guard(lazyClient(new LazyModule('the experiment store client', async () => (await module.get()).arrays), ARRAYS, 'StoreArrays')),
    projects: wiring.guard(lazyClient(new LazyModule('the experiment store client', async () => (await module.get()).projects), PROJECTS, 'StoreProjects')),
  })
}

const PROCESSES = ['start', 'pause', 'resume', 'stop', 'active', 'completed', 'get', 'list', 'cleanup', 'recover', 'adopt', 'newId', 'prune', '_track'] as const satisfies readonly AsyncMethodOf<Processes>[]
const processesCovered: CoversAll<Processes, (typeof PROCESSES)[number] | 'holder' | 'lastRecovery' | '_call' | '_finished' | '_close'> = true

/**
 * `vault.processes`: the processes client. Its holder id is chosen at once (the tables client
 * reads it synchronously); the vault's internal end-of-process and close notices reach a loaded
 * client only (before the load no process is tracked, so there is nothing to stop), and a client
 * loaded after the vault closed starts closed.
 */
export function lazyProcesses(caller: DomainCaller, holder: string): Processes {
  let closed = false
  const module = new LazyModule('the processes client', async () => {
    const processes = new (await load(import('../domains/processes/client/processes.js'))).Processes(caller, holder)
    if (closed) processes._close()
    return processes
  })
  return lazyClient(module, PROCESSES, 'Processes', {
    holder,
    get lastRecovery() {
      return module.loaded?.lastRecovery
    },
    _call(method: string, args: unknown[]): Promise<unknown> {
      return module.get().then((p) => p._call(method, args))
    },
    _finished(id: string): void {
      module.loaded?._finished(id)
    },
    _close(): void {
      closed = true
      module.loaded?._close()
    },
  })
}

const DATABASE = ['query', 'queryRow', 'queryStream', 'describeTables', 'describeColumns'] as const satisfies readonly AsyncMethodOf<DatabaseClient>[]
const databaseCovered: CoversAll<DatabaseClient, (typeof DATABASE)[number] | 'dialect' | 'sql' | 'queryTag' | 'escape'> = true

/**
 * `vault.databaseClient()`: the notebook database client (src/domains/sql/client/database-client.ts),
 * loaded on first query with the SQL client, whose chunk each query needs anyway. Its synchronous members (`dialect`, `queryTag`, `escape`) answer at once,
 * with the same functions as the real class; `sql` binds its template at the call.
 */
export function lazyDatabaseClient(run: (text: string, options: SqlOptions) => Promise<Table>, relations: () => Promise<SqlRelationInfo[]>): DatabaseClient {
  const module = new LazyModule('the database client', async () => new (await sqlModule()).DatabaseClient(run, relations))
  const client: DatabaseClient = lazyClient(module, DATABASE, 'DatabaseClient', {
    dialect: 'duckdb' as const,
    sql(strings: TemplateStringsArray, ...values: SqlParam[]) {
      try {
        return client.query(...client.queryTag(strings, ...values))
      } catch (err) {
        return Promise.reject(err)
      }
    },
    queryTag(strings: TemplateStringsArray, ...values: SqlParam[]): [string, SqlParam[]] {
      return queryTag(strings, values)
    },
    escape: escapeIdentifier,
  })
  return client
}

/** @internal Referenced so that the compile-time coverage checks above are not unused. */
export const coverageChecks = [databaseCovered, processesCovered, columnsCovered, listsCovered, lineageCovered, searchCovered, sessionsCovered, tablesCovered, buildersCovered, artifactsCovered, codeCovered, storeCovered, arraysCovered, projectsCovered]
