import type { DomainCaller } from '../../../protocol/domain-caller.js'
import { InvalidArgumentError } from '../../../errors/errors.js'
import type {
  AppendManyOptions,
  AppendOptions,
  AppendResult,
  CreateListOptions,
  DescribeOptions,
  DescriptionInfo,
  DocumentItem,
  FileInput,
  FileItem,
  ItemInfo,
  LineageEdge,
  ListInfo,
  ListType,
  ParentRange,
  SessionSummary,
} from '../shared/item-types.js'
import { sessionRef } from './session.js'
import { decodeValue, encodeValue, prepareValue } from '../../../codec/value-codec.js'
import { checkViewUsable } from '../../../codec/checks.js'

/** A parent range as given now (the caller may change its objects after the call). */
function copyParents(parents: unknown): unknown {
  return Array.isArray(parents) ? parents.map((p) => (p && typeof p === 'object' ? { ...p } : p)) : parents
}

/**
 * Make append options safe to clone and capture them now: a Session becomes `{ id, currentCell }`,
 * parent arrays are copied.
 */
function plainOptions<T extends AppendOptions>(options: T | undefined): T {
  if (!options) return {} as T
  // Not an object: as given, for the engine to refuse (spread, 'abc' became { 0: 'a', … }).
  if (typeof options !== 'object' || Array.isArray(options)) return options
  const out: AppendManyOptions = { ...options, session: sessionRef(options.session) }
  if (out.parents !== undefined) out.parents = copyParents(out.parents) as ParentRange[]
  if (out.itemParents !== undefined) out.itemParents = Array.isArray(out.itemParents) ? (out.itemParents.map(copyParents) as ParentRange[][]) : out.itemParents
  return out as T
}

/** Describe options safe to clone and captured now (the embedding is copied). */
function describeOptions(options: DescribeOptions | undefined): DescribeOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options as DescribeOptions
  const out: DescribeOptions = { ...options, session: sessionRef(options?.session) }
  if (out.embedding instanceof Float32Array) {
    checkViewUsable(out.embedding, 'a description embedding')
    out.embedding = out.embedding.slice()
  }
  return out
}

/**
 * A character range `{ start, end }` as given to `content`/`text`, checked here because only its
 * numbers cross to the engine: a misspelt key (`{ start: 1, stop: 3 }`) read to the end of the list.
 */
function charRange(range: unknown, call: string): { start?: number; end?: number } {
  if (range === undefined) return {}
  if (typeof range !== 'object' || range === null || Array.isArray(range)) throw new InvalidArgumentError(`${call} takes a range { start, end }, got ${range === null ? 'null' : Array.isArray(range) ? 'an array' : typeof range}`)
  for (const k of Object.keys(range)) if (k !== 'start' && k !== 'end') throw new InvalidArgumentError(`${call}: unknown range key "${k}" (known: start, end)`)
  return range
}

/**
 * One item list of a vault (the common part of the four kinds). Methods are async: they may
 * cross a worker. Indices are positions in the list, from 0; negative indices count from the end
 * in `get`.
 */
export abstract class ItemList<TValue, TInput> {
  /** The list's kind. */
  abstract readonly type: ListType

  /** @internal Use `vault.lists.create()` or `vault.lists.get()`. */
  constructor(
    protected readonly caller: DomainCaller,
    /** The list's name (unique across every kind, reserved for ever). */
    readonly name: string,
    /**
     * @internal The list's id, checked by the engine on every call: a handle on a list that no
     * longer exists (deleted, or its creation rolled back) gets NotFoundError, never another list.
     */
    readonly id: number,
  ) {}

  /** How calls name this list: its name and the identity the engine checks. */
  protected get ref(): { name: string; id: number } {
    return { name: this.name, id: this.id }
  }

  protected call<T>(method: string, args: unknown[], transfer?: Transferable[]): Promise<T> {
    return this.caller.call('lists', method, [this.ref, ...args], transfer) as Promise<T>
  }

  /** The batch form the engine takes, and the buffers to transfer with it. */
  protected abstract pack(values: TInput[]): [unknown, Transferable[]]

