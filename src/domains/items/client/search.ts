import type { DomainCaller } from '../../../protocol/domain-caller.js'
import { InvalidArgumentError } from '../../../errors/errors.js'
import type { CodeSearchOptions, DescriptionHit, ItemHit, SimilarOptions, TextHit, TextSearchOptions } from '../shared/item-types.js'

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

  /** Descriptions (named list descriptions and append descriptions) containing every token of `query`. */
  descriptions(query: string, options?: { lists?: string[]; limit?: number }): Promise<DescriptionHit[]> {
    return this.call('descriptions', [query, options])
  }
}
