import { KvEngine, kvSchema } from '../kv/kv-engine.js'
import { createItemDomains, itemsSchema } from '../items/items-domains.js'
import type { DomainSchema } from './context.js'
import { ProcessesEngine, processesSchema } from '../processes/processes-engine.js'
import { ChangesEngine } from '../sharing/changes-engine.js'
import { ColumnsEngine, columnsSchema } from '../columns/column-engine.js'
import { requestLogSchema } from './request-log.js'

/**
 * Every domain of the engine: its name (the first argument of `invoke`), the object whose methods
 * serve it, and its schema. A new domain (columns, items, processes, …) is one line here.
 */
export function createDomains() {
  return {
    kv: new KvEngine(),
    // Item lists: `lists`, `lineage`, `search`, `sessions` (they share in-memory search indexes).
    ...createItemDomains(),
    // Processes and signals (src/processes); the change feed behind vault.watch (src/sharing).
    processes: new ProcessesEngine(),
    changes: new ChangesEngine(),
    // Typed columns (src/columns).
    columns: new ColumnsEngine(),
  }
}

/** The domains' tables, created in order when a vault is made and when an older vault lacks them. */
export const domainSchemas: Record<string, DomainSchema & { version: number }> = {
  kv: { ...kvSchema, version: 1 },
  items: { ...itemsSchema, version: 1 },
  processes: { ...processesSchema, version: 1 },
  columns: { ...columnsSchema, version: 1 },
  requests: { ...requestLogSchema, version: 1 },
}

/**
 * What a domain method does, for callers that must know before running it:
 * - `read` changes nothing (safe to run again);
 * - `write` changes the vault and returns soon: forwarded from another tab it runs exactly once
 *   (src/engine/request-log.ts);
 * - `wait` may wait a long time for something else (a paused process, the next change).
 */
export type MethodKind = 'read' | 'write' | 'wait'

const reads = (...names: string[]) => Object.fromEntries(names.map((n) => [n, 'read' as const]))
const writes = (...names: string[]) => Object.fromEntries(names.map((n) => [n, 'write' as const]))

/**
 * The only methods `invoke` can reach, by domain (a domain object's other methods, helpers or
 * wiring such as `attach`, stay out of reach of callers, even though they sit on its prototype).
 */
export const domainMethods: Record<DomainName, Readonly<Record<string, MethodKind>>> = {
  kv: {
    ...reads('get', 'has', 'hasAll', 'getMany', 'size', 'keys', 'scan'),
    ...writes('set', 'setMany', 'setDefault', 'delete', 'deleteMany', 'pop', 'popMany', 'popItem', 'clear'),
  },
  lists: {
    ...reads('info', 'has', 'list', 'descriptions', 'size', 'get', 'slice', 'content', 'text', 'item'),
    ...writes('create', 'delete', 'describe', 'append'),
  },
  lineage: reads('parents', 'children', 'ancestors', 'descendants'),
  search: reads('text', 'descriptions', 'similar', 'code'),
  sessions: { ...reads('info', 'list'), ...writes('start', 'cell') },
  processes: {
    ...reads('config', 'get', 'active', 'list', 'completed'),
    ...writes('start', 'heartbeat', 'leave', 'pause', 'resume', 'stop', 'done', 'fail', 'begin', 'note', 'end', 'cleanup', 'recover', 'adopt'),
    checkpoint: 'wait',
  },
  changes: { cursor: 'read', next: 'wait' },
  columns: {
    ...reads('info', 'list', 'length', 'slice', 'get'),
    ...writes('create', 'ensure', 'drop', 'extend', 'set', 'setSlice', 'insert', 'deleteAt', 'clear'),
  },
}

/** The domain objects of one engine. */
export type Domains = ReturnType<typeof createDomains>
/** A domain's name. */
export type DomainName = keyof Domains
