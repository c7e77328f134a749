import type { SqliteDatabase } from '../../../sqlite/sqlite-database.js'
import { TextIndex } from './text-index.js'
import { VectorIndex } from './vector-index.js'

/**
 * What the item domains of one engine share: the in-memory search indexes. They are caches of
 * SQLite (rebuilt from it at will), so nothing here needs persisting.
 */
export class ItemsCore {
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
