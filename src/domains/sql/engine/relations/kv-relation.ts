import { decodeValue } from '../../../../codec/value-codec.js'
import type { CallContext } from '../../../../engine/context.js'
import type { SqlValue } from '../../../../sqlite/sqlite-database.js'
import type { KvRowRef } from '../../../changes/shared/changes.js'
import { ValueKind } from '../../../kv/shared/kv-types.js'
import { KV_CHUNKED, KV_IN_BLOB } from '../../../kv/engine/kv-entries.js'
import { readManifest } from '../../../kv/engine/kv-streams.js'
import { jsonText, unreadableData, type RelationDef, type RelationProvider, type RelationSink } from './relation.js'

/** `kv`: every key-value entry of every namespace. */
export const KV_RELATION: RelationDef = {
  schema: 'main',
  name: 'kv',
  columns: [
    { name: 'namespace', type: 'VARCHAR' },
    { name: 'key', type: 'VARCHAR' },
    { name: 'key_bytes', type: 'BLOB' },
    { name: 'value', type: 'VARCHAR' },
    { name: 'kind', type: 'VARCHAR' },
    { name: 'size', type: 'BIGINT' },
  ],
}

const KIND_NAMES: Record<number, string> = { [ValueKind.Packed]: 'value', [ValueKind.Raw]: 'bytes', [ValueKind.Json]: 'json' }

/** More entries than this changed since the last refresh: kv is reloaded whole (as fast, and no list to keep). */
const FOLLOWED_ENTRIES = 50_000

/**
 * What the provider remembers between refreshes: the entries commits wrote or deleted since the
 * last one (EngineChange.kvRows). Absent (undefined): the relation is (re)built whole.
 */
interface KvState {
  changed: KvRowRef[]
}

/** A stored entry as the relation's row: namespace name, key, stored kind and stored value. */
type StoredEntry = [namespace: SqlValue, key: SqlValue, kind: SqlValue, value: SqlValue]

/** The relation's columns, filled row by row. */
function emptyColumns() {
  return { namespace: [] as string[], key: [] as (string | null)[], key_bytes: [] as (Uint8Array | null)[], value: [] as (string | null)[], kind: [] as string[], size: [] as number[] }
}

/**
 * Key-value entries: `value` is the value as JSON text (bytes stored raw have none: `kind` is
 * `bytes` and `size` their length); a byte key is in `key_bytes` with `key` null. Built whole on the
 * first query; after that, a refresh reloads only the entries the commits since named (each
 * commit's change event lists them: a 1-key write beside 1M entries reloads 1 row). A commit that
 * names none (a namespace cleared), or more than {@link FOLLOWED_ENTRIES} since the last refresh,
 * rebuilds it whole.
 */
export const kvRelations: RelationProvider<KvState> = {
  name: 'kv',
  tables: ['kv', 'kv_namespaces'],
  follow(change, state) {
    if (!state || !change.kvRows || state.changed.length + change.kvRows.length > FOLLOWED_ENTRIES) return undefined
    return { changed: state.changed.concat(change.kvRows) }
  },
  async sync(ctx, sink, state) {
    if (state) {
      const followed = await refreshEntries(ctx, sink, state.changed)
      if (followed !== undefined) return followed
    }
    const rows = ctx.db.all('SELECT n.name, kv.key, kv.kind, kv.value FROM kv JOIN kv_namespaces n ON n.id = kv.ns ORDER BY n.name, kv.key') as StoredEntry[]
    const cols = await entryColumns(ctx, rows)
    if ('unreadable' in cols) sink.unreadable(KV_RELATION, cols.unreadable)
    else sink.replace(KV_RELATION, cols, rows.length)
    return { relations: [KV_RELATION], state: { changed: [] } }
  },
}

/**
 * Reload just `changed` entries: their old rows out, their rows as they are now in. Undefined when
 * the relation is not there to change (it failed): the caller rebuilds it whole.
 */
