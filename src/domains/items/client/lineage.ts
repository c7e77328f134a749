import type { DomainCaller } from '../../../protocol/domain-caller.js'
import type { LineageEdge, LineageNode, LineageWalkOptions } from '../shared/item-types.js'

/** An item range of a list: `[start, end)`; omitted bounds mean the whole list. */
export interface ItemRange {
  /** First item (or character) of the range, inclusive (default 0). */
  start?: number
  /** End of the range, exclusive (default: the list's end). */
  end?: number
  /** `chars`: `start`/`end` are character positions of a document list (the documents overlapping them). */
  unit?: 'items' | 'chars'
}

/**
 * `vault.lineage`: which items derive from which, by index range. Edges are recorded by appends
 * (`parents`, `itemParents`) and outlive deleted lists (reported with `childDeleted` /
 * `parentDeleted`, or `deleted` on walk nodes).
 */
export class Lineage {
  /** @internal */
  constructor(private readonly caller: DomainCaller) {}

  private call<T>(method: string, args: unknown[]): Promise<T> {
    return this.caller.call('lineage', method, args) as Promise<T>
  }

  /** Edges from items of `list` in `range` to the ranges they were derived from. */
  parents(list: string, range?: ItemRange): Promise<LineageEdge[]> {
    return this.call('parents', [list, range])
  }

  /** Edges to the ranges derived from items of `list` in `range`. */
  children(list: string, range?: ItemRange): Promise<LineageEdge[]> {
    return this.call('children', [list, range])
  }

  /** Every range `list[start, end)` derives from, transitively, up to `depth` edges (default 16) and `maxNodes` ranges (default 100,000; a walk stopped there marks its last node `truncated`). */
  ancestors(list: string, options?: LineageWalkOptions): Promise<LineageNode[]> {
    return this.call('ancestors', [list, options])
  }

  /** Every range derived from `list[start, end)`, transitively, up to `depth` edges (default 16) and `maxNodes` ranges (default 100,000; a walk stopped there marks its last node `truncated`). */
  descendants(list: string, options?: LineageWalkOptions): Promise<LineageNode[]> {
    return this.call('descendants', [list, options])
  }
}
