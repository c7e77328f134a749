import { CallTurns } from '../../../engine/call-turns.js'
import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import { TextIndex } from './text-index.js'
import { VectorIndex } from './vector-index.js'

/**
 * What the item domains of one engine share: the in-memory search indexes (caches of SQLite,
 * rebuilt from it at will, so nothing here needs persisting) and the turns their calls take.
 */
export class ItemsCore {
  /**
   * Calls on `lists`, `lineage`, `search` and `sessions` run in arrival order, also past an
   * append's trip to the blob store (its files, a large matrix): src/engine/call-turns.ts.
   */
  readonly turns = new CallTurns()
  private textIndex = new TextIndex()
  /** Embedding matrices by list id. */
  readonly vectors = new VectorIndex()

  /** The text index, brought up to date with the journal. */
  text(db: SqliteDatabase): TextIndex {
    this.textIndex = this.textIndex.refresh(db)
    return this.textIndex
  }

  /** The text index as it is (for applying a just-committed append). */
  get currentText(): TextIndex {
    return this.textIndex
  }
}
