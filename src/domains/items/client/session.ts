import type { DomainCaller } from '../../../protocol/domain-caller.js'
import type { SessionInfo, SessionOptions, SessionRef, SessionStatus, SessionSummary, SessionWrite } from '../shared/item-types.js'
import type { StartedSession } from '../shared/item-types.js'

/**
 * A running script or notebook, as `vault.session(name, { code })` returns it. Pass it to appends
 * (`{ session }`): each item records the session and the cell current at the time, and the code
 * becomes searchable (`search.code`, `search.text(q, { sources: ['code'] })`).
 */
export class Session implements SessionRef {
  /** The session's id in this vault. */
  readonly id: number
  /** The name given (e.g. the script's file name). */
  readonly name: string
  /** Who runs it. */
  readonly user: string
  /** `script` (one code text) or `notebook` (code added cell by cell with `cell()`). */
  readonly kind: 'script' | 'notebook'
  /** The id of the vault that started it: a reference to it is refused by any other vault. */
  readonly vault: string | undefined
  private cellNumber: number

  /** @internal Use `vault.session()`. */
  constructor(
    private readonly caller: DomainCaller,
    started: StartedSession,
  ) {
    this.id = started.id
    this.name = started.name
    this.user = started.user
    this.kind = started.kind
    this.vault = started.vault
    this.cellNumber = started.currentCell
  }

  /** The cell that appends made now will record (0 for a script). */
  get currentCell(): number {
    return this.cellNumber
  }

  /** Record a notebook cell's code; items appended afterwards point at it. Returns its number. */
  async cell(code: string): Promise<number> {
    const n = (await this.caller.call('sessions', 'cell', [this.id, code])) as number
    this.cellNumber = n
    return n
  }

  /** Mark the session completed. Appends naming it are refused afterwards (ConflictError), as is finishing it again. */
  done(): Promise<SessionSummary> {
    return this.caller.call('sessions', 'done', [this.id]) as Promise<SessionSummary>
  }

  /**
   * Mark the session failed, keeping the error's text (an Error's `message`, or the value as a
   * string). Appends naming it are refused afterwards (ConflictError), as is finishing it again.
   */
  fail(error: unknown): Promise<SessionSummary> {
    const text = error instanceof Error ? error.message : typeof error === 'string' ? error : String(error)
    return this.caller.call('sessions', 'fail', [this.id, text]) as Promise<SessionSummary>
  }

  /** Every append this session made: the list and index range of each, in order. */
  wrote(): Promise<SessionWrite[]> {
    return this.caller.call('sessions', 'wrote', [this.id]) as Promise<SessionWrite[]>
  }

  /** The session as stored, with every cell's code. */
  info(): Promise<SessionInfo> {
    return this.caller.call('sessions', 'info', [this.id]) as Promise<SessionInfo>
  }

  /** The plain form that crosses the worker (a class instance with methods cannot). */
  toJSON(): SessionRef {
    return sessionRef(this)!
  }
}

/** Start a session (the client half of `vault.session`). */
export async function startSession(caller: DomainCaller, name: string, options: SessionOptions = {}): Promise<Session> {
  // A parent Session becomes its plain form (id and vault): a class instance does not cross the worker.
  const parent = options?.parent
  const plain = parent !== undefined && parent !== null && typeof parent === 'object' ? { ...options, parent: sessionRef(parent) } : options
  const started = (await caller.call('sessions', 'start', [name, plain])) as StartedSession
  return new Session(caller, started)
}

/** Turn what the user passed as `session` into its plain form. */
export function sessionRef(s: SessionRef | undefined): SessionRef | undefined {
  if (s === undefined || s === null) return undefined
  // The vault goes along: the engine refuses another vault's session by it (same ids, other code).
  return s.vault === undefined ? { id: s.id, currentCell: s.currentCell } : { id: s.id, currentCell: s.currentCell, vault: s.vault }
}

/**
 * `vault.sessions`: every session of the vault with its status, parent and times. Start one with
 * `vault.session(name, options)`.
 */
export class Sessions {
  /** @internal */
  constructor(private readonly caller: DomainCaller) {}

  /** Sessions oldest first; `parent` keeps a session's children, `status` the sessions in that state. */
  list(options?: { parent?: number; status?: SessionStatus }): Promise<SessionSummary[]> {
    return this.caller.call('sessions', 'list', [options]) as Promise<SessionSummary[]>
  }

  /** One session as stored, with every cell's code (NotFoundError when there is none of that id). */
  info(id: number): Promise<SessionInfo> {
    return this.caller.call('sessions', 'info', [id]) as Promise<SessionInfo>
  }

  /** The appends session `id` made (as `session.wrote()`). */
  wrote(id: number): Promise<SessionWrite[]> {
    return this.caller.call('sessions', 'wrote', [id]) as Promise<SessionWrite[]>
  }
}
