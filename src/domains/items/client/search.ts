import type { DomainCaller } from '../../../protocol/domain-caller.js'
import { InvalidArgumentError } from '../../../errors/errors.js'
import type { CodeSearchOptions, DescriptionHit, ItemHit, ItemSearchOptions, SimilarOptions, TextHit, TextSearchOptions } from '../shared/item-types.js'

/**
 * `vault.search`: ranked text search (every token must match; BM25), exact cosine similarity over
 * embedding lists, code search and description search. Results are plain arrays, best first; turn
 * them into an Arrow table with `hitsToArrow` (from `labvault`) when you want a table.
 */
export class Search {
  /** @internal */
  constructor(private readonly caller: DomainCaller) {}

  private call<T>(method: string, args: unknown[], transfer?: Transferable[]): Promise<T> {
    return this.caller.call('search', method, args, transfer) as Promise<T>
  }

  /**
   * Items (documents and records) containing every token of `query`, BM25-ranked. Tokens are runs
   * of letters, digits and `_`, case-insensitive: `test` does not match `test_location`. Add
   * `sources: ['items', 'descriptions', 'code']` to rank descriptions and session code too.
   */
  text(query: string, options?: TextSearchOptions): Promise<TextHit[]> {
    return this.call('text', [query, options])
  }

  /** The `k` (default 10) items most similar to `vector` by cosine, over embedding lists of its dimension. */
  similar(vector: Float32Array | ArrayLike<number>, options?: SimilarOptions): Promise<TextHit[]> {
    if (!vector || typeof (vector as ArrayLike<number>).length !== 'number') throw new InvalidArgumentError('a query vector must be a Float32Array or an array of numbers')
    return this.call('similar', [Float32Array.from(vector as ArrayLike<number>), options])
  }

  /** Items made by sessions whose code contains `substring` (case-sensitive), oldest first. */
  code(substring: string, options?: CodeSearchOptions): Promise<ItemHit[]> {
    return this.call('code', [substring, options])
  }

  /**
   * One query combining filters, AND between the kinds given: `text` (every token, BM25),
   * `similar` (cosine to a vector), `description` (items a matching description covers), `code`
   * (items made by sessions whose code contains it), file `name` and `mediaType`, within `lists`
   * and `type`. Ranked by cosine when `similar` is given, else by text score; `k` (default 10) best.
   */
  async items(options: ItemSearchOptions): Promise<ItemHit[]> {
    if (!options || typeof options !== 'object') throw new InvalidArgumentError('search.items needs an options object')
    const plain = { ...options }
    if (options.similar !== undefined) {
      const v = options.similar as unknown
      if (!v || typeof (v as ArrayLike<number>).length !== 'number') throw new InvalidArgumentError('search.items: similar must be a Float32Array or an array of numbers')
      plain.similar = Float32Array.from(v as ArrayLike<number>)
    }
    if (Array.isArray(options.lists)) plain.lists = [...options.lists]
    return this.call('items', [plain])
  }

  /** Descriptions (named list descriptions and append descriptions) containing every token of `query`. */
  descriptions(query: string, options?: { lists?: string[]; limit?: number }): Promise<DescriptionHit[]> {
    return this.call('descriptions', [query, options])
  }
}
