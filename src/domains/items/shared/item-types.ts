/**
 * The public shapes of item lists, lineage, sessions and search (API.md, "Item lists, lineage,
 * sessions, search"). Everything here is plain data: it crosses the worker by structured clone.
 */

/** The four kinds of item list. */
export type ListType = 'document' | 'embedding' | 'file' | 'record'

/** Options of `vault.lists.create`. */
export interface CreateListOptions {
  /** The list's kind: what its items are (fixed for its life). */
  type: ListType
  /** Embedding lists: the vector dimension (1 … 65536). */
  dim?: number
  /** Record lists: the field names every record must have, no more, no fewer. */
  fields?: string[]
  /** The session that creates the list (recorded, searchable through its code). */
  session?: SessionRef
}

/** What `vault.lists.info(name)` and `vault.lists.list()` tell about a list. */
export interface ListInfo {
  /** The list's name. */
  name: string
  /** Its kind. */
  type: ListType
  /** Number of items. */
  length: number
  /** Embedding lists: dimension. */
  dim?: number
  /** Record lists: declared fields, in declaration order. */
  fields?: string[]
  /** Document lists: the end of the last item's character range (sum of item lengths). */
  chars?: number
  /** ISO 8601 creation time. */
  createdAt: string
}

/**
 * A range of items in another list that an append derives from: item indices `[start, end)`.
 * `end` defaults to `start + 1` (one item).
 */
export interface ParentRange {
  /** The parent list's name. */
  list: string
  /** First item (or character, with `unit: 'chars'`) of the range, inclusive. */
  start: number
  /** End of the range, exclusive (default `start + 1`). */
  end?: number
  /**
   * `items` (default): `start`/`end` are item indices. `chars` (document lists only): they are
   * character positions, as TableVault's `input_items` for documents; the edge links the
   * documents overlapping that stretch, and remembers the exact range (`LineageEdge.parentChars`).
   */
  unit?: 'items' | 'chars'
}

/** A session as an append refers to it: a {@link Session} object or its plain form. */
export interface SessionRef {
  /** The session's id (from `vault.session(...)`). */
  id: number
  /** The current cell of a notebook session; 0 for a script. */
  currentCell?: number
  /**
   * The id of the vault whose session this is (`vault.session()` sets it, `toJSON()` keeps it). A
   * vault refuses a reference naming another vault (NotFoundError): session ids are per vault, so
   * another vault's session 3 is not this one's. Absent (a reference saved before vault ids): taken
   * as this vault's.
   */
  vault?: string
}

/** Options of an append. */
export interface AppendOptions {
  /** The session (and its current cell) that makes the items. */
  session?: SessionRef
  /** Ranges in other lists the new items derive from (lineage). */
  parents?: ParentRange[]
  /** Free text describing the new items; searchable (`search.descriptions`, `search.text`). */
  description?: string
  /**
   * Write the items at this index instead of at the end (TableVault's `index=`): items already
   * there are replaced (with their search entries and the lineage recorded for them alone), and
   * an index past the end leaves a gap (reading a gap item is NotFoundError; a slice holds
   * `undefined`, or NaN vectors, there). `size()` becomes max(size, index + count).
   */
  index?: number
  /**
   * Documents only, and required with `index` there: the character position of the first new
   * document (TableVault's `start_position`). The list's character length becomes
   * max(chars, start + the new text's length); documents may then overlap in position.
   */
  start?: number
}

/** Options of `appendMany`: the same as {@link AppendOptions}, plus parents per item. */
export interface AppendManyOptions extends AppendOptions {
  /** One parent list per new item (same length as the values): item i derives from `itemParents[i]`. */
  itemParents?: ParentRange[][]
}

/** The index range `[start, end)` an append created. */
export interface AppendResult {
  /** Index of the first item written, inclusive. */
  start: number
  /** Index after the last item written, exclusive. */
  end: number
}

/** A document item with its character range in the list. */
export interface DocumentItem {
  /** The item's index in its list. */
  index: number
  /** First character (Unicode code point) position of the item in the list, inclusive. */
  start: number
  /** End position, exclusive: `start` + the text's length in code points. */
  end: number
  /** The document's text. */
  text: string
}

/** What to store as a file item: a `Blob`/`File`, or bytes with a name and a media type. */
export type FileInput = Blob | { bytes: Uint8Array; name?: string; type?: string }

