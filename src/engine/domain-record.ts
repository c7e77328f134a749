import type { MethodTable } from '../protocol/method-table.js'
import type { CallContext, DomainSchema } from './context.js'
import type { EngineServices } from './engine-services.js'

/**
 * What the engine knows of a domain: everything it needs to serve one, in one record. Each domain
 * has its record in its own folder (`src/domains/<d>/engine/<d>-domain.ts`); whoever opens an
 * engine hands it the records (`EngineOptions.domains`, usually the standard list of
 * src/domains/registry.ts). The engine derives from them the methods `invoke` can reach, the
 * schemas it creates and migrates, the blobs it keeps, and which domain a changed table belongs to.
 *
 * `Methods` maps each name the domain serves (the first argument of `invoke`; items serves four:
 * lists, lineage, search, sessions) to its method table, which lives in the domain's `shared/` part
 * so that the page can read it without loading engine code.
 */
export interface DomainRecord<Methods extends Record<string, MethodTable> = Record<string, MethodTable>> {
  /** The domain's name: its row in `schema_versions`, and its name in change events (`ChangeEvent.domains`). */
  readonly name: string
  /** The methods `invoke` can reach, with their kinds, by the names the domain serves. */
  readonly methods: Methods
  /** Make the domain's objects for one engine (once, when the engine opens). */
  create(services: EngineServices): DomainInstance<Methods>
  /** Its SQL tables; absent when the domain keeps no data of its own (the change feed). */
  readonly storage?: DomainStorage
}

/** A domain method as the engine calls it: the call's context first, then the caller's arguments. */
type DomainMethod = (ctx: CallContext, ...args: any[]) => unknown

/** A domain's objects in one engine. */
export interface DomainInstance<Methods extends Record<string, MethodTable> = Record<string, MethodTable>> {
  /** The object serving each name; every method its table lists is a method of the object's class. */
  readonly serve: { readonly [Name in keyof Methods]: { [Method in keyof Methods[Name]]: DomainMethod } }
  /** The engine begins to close: end long waits (a watch's poll) at once. */
  closing?(): void
}

/** A domain's SQL tables, created when a vault is made and when an older vault lacks them. */
export interface DomainStorage extends DomainSchema {
  /** Its version in `schema_versions`: a vault with an older one (or none) runs `schema` again. */
  readonly version: number
  /**
   * How its tables' and indexes' names begin: a commit that writes or creates one is reported to
   * watchers as a change of this domain.
   */
  readonly tablePrefixes: readonly string[]
}

/** A record of any domain (the list an engine is opened with). */
export type AnyDomainRecord = DomainRecord<any>