  /** Append one item; resolves with its index once it is committed. */
  async append(value: TInput, options?: AppendOptions): Promise<number> {
    const [payload, transfer] = this.pack([value])
    const r = await this.call<AppendResult>('append', [payload, plainOptions(options)], transfer)
    return r.start
  }

  /** Append several items at once (one commit, consecutive indices). */
  async appendMany(values: TInput[], options?: AppendManyOptions): Promise<AppendResult> {
    if (!Array.isArray(values)) throw new InvalidArgumentError('appendMany takes an array of items')
    const [payload, transfer] = this.pack(values)
    return this.call<AppendResult>('append', [payload, plainOptions(options)], transfer)
  }

  /** The item at `index` (negative counts from the end); RangeError when out of range. */
  get(index: number): Promise<TValue> {
    return this.call<TValue>('get', [index])
  }

  /** Items `[start, end)`, like Array.prototype.slice. */
  slice(start?: number, end?: number): Promise<TValue[]> {
    return this.call<TValue[]>('slice', [start, end])
  }

  /** Number of items. */
  size(): Promise<number> {
    return this.call<number>('size', [])
  }

  /** Name, kind, length and kind-specific facts. */
  async info(): Promise<ListInfo> {
    return publicInfo(await this.call<ListInfo & { id?: number }>('info', []))
  }

  /** Where an item came from: its append, session (and cell) and time. */
  item(index: number): Promise<ItemInfo> {
    return this.call<ItemInfo>('item', [index])
  }

  /** Attach a named description to the list (AlreadyExistsError for a name it already has). */
  describe(name: string, text: string, options?: DescribeOptions): Promise<DescriptionInfo> {
    return this.caller.call('lists', 'describe', [this.ref, name, text, describeOptions(options)]) as Promise<DescriptionInfo>
  }

  /** The list's descriptions (named ones and those given with appends). */
  descriptions(): Promise<DescriptionInfo[]> {
    return this.caller.call('lists', 'descriptions', [this.ref]) as Promise<DescriptionInfo[]>
  }

  /** The sessions that appended to this list, in the order of their first append. */
  createdBy(): Promise<SessionSummary[]> {
    return this.caller.call('sessions', 'createdBy', [this.ref]) as Promise<SessionSummary[]>
  }

  /** Lineage edges from items `[start, end)` of this list to what they derive from. */
  parents(range?: { start?: number; end?: number }): Promise<LineageEdge[]> {
    return this.caller.call('lineage', 'parents', [this.name, range]) as Promise<LineageEdge[]>
  }

  /** Lineage edges to items derived from `[start, end)` of this list. */
  children(range?: { start?: number; end?: number }): Promise<LineageEdge[]> {
    return this.caller.call('lineage', 'children', [this.name, range]) as Promise<LineageEdge[]>
  }
}

/** A list of text items; each occupies a half-open range of character (code point) positions. */
export class DocumentList extends ItemList<string, string> {
  readonly type = 'document' as const

  protected pack(values: string[]): [unknown, Transferable[]] {
    return [values.slice(), []]
  }

  /** Items overlapping the character range `[start, end)` (default: all), with their positions. */
  async content(range?: { start?: number; end?: number }): Promise<DocumentItem[]> {
    const { start, end } = charRange(range, 'content')
    return this.call<DocumentItem[]>('content', [start, end])
  }

  /** The list's text between character positions `start` and `end`, across item boundaries. */
  async text(range?: { start?: number; end?: number }): Promise<string> {
    const { start, end } = charRange(range, 'text')
    return this.call<string>('text', [start, end])
  }
}

/** A list of fixed-dimension vectors: Float32Array in and out. */
export class EmbeddingList extends ItemList<Float32Array, Float32Array | ArrayLike<number>> {
  readonly type = 'embedding' as const

