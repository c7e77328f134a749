/** What the processes domain's client and engine halves exchange. */

/** Status of a process. `crashed` is computed for a live status whose holder's lease expired. */
export type ProcessStatus = 'running' | 'paused' | 'done' | 'failed' | 'stopped' | 'crashed'
/** A pending signal. */
export type ProcessRequest = 'pause' | 'resume' | 'stop'

/** What `vault.processes.get/active` report about a process. */
export interface ProcessInfo {
  id: string
  name: string
  status: ProcessStatus
  /** The signal waiting for the process's next checkpoint, if any. */
  request: ProcessRequest | null
  /** Who runs it (a client id); its lease decides whether it is alive. */
  holder: string
  startedAt: string
  updatedAt: string
  finishedAt: string | null
  error: string | null
  checkpoints: number
  /** What the process last reported at a checkpoint (JSON). */
  progress: unknown
  /** Operations begun and not ended (the journal). */
  inFlight: JournalEntry[]
}

/** One operation in flight. */
export interface JournalEntry {
  id: number
  op: string
  onCrash: 'rollback' | 'resume'
  state: unknown
  startedAt: string
}

/** What recovering a crashed process did. */
export interface RecoveryResult {
  id: string
  name: string
  /** Operations undone (their key-value snapshots restored). */
  rolledBack: string[]
  /** Operations kept for `adopt` (begun with `onCrash: 'resume'`). */
  resumable: string[]
}

/** A key-value entry an operation may change (snapshotted by `begin`). */
export interface JournalKey {
  ns?: string
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
