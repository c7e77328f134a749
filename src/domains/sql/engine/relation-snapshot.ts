import { crc32 } from '../../../persistence/crc32.js'
import type { DerivedFileHost } from '../../../engine/engine-services.js'
import { createTableSql, ident } from './arrow-rows.js'
import type { DuckDbRuntime } from './duckdb-runtime.js'
import type { CommitPosition } from './relation-cache.js'
import type { RelationSnapshot } from './relation-store.js'
import type { RelationDef } from './relations/relation.js'

/**
 * The relations' cache on Node, as one file labvault writes itself: duckdb-wasm's Node build does
 * not read back a database file it checkpointed (docs/sql.md, "Cache file"). The file holds the
 * same record as the browser's DuckDB file (format, vault, sequence number, providers' states)
 * and each relation's rows as an Arrow IPC stream; opening loads them into DuckDB's memory with
 * `insertArrowFromIPCStream` instead of deriving them from SQLite again.
 *
 * Layout: "LVSQ", u32 version, u32 header length, header (JSON: the record and each relation's
 * IPC length), the IPC streams, u32 CRC-32 of everything before it (little-endian). A file that
 * does not parse or check is damaged: it is ignored and rewritten.
 */

const MAGIC = [0x4c, 0x56, 0x53, 0x51] // "LVSQ"
const VERSION = 1

interface Header {
  format: number
  vault: string
  seq: number
  states: Record<string, unknown>
  made: Record<string, RelationDef[]>
  /** `schema.name` and IPC length of each relation, in file order. */
  relations: [schema: string, name: string, length: number][]
}

/** JSON that keeps Maps (the providers' states hold some). */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Map ? { $map: [...v.entries()] } : v))
}

function fromJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => (v && typeof v === 'object' && Array.isArray((v as { $map?: unknown }).$map) ? new Map((v as { $map: [unknown, unknown][] }).$map) : v))
}

/**
 * Load the relations a snapshot file holds into DuckDB, when it is this vault's, of this format,
 * not ahead of the vault: the restored snapshot, or undefined (no file, another vault's, damaged:
 * the relations are then derived again).
 */
export async function loadSnapshot(runtime: DuckDbRuntime, file: DerivedFileHost, position: CommitPosition, format: number): Promise<RelationSnapshot | undefined> {
  const bytes = await file.read!().catch(() => undefined)
  if (!bytes) return undefined
  const header = parse(bytes)
  if (!header || header.format !== format || header.vault !== position.vault || header.seq > position.seq) return undefined
  const defs = new Map(Object.values(header.made).flat().map((d) => [`${d.schema}.${d.name}`, d]))
  // Every relation described before any is loaded: a file that is not whole loads nothing.
  if (!header.relations.every(([schema, name]) => defs.has(`${schema}.${name}`))) return undefined
  for (const schema of new Set(header.relations.map(([schema]) => schema))) runtime.exec(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`)
  let at = 12 + headerLength(bytes)
  for (const [schema, name, length] of header.relations) {
    runtime.exec(createTableSql(defs.get(`${schema}.${name}`)!))
    if (length > 0) runtime.insertIpc(bytes.subarray(at, at + length), schema, name, false)
    at += length
  }
  return { states: header.states, made: header.made, fresh: header.seq === position.seq }
}

function headerLength(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true)
}

/** The header of a well-formed file, or undefined (damaged, or not such a file). */
function parse(bytes: Uint8Array): Header | undefined {
  if (bytes.length < 16 || MAGIC.some((b, i) => bytes[i] !== b)) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (view.getUint32(4, true) !== VERSION) return undefined
  const end = bytes.length - 4
  if (crc32(bytes.subarray(0, end)) !== view.getUint32(end, true)) return undefined
  const length = view.getUint32(8, true)
  if (12 + length > end) return undefined
  try {
    const header = fromJson(new TextDecoder().decode(bytes.subarray(12, 12 + length))) as Header
    const total = header.relations.reduce((n, [, , l]) => n + l, 0)
    return 12 + length + total === end ? header : undefined
  } catch {
    return undefined
  }
}

/** Write what DuckDB holds of the relations (those `snapshot` covers) and their record. */
export function writeSnapshot(
  runtime: DuckDbRuntime,
  file: DerivedFileHost,
  position: CommitPosition,
  format: number,
  snapshot: { states: Record<string, unknown>; made: Record<string, RelationDef[]> },
): void {
  const streams: Uint8Array[] = []
  const relations: Header['relations'] = []
  for (const def of Object.values(snapshot.made).flat()) {
    const ipc = runtime.ipc(`SELECT * FROM ${ident(def.schema)}.${ident(def.name)}`)
    streams.push(ipc)
    relations.push([def.schema, def.name, ipc.length])
  }
  const header: Header = { format, vault: position.vault, seq: position.seq, states: snapshot.states, made: snapshot.made, relations }
  const json = new TextEncoder().encode(toJson(header))
  const total = 12 + json.length + streams.reduce((n, s) => n + s.length, 0) + 4
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  out.set(MAGIC, 0)
  view.setUint32(4, VERSION, true)
  view.setUint32(8, json.length, true)
  out.set(json, 12)
  let at = 12 + json.length
  for (const s of streams) {
    out.set(s, at)
    at += s.length
  }
  view.setUint32(at, crc32(out.subarray(0, at)), true)
  file.writeSync!(out)
}