  protected pack(values: (Float32Array | ArrayLike<number>)[]): [unknown, Transferable[]] {
    // One fresh buffer for the whole batch: transferred, so the user's arrays are never detached.
    let total = 0
    for (const [i, v] of values.entries()) {
      // A length that is not a count ({ length: -1 }) made `new Float32Array` throw a bare RangeError.
      const n = v ? (v as ArrayLike<number>).length : undefined
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`an embedding must be a Float32Array or an array of numbers, got ${v === null ? 'null' : typeof n === 'number' ? `an object of length ${n}` : typeof v}`)
      if (ArrayBuffer.isView(v)) {
        checkViewUsable(v, `append to "${this.name}": vector ${i}`)
        if (v instanceof BigInt64Array || v instanceof BigUint64Array) throw new InvalidArgumentError(`append to "${this.name}": vector ${i} is a ${(v as ArrayBufferView).constructor.name}; an embedding takes numbers`)
      } else {
        // Float32Array.set would turn '1' into 1 and 'x' into NaN: only numbers are vectors.
        for (let j = 0; j < v.length; j++) {
          if (typeof v[j] !== 'number') throw new InvalidArgumentError(`append to "${this.name}": vector ${i} has ${typeof v[j]} at position ${j}, not a number`)
        }
      }
      total += v.length
    }
    const dim = values[0]?.length ?? 0
    const packed = new Float32Array(total)
    let at = 0
    for (const [i, v] of values.entries()) {
      if (v.length !== dim) throw new InvalidArgumentError(`append to "${this.name}": vector ${i} has ${v.length} numbers, vector 0 has ${dim}`)
      packed.set(v, at)
      at += v.length
    }
    return [packed, [packed.buffer]]
  }

  /** Append vectors given as one Float32Array of n × dim numbers (no per-vector arrays needed). */
  async appendMatrix(matrix: Float32Array, options?: AppendManyOptions): Promise<AppendResult> {
    if (!(matrix instanceof Float32Array)) throw new InvalidArgumentError(`appendMatrix takes a Float32Array of n × dim numbers, got ${matrix === null ? 'null' : typeof matrix}`)
    checkViewUsable(matrix, `append to "${this.name}"`)
    const copy = matrix.slice()
    return this.call<AppendResult>('append', [copy, plainOptions(options)], [copy.buffer])
  }

  override async get(index: number): Promise<Float32Array> {
    return this.call<Float32Array>('get', [index])
  }

  override async slice(start?: number, end?: number): Promise<Float32Array[]> {
    // Both issued now: an info() issued once the matrix came back would run after calls made
    // meanwhile (a lists.delete made after this slice would fail it).
    const [packed, info] = await Promise.all([this.matrix(start, end), this.info()])
    const dim = info.dim!
    const out: Float32Array[] = []
    for (let i = 0; i < packed.length; i += dim) out.push(packed.subarray(i, i + dim))
    return out
  }

  /** Vectors `[start, end)` as one Float32Array of (end − start) × dim numbers. */
  matrix(start?: number, end?: number): Promise<Float32Array> {
    return this.call<Float32Array>('slice', [start, end])
  }
}

/** A list of files: bytes stored once by content (outside the SQLite image), with name and media type. */
export class FileItemList extends ItemList<FileItem, FileInput> {
  readonly type = 'file' as const

  protected pack(values: FileInput[]): [unknown, Transferable[]] {
    const transfer: Transferable[] = []
    const files = values.map((f) => {
      if (typeof Blob !== 'undefined' && f instanceof Blob) return f // cloned by reference, no copy
      const o = f as { bytes?: unknown; name?: string; type?: string }
      if (!o || !(o.bytes instanceof Uint8Array)) return f // the engine names what is wrong
      checkViewUsable(o.bytes, `append to "${this.name}": file bytes`)
      const bytes = new Uint8Array(o.bytes)
      transfer.push(bytes.buffer)
      return { bytes, name: o.name, type: o.type }
    })
    return [files, transfer]
  }

  /** The bytes of file `index`. */
  async bytes(index: number): Promise<Uint8Array> {
    return (await this.get(index)).bytes
  }

