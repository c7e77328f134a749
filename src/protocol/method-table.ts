/**
 * How a domain states its callable methods, as data (no engine code): each domain's `shared/` part
 * holds its table, the engine checks every call against it (src/engine/domain-record.ts), and the
 * page side reads the tables gathered in src/protocol/method-kinds.ts.
 */

/**
 * What a domain method does, for callers that must know before running it:
 * - `read` changes nothing (safe to run again);
 * - `write` changes the vault and returns soon: forwarded from another tab it runs exactly once
 *   (src/engine/request-log.ts);
 * - `wait` may wait a long time for something else (a paused process, the next change).
 */
export type MethodKind = 'read' | 'write' | 'wait'

/**
 * The methods `invoke` can reach on one domain name, with their kinds (a domain object's other
 * methods, helpers or wiring, stay out of reach of callers even though they sit on its prototype).
 */
export type MethodTable = Readonly<Record<string, MethodKind>>

/** Method table entries, all of one kind: `{ ...reads('get', 'has'), ...writes('set') }`. */
function methodsOfKind<K extends MethodKind>(kind: K) {
  return <N extends string>(...names: N[]): { readonly [M in N]: K } => Object.fromEntries(names.map((n) => [n, kind])) as { readonly [M in N]: K }
}
export const reads = methodsOfKind('read')
export const writes = methodsOfKind('write')
