/**
 * The engine's callable surface, as data (no engine code): the engine checks every call against
 * it, and the page side of tab sharing reads it to know which calls are safe to run again.
 */

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
export const domainMethods = {
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
} satisfies Record<string, Readonly<Record<string, MethodKind>>>

/** The method kind of `domain.method`, or undefined when it cannot be invoked. */
export function methodKind(domain: string, method: string): MethodKind | undefined {
  const methods = Object.hasOwn(domainMethods, domain) ? (domainMethods as Record<string, Record<string, MethodKind>>)[domain]! : undefined
  return methods && Object.hasOwn(methods, method) ? methods[method] : undefined
}
