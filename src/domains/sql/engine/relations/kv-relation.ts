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
    // In place: a copy per commit cost the square of the entries between two queries.
    for (const row of change.kvRows) state.changed.push(row)
    return state
  },
  async sync(ctx, sink, state) {
    if (state) {
      const followed = await refreshEntries(ctx, sink, state.changed)
      if (followed !== undefined) return followed
    }
    const rows = ctx.db.all('SELECT n.name, kv.key, kv.kind, kv.value FROM kv JOIN kv_namespaces n ON n.id = kv.ns ORDER BY n.name, kv.key') as StoredEntry[]
    sink.replace(KV_RELATION, {}, 0)
    await loadEntries(ctx, sink, rows)
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
  if (!sink.remove(KV_RELATION, removed, removed.namespace.length)) return undefined
  await loadEntries(ctx, sink, rows)
  return { relations: [KV_RELATION], state: { changed: [] } }
}

/** Rows go to DuckDB in batches of this much JSON text at most (or {@link BATCH_ROWS}): large values are not all held as text at once. */
const BATCH_TEXT = 16 * 2 ** 20
const BATCH_ROWS = 50_000

/**
 * Append stored entries to the relation, in batches. A value that cannot be read (a damaged blob)
 * fails the `kv` relation alone, not every query (the store then forgets this provider's state:
 * the next refresh rebuilds kv whole); any other error is thrown. Called in the tick `rows` were
 * read (see the pin below).
 */
async function loadEntries(ctx: CallContext, sink: RelationSink, rows: StoredEntry[]): Promise<void> {
  let cols = emptyColumns()
  let text = 0
  const flush = () => {
    if (cols.namespace.length > 0) sink.append(KV_RELATION, cols, cols.namespace.length)
    cols = emptyColumns()
    text = 0
  }
  // The values' blobs are pinned now, in the tick their rows were read, until all are loaded: a
  // checkpoint while one loads, after a later call dropped the rows, must not collect the others.
  const inBlobs = rows.filter((r) => ((r[2] as number) & KV_CHUNKED) === 0 && ((r[2] as number) & KV_IN_BLOB) !== 0).map((r) => r[3] as string)
  try {
    await ctx.blobs.reading(inBlobs, async () => {
      for (const [name, key, storedKind, stored] of rows) {
        const [kind, size, value] = await entryValue(ctx, storedKind as number, stored!)
        cols.namespace.push(name as string)
        cols.key.push(typeof key === 'string' ? key : null)
        cols.key_bytes.push(typeof key === 'string' ? null : (key as Uint8Array))
        cols.kind.push(kind)
        cols.size.push(size)
        cols.value.push(value)
        text += value?.length ?? 0
        if (text >= BATCH_TEXT || cols.namespace.length >= BATCH_ROWS) flush()
      }
    })
  } catch (err) {
    if (!unreadableData(err)) throw err
    sink.unreadable(KV_RELATION, err)
    return
  }
  flush()
}

/** A stored value as the relation shows it: its kind's name, its stored size, and its JSON text (none for raw bytes). */
async function entryValue(ctx: CallContext, storedKind: number, stored: SqlValue): Promise<[kind: string, size: number, value: string | null]> {
  // Bytes written by kv.setStream(): its chunk list says how many; no value as JSON (raw bytes).
  if (storedKind & KV_CHUNKED) return [KIND_NAMES[ValueKind.Raw]!, readManifest(stored as Uint8Array).size, null]
  const kind = storedKind & ~KV_IN_BLOB
  // Raw bytes have no JSON: only their size, which needs no read (model weights of 1 GB were read
  // whole, or downloaded from a static host, at every refresh of kv).
  if (kind === ValueKind.Raw && storedKind & KV_IN_BLOB) return [KIND_NAMES[kind]!, await ctx.blobs.size(stored as string), null]
  const bytes = storedKind & KV_IN_BLOB ? await ctx.blobs.get(stored as string) : (stored as Uint8Array)
  const value = kind === ValueKind.Raw ? null : kind === ValueKind.Json ? new TextDecoder().decode(bytes) : jsonText(decodeValue(bytes))
  return [KIND_NAMES[kind] ?? 'unknown', bytes.length, value]
}