  /** File `index` as a Blob of its media type. */
  async blob(index: number): Promise<Blob> {
    const f = await this.get(index)
    return new Blob([f.bytes as Uint8Array<ArrayBuffer>], { type: f.type })
  }
}

/** A list of records with declared fields (every record has exactly those fields). */
export class RecordList<R extends Record<string, unknown> = Record<string, unknown>> extends ItemList<R, R> {
  readonly type = 'record' as const

  protected pack(values: R[]): [unknown, Transferable[]] {
    // A snapshot taken now (typed arrays inside a record included), exact for every storable value.
    return [values.map((r, i) => (r !== null && typeof r === 'object' ? decodeValue(encodeValue(prepareValue(r, `record ${i}`))) : r)), []]
  }
}

/** Any item list. */
export type AnyItemList = DocumentList | EmbeddingList | FileItemList | RecordList

function handle(caller: DomainCaller, info: ListInfo & { id: number }): AnyItemList {
  switch (info.type) {
    case 'document':
      return new DocumentList(caller, info.name, info.id)
    case 'embedding':
      return new EmbeddingList(caller, info.name, info.id)
    case 'file':
      return new FileItemList(caller, info.name, info.id)
    case 'record':
      return new RecordList(caller, info.name, info.id)
  }
}

/** A list's facts without the id the engine adds for handles. */
function publicInfo(info: ListInfo & { id?: number }): ListInfo {
  const { id: _id, ...rest } = info
  return rest
}

/** `vault.lists`: create, open, list, describe and delete item lists. */
export class ItemLists {
  /** @internal */
  constructor(private readonly caller: DomainCaller) {}

  private call<T>(method: string, args: unknown[]): Promise<T> {
    return this.caller.call('lists', method, args) as Promise<T>
  }

  /** Create a list; AlreadyExistsError when the name is (or was) used by any list. */
  create(name: string, options: CreateListOptions & { type: 'document' }): Promise<DocumentList>
  create(name: string, options: CreateListOptions & { type: 'embedding'; dim: number }): Promise<EmbeddingList>
  create(name: string, options: CreateListOptions & { type: 'file' }): Promise<FileItemList>
  create<R extends Record<string, unknown> = Record<string, unknown>>(name: string, options: CreateListOptions & { type: 'record'; fields: string[] }): Promise<RecordList<R>>
  create(name: string, options: CreateListOptions): Promise<AnyItemList>
  async create(name: string, options: CreateListOptions): Promise<AnyItemList> {
    const plain = options && typeof options === 'object' && !Array.isArray(options) ? { ...options, session: sessionRef(options.session) } : options
    const info = await this.call<ListInfo & { id: number }>('create', [name, plain])
    return handle(this.caller, info)
  }

  /** Open an existing list (NotFoundError when missing or deleted). */
  async get<L extends AnyItemList = AnyItemList>(name: string): Promise<L> {
    return handle(this.caller, await this.call<ListInfo & { id: number }>('info', [name])) as L
  }

  /** True when a live list has this name. */
  has(name: string): Promise<boolean> {
    return this.call<boolean>('has', [name])
  }

  /** Facts about a list. */
  async info(name: string): Promise<ListInfo> {
    return publicInfo(await this.call<ListInfo & { id?: number }>('info', [name]))
  }

  /** Every live list, in creation order. */
  list(): Promise<ListInfo[]> {
    return this.call<ListInfo[]>('list', [])
  }

  /** Attach a named description to a list. */
  describe(list: string, name: string, text: string, options?: DescribeOptions): Promise<DescriptionInfo> {
    return this.call<DescriptionInfo>('describe', [list, name, text, describeOptions(options)])
  }

  /** A list's descriptions. */
  descriptions(list: string): Promise<DescriptionInfo[]> {
    return this.call<DescriptionInfo[]>('descriptions', [list])
  }

  /**
   * Delete a list and its items (true), or false when there is no such live list. Its name stays
   * reserved, and lineage that involves it stays readable (marked deleted).
   */
  delete(name: string): Promise<boolean> {
    return this.call<boolean>('delete', [name])
  }
}
