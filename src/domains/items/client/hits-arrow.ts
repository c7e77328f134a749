import { Float64, Int32, Table, Utf8, makeBuilder } from 'apache-arrow'
import type { TextHit } from '../shared/item-types.js'

/**
 * Search hits as an Arrow table with columns `list` (utf8), `index` (int32; the start of the
 * described range for a description hit, the cell for a session hit), `score` (float64) and
 * `kind` (`item`, `description` or `session`), for joining results with other tables.
 */
export function hitsToArrow(hits: readonly TextHit[]): Table {
  const list = makeBuilder({ type: new Utf8() })
  const index = makeBuilder({ type: new Int32() })
  const score = makeBuilder({ type: new Float64() })
  const kind = makeBuilder({ type: new Utf8() })
  for (const h of hits) {
    if ('kind' in h && h.kind === 'session') {
      list.append(h.name)
      index.append(h.cell)
    } else if ('kind' in h && h.kind === 'description') {
      list.append(h.list)
      index.append(h.start)
    } else {
      const item = h as { list: string; index: number }
      list.append(item.list)
      index.append(item.index)
    }
    score.append(h.score)
    kind.append('kind' in h ? h.kind : 'item')
  }
  return new Table({ list: list.finish().toVector(), index: index.finish().toVector(), score: score.finish().toVector(), kind: kind.finish().toVector() })
}