/** A stored file item. */
export interface FileItem {
  /** The file's name as stored (empty when none was given). */
  name: string
  /** Media type, e.g. `text/csv`; empty when unknown. */
  type: string
  /** Its size in bytes. */
  size: number
  /** SHA-256 of the bytes (hex): identical files are stored once. */
  hash: string
  /** The file's bytes. */
  bytes: Uint8Array
}

/** Everything known about one item: where it came from and who made it. */
export interface ItemInfo {
  /** The list holding the item. */
  list: string
  /** The item's index in it. */
  index: number
  /** The session that appended it, when one was named: who ran it and the code of the cell (or script). */
  session?: { id: number; name: string; user: string; cell: number; code: string }
  /** ISO 8601 time of the append. */
  createdAt: string
  /** The index range of the append that made it (items appended together). */
  append: AppendResult
  /** Document items: first character position, inclusive. */
  start?: number
  /** Document items: character position after the item, exclusive. */
  end?: number
}

/** A lineage edge as answered by `vault.lineage`. */
export interface LineageEdge {
  /** The list holding the derived items. */
  child: string
  /** First derived item, inclusive. */
  childStart: number
  /** After the last derived item, exclusive. */
  childEnd: number
  /** The list holding the source items. */
  parent: string
  /** First source item, inclusive. */
  parentStart: number
  /** After the last source item, exclusive. */
  parentEnd: number
  /** The character range of the parent documents the edge was recorded with (`unit: 'chars'`). */
  parentChars?: { start: number; end: number }
  /** True when the child list has been deleted (its lineage stays readable). */
  childDeleted?: boolean
  /** True when the parent list has been deleted. */
  parentDeleted?: boolean
}

/** A node reached by `ancestors`/`descendants`: a range of a list and how many edges away it is. */
export interface LineageNode {
  /** The list reached. */
  list: string
  /** First item of the range, inclusive. */
  start: number
  /** After the last item of the range, exclusive. */
  end: number
  /** How many edges away from the starting range it is (1: a direct parent or child). */
  depth: number
  /** True when the list has been deleted (its lineage stays readable). */
  deleted?: boolean
  /**
   * Set on the last node of a walk that stopped at `maxNodes` while more ranges were reachable
   * within `depth`: the answer is incomplete (raise `maxNodes`, or lower `depth`, or start from a
   * smaller range).
   */
  truncated?: true
}

/** Options of `ancestors`/`descendants`. */
export interface LineageWalkOptions {
  /** First item (or character) of the range to start from, inclusive (default 0). */
  start?: number
  /** End of that range, exclusive (default: the list's end). */
  end?: number
  /** `chars`: `start`/`end` are character positions of a document list (the documents overlapping them). */
  unit?: 'items' | 'chars'
  /** Edges to follow at most. Default 16. */
  depth?: number
  /**
   * Ranges (nodes) to return at most: a positive integer, default 100,000 (a guard against a walk
   * over a pathological graph holding the engine). A walk that reaches more stops there and marks
   * its last node `truncated`.
   */
  maxNodes?: number
}

/** A search result pointing at one item. */
export interface ItemHit {
  /** The list holding the item. */
  list: string
  /** The item's index in it. */
  index: number
  /** Higher is better: BM25 for text search, cosine similarity for vectors. */
  score: number
}

/** A search result pointing at a description. */
export interface DescriptionHit {
  /** Tells this hit from the other kinds of {@link TextHit}. */
  kind: 'description'
  /** The list described. */
  list: string
  /** The description's name; for an append's description, `null`. */
  name: string | null
  /** The items it describes: the whole list, or the append's range. */
  start: number
  /** After the last item described, exclusive. */
  end: number
  /** Higher is better (BM25). */
  score: number
}

/** A search result pointing at a session's code. */
export interface SessionHit {
  /** Tells this hit from the other kinds of {@link TextHit}. */
  kind: 'session'
  /** The session's id. */
  session: number
  /** The session's name. */
  name: string
  /** The cell whose code matched (0 for a script). */
  cell: number
  /** Higher is better (BM25). */
  score: number
}

/** What text search can answer with. */
export type TextHit = ItemHit | DescriptionHit | SessionHit

/** Where text search looks. */
export type TextSource = 'items' | 'descriptions' | 'code'

/** Options of `search.text`. */
export interface TextSearchOptions {
  /** Only items (and descriptions) of these lists. */
  lists?: string[]
  /** At most this many hits, best first. Default 10. */
  limit?: number
  /** Default `['items']` (documents and records); add `'descriptions'` and `'code'` to search those too. */
  sources?: TextSource[]
}

