import { decodeValue } from '../../../../codec/value-codec.js'
import { ValueKind } from '../../../kv/shared/kv-types.js'
import { KV_CHUNKED, KV_IN_BLOB } from '../../../kv/engine/kv-entries.js'
import { readManifest } from '../../../kv/engine/kv-streams.js'
import { jsonText, unreadableData, type RelationDef, type RelationProvider } from './relation.js'

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

/**
 * Key-value entries: `value` is the value as JSON text (bytes stored raw have none: `kind` is
 * `bytes` and `size` their length); a byte key is in `key_bytes` with `key` null. Rebuilt whole when
 * kv changes (entries are replaced in place, so there is no append-only tail to follow).
 */
export const kvRelations: RelationProvider = {
  name: 'kv',
  tables: ['kv', 'kv_namespaces'],
  async sync(ctx, sink) {
    const rows = ctx.db.all('SELECT n.name, kv.key, kv.kind, kv.value FROM kv JOIN kv_namespaces n ON n.id = kv.ns ORDER BY n.name, kv.key')
    const ns: string[] = []
    const keys: (string | null)[] = []
    const keyBytes: (Uint8Array | null)[] = []
    const values: (string | null)[] = []
    const kinds: string[] = []
    const sizes: number[] = []
    // The values' blobs are pinned now, in the tick their rows were read, until all are loaded: a
    // checkpoint while one loads, after a later call dropped the rows, must not collect the others.
    const inBlobs = rows.filter((r) => ((r[2] as number) & KV_CHUNKED) === 0 && ((r[2] as number) & KV_IN_BLOB) !== 0).map((r) => r[3] as string)
    try {
      await ctx.blobs.reading(inBlobs, async () => {
        for (const [name, key, storedKind, stored] of rows) {
          ns.push(name as string)
          keys.push(typeof key === 'string' ? key : null)
          keyBytes.push(typeof key === 'string' ? null : (key as Uint8Array))
          if ((storedKind as number) & KV_CHUNKED) {
            // Bytes written by kv.setStream(): its chunk list says how many; no value as JSON (raw bytes).
            kinds.push(KIND_NAMES[ValueKind.Raw]!)
            sizes.push(readManifest(stored!).size)
            values.push(null)
            continue
          }
          const kind = (storedKind as number) & ~KV_IN_BLOB
          if (kind === ValueKind.Raw && (storedKind as number) & KV_IN_BLOB) {
            // Raw bytes have no JSON: only their size, which needs no read (model weights of 1 GB
            // were read whole, or downloaded from a static host, at every refresh of kv).
            kinds.push(KIND_NAMES[kind]!)
            sizes.push(await ctx.blobs.size(stored as string))
            values.push(null)
            continue
          }
          const bytes = (storedKind as number) & KV_IN_BLOB ? await ctx.blobs.get(stored as string) : (stored as Uint8Array)
          kinds.push(KIND_NAMES[kind] ?? 'unknown')
          sizes.push(bytes.length)
          values.push(kind === ValueKind.Raw ? null : kind === ValueKind.Json ? new TextDecoder().decode(bytes) : jsonText(decodeValue(bytes)))
        }
      })
    } catch (err) {
      // A value whose blob is damaged fails the `kv` relation alone, not every query.
      if (!unreadableData(err)) throw err
      sink.unreadable(KV_RELATION, err)
      return { relations: [KV_RELATION], state: undefined }
    }
    sink.replace(KV_RELATION, { namespace: ns, key: keys, key_bytes: keyBytes, value: values, kind: kinds, size: sizes }, rows.length)
    return { relations: [KV_RELATION], state: undefined }
  },
}
