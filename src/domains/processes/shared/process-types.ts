/** What the processes domain's client and engine halves exchange. */

/** Status of a process. `crashed` is computed for a live status whose holder's lease expired. */
export type ProcessStatus = 'running' | 'paused' | 'done' | 'failed' | 'stopped' | 'crashed'
/** A pending signal. */
export type ProcessRequest = 'pause' | 'resume' | 'stop'

/** What `vault.processes.get/active` report about a process. */
export interface ProcessInfo {
  /** Its id (unique in the vault; `vault.processes.newId()` makes one). */
  id: string
  /** The name it was started with (several processes may share one). */
  name: string
  /** Where it stands now (`crashed`: its holder's lease expired while it was live). */
  status: ProcessStatus
  /** The signal waiting for the process's next checkpoint, if any. */
  request: ProcessRequest | null
  /** Who runs it (a client id); its lease decides whether it is alive. */
  holder: string
  /** When it started: an ISO 8601 UTC timestamp. */
  startedAt: string
  /** When its record last changed (a checkpoint, a signal, its end): ISO 8601 UTC. */
  updatedAt: string
  /** When it finished (done, failed, stopped, or crashed and recovered): ISO 8601 UTC, else null. */
  finishedAt: string | null
  /** Why it failed (the error's name and message), else null. */
  error: string | null
  /** How many checkpoints it has passed. */
  checkpoints: number
  /** What the process last reported at a checkpoint (JSON). */
  progress: unknown
  /** Operations begun and not ended (the journal). */
  inFlight: JournalEntry[]
}

/** One operation in flight. */
export interface JournalEntry {
  /** The entry's number (what `begin` returned; `note` and `end` take it). */
  id: number
  /** The operation's name as given to `begin`. */
  op: string
  /** What recovery does with it after a crash: undo it, or keep it for `adopt`. */
  onCrash: 'rollback' | 'resume'
  /** The state last recorded (`begin`'s, then `note`'s; JSON), for a successor to go on from. */
  state: unknown
  /** When it began: an ISO 8601 UTC timestamp. */
  startedAt: string
}

/** What recovering a crashed process did. */
export interface RecoveryResult {
  /** The recovered process's id. */
  id: string
  /** Its name. */
  name: string
  /** Operations undone (their key-value snapshots restored). */
  rolledBack: string[]
  /** Operations kept for `adopt` (begun with `onCrash: 'resume'`). */
  resumable: string[]
}

/** A key-value entry an operation may change (snapshotted by `begin`). */
export interface JournalKey {
  /** The key-value namespace (the default namespace when absent). */
  ns?: string
  /** The key, as `vault.kv(ns)` takes it. */
  key: string | Uint8Array
}

/** Options of `vault.processes.prune`. */
export interface PruneOptions {
  /** How many of the most recently finished processes of each name to keep (default 0: none). */
  keep?: number
  /** Prune only processes of this name (default: every name). */
  name?: string
  /** Prune only processes that finished before this moment, a Date or its time in ms (default: whenever they finished). */
  finishedBefore?: Date | number
}