/** Options of `search.similar`. */
export interface SimilarOptions {
  /** Embedding lists to search. Default: every embedding list of the query's dimension. */
  lists?: string[]
  /** Hits to return. Default 10. */
  k?: number
  /** Also rank description embeddings of the same dimension. Default false. */
  descriptions?: boolean
}

/**
 * `search.items`: one query combining filters, AND between the kinds given (TableVault's
 * `query_*_list`). At least one of `text`, `similar`, `description`, `code`, `name`, `mediaType`.
 */
export interface ItemSearchOptions {
  /** Items (documents, records) containing every token, as `search.text`. */
  text?: string
  /** Embedding items, ranked by cosine similarity to this vector (lists of its dimension). */
  similar?: Float32Array | number[]
  /** Items covered by a description (of the list, or of their append) containing every token. */
  description?: string
  /** Items appended by sessions whose code contains this string (case-sensitive). */
  code?: string
  /** File items whose name contains this string (case-insensitive). */
  name?: string
  /** File items of this media type (`image/png`), or of this family when it ends with `/` (`image/`). */
  mediaType?: string
  /** Only these lists. */
  lists?: string[]
  /** Only lists of this kind. */
  type?: ListType
  /** Hits to return, best first. Default 10. */
  k?: number
}

/** Options of `search.code`. */
export interface CodeSearchOptions {
  /** Only items of these lists (default: every list). */
  lists?: string[]
  /** At most this many items. Default 1000. */
  limit?: number
}

/** Options of `vault.lists.describe`. */
export interface DescribeOptions {
  /** An embedding of the description, for `search.similar(v, { descriptions: true })`. */
  embedding?: Float32Array
  /** The session that writes the description (recorded). */
  session?: SessionRef
}

/** A stored description. */
export interface DescriptionInfo {
  /** The list described. */
  list: string
  /** The description's name; `null` for an append's description. */
  name: string | null
  /** Its text. */
  text: string
  /** First item described, inclusive. */
  start: number
  /** After the last item described, exclusive. */
  end: number
  /** The dimension of its embedding, when it has one. */
  dim?: number
  /** When it was written: ISO 8601. */
  createdAt: string
}

/** Options of `vault.session`. */
export interface SessionOptions {
  /** The code the session runs (a script's text). A notebook adds each cell with `session.cell(code)`. */
  code?: string
  /** Who runs it. Default: the vault's author. */
  user?: string
  /** `script` (default when code is given) or `notebook`. */
  kind?: 'script' | 'notebook'
  /** The session that started this one (a step of a larger run): a Session or its id. */
  parent?: SessionRef | number
}

/** Where a session stands: running until `done()` or `fail(err)` finishes it. */
export type SessionStatus = 'running' | 'completed' | 'failed'

/** A session as `vault.sessions.list()` and `list.createdBy()` describe it (no code). */
export interface SessionSummary {
  /** The session's id. */
  id: number
  /** The name it was started with. */
  name: string
  /** Who ran it. */
  user: string
  /** A script (one cell of code) or a notebook (cells added as they run). */
  kind: 'script' | 'notebook'
  /** Running, or how it finished. */
  status: SessionStatus
  /** The error text given to `fail(err)`, for a failed session. */
  error?: string
  /** The parent session's id, when it has one. */
  parent?: number
  /** ISO 8601 start time. */
  createdAt: string
  /** ISO 8601 time `done()` or `fail()` was called. */
  endedAt?: string
}

/** One append a session made: the list and the index range `[start, end)` it wrote. */
export interface SessionWrite {
  /** The list appended to. */
  list: string
  /** First item written, inclusive. */
  start: number
  /** After the last item written, exclusive. */
  end: number
  /** ISO 8601 time of the append. */
  createdAt: string
  /** True when the list has been deleted since. */
  deleted?: boolean
}

/** A stored session. */
export interface SessionInfo extends SessionSummary {
  /** The code of every cell, cell 0 first (a script has one). */
  cells: string[]
}

/** What `vault.session()` gets back from the engine. */
export interface StartedSession {
  /** The new session's id. */
  id: number
  /** Its name. */
  name: string
  /** Who runs it. */
  user: string
  /** A script or a notebook. */
  kind: 'script' | 'notebook'
  /** The cell running now (0 for a script, and for a notebook before its first cell). */
  currentCell: number
  /** The id of the vault that started it (absent only in a vault without one). */
  vault?: string
}