async function refreshEntries(ctx: CallContext, sink: RelationSink, changed: KvRowRef[]): Promise<{ relations: RelationDef[]; state: KvState } | undefined> {
  // Each entry once (a key written twice since is reloaded once), by namespace id and key.
  const byNs = new Map<number, Map<string, string | Uint8Array>>()
  for (const [ns, key] of changed) {
    let keys = byNs.get(ns)
    if (!keys) byNs.set(ns, (keys = new Map()))
    keys.set(typeof key === 'string' ? `s${key}` : `b${Array.from(key).join(',')}`, key)
  }
  const removed = { namespace: [] as string[], key: [] as (string | null)[], key_bytes: [] as (Uint8Array | null)[] }
  const rows: StoredEntry[] = []
  for (const [ns, keys] of byNs) {
    const name = ctx.db.get('SELECT name FROM kv_namespaces WHERE id = ?', [ns])?.[0]
    // A namespace that is not there has no entries (and no rows in the relation to remove).
    if (typeof name !== 'string') continue
    for (const key of keys.values()) {
      removed.namespace.push(name)
      removed.key.push(typeof key === 'string' ? key : null)
      removed.key_bytes.push(typeof key === 'string' ? null : key)
      const row = ctx.db.get('SELECT kind, value FROM kv WHERE ns = ? AND key = ?', [ns, key])
      if (row) rows.push([name, key, row[0]!, row[1]!])
    }
  }
  const cols = await entryColumns(ctx, rows)
  if ('unreadable' in cols) {
    // (The store then forgets this provider's state: the next refresh rebuilds kv whole.)
    sink.unreadable(KV_RELATION, cols.unreadable)
    return { relations: [KV_RELATION], state: { changed: [] } }
  }
  if (!sink.remove(KV_RELATION, removed, removed.namespace.length)) return undefined
  sink.append(KV_RELATION, cols, rows.length)
  return { relations: [KV_RELATION], state: { changed: [] } }
}

/**
 * The relation's columns for stored entries, or the error that made a value unreadable (a damaged
 * blob: it fails the `kv` relation alone, not every query). Any other error is thrown.
 */
async function entryColumns(ctx: CallContext, rows: StoredEntry[]): Promise<ReturnType<typeof emptyColumns> | { unreadable: unknown }> {
  const cols = emptyColumns()
  // The values' blobs are pinned now, in the tick their rows were read, until all are loaded: a
  // checkpoint while one loads, after a later call dropped the rows, must not collect the others.
  const inBlobs = rows.filter((r) => ((r[2] as number) & KV_CHUNKED) === 0 && ((r[2] as number) & KV_IN_BLOB) !== 0).map((r) => r[3] as string)
  try {
    await ctx.blobs.reading(inBlobs, async () => {
      for (const [name, key, storedKind, stored] of rows) {
        cols.namespace.push(name as string)
        cols.key.push(typeof key === 'string' ? key : null)
        cols.key_bytes.push(typeof key === 'string' ? null : (key as Uint8Array))
        if ((storedKind as number) & KV_CHUNKED) {
          // Bytes written by kv.setStream(): its chunk list says how many; no value as JSON (raw bytes).
          cols.kind.push(KIND_NAMES[ValueKind.Raw]!)
          cols.size.push(readManifest(stored as Uint8Array).size)
          cols.value.push(null)
          continue
        }
        const kind = (storedKind as number) & ~KV_IN_BLOB
        if (kind === ValueKind.Raw && (storedKind as number) & KV_IN_BLOB) {
          // Raw bytes have no JSON: only their size, which needs no read (model weights of 1 GB
          // were read whole, or downloaded from a static host, at every refresh of kv).
          cols.kind.push(KIND_NAMES[kind]!)
          cols.size.push(await ctx.blobs.size(stored as string))
          cols.value.push(null)
          continue
        }
        const bytes = (storedKind as number) & KV_IN_BLOB ? await ctx.blobs.get(stored as string) : (stored as Uint8Array)
        cols.kind.push(KIND_NAMES[kind] ?? 'unknown')
        cols.size.push(bytes.length)
        cols.value.push(kind === ValueKind.Raw ? null : kind === ValueKind.Json ? new TextDecoder().decode(bytes) : jsonText(decodeValue(bytes)))
      }
    })
  } catch (err) {
    if (!unreadableData(err)) throw err
    return { unreadable: err }
  }
  return cols
}
