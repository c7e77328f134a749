import type { EnginePort, PortCall, portCalls } from '../protocol/engine-port.js'
import type { methodKind } from '../protocol/method-kinds.js'
import { InvalidArgumentError } from '../errors/errors.js'

/**
 * One operation of a vault handle, as `openVault(name, { logger })` reports it once it has settled.
 * It never carries the operation's values, keys or names (they may be large or secret): only what
 * was called, how long it took and how it ended.
 */
export interface VaultLogEntry {
  /** The vault's name. */
  vault: string
  /** The domain called (`kv`, `columns`, `items`, `processes`, …), or `vault` for the vault's own calls. */
  domain: string
  /**
   * The engine method: a domain's (`set`, `getMany`, `append`, …; these are the engine's methods, so
   * one public call may log several, and a cached write logs when its batch is written) or the
   * vault's (`info`, `integrityCheck`, `beginTransaction`, `commitTransaction`, `rollbackTransaction`,
   * `checkpoint`, `close`).
   */
  method: string
  /**
   * What the method does: `read`, `write`, `wait` (a watch's long poll, a paused process's
   * checkpoint), `end` (a transaction's commit or rollback), or `unknown` (no domain lists it).
   */
  kind: string
  /** True when the call ran inside `vault.transaction`. */
  inTransaction: boolean
  /** From the call to its settling, in milliseconds (it includes crossing to the worker or leader tab). */
  durationMs: number
  /** `ok` when the call resolved, `error` when it rejected or threw. */
  outcome: 'ok' | 'error'
  /** The error's class name (`NotFoundError`, `ClosedError`, …) when the outcome is `error`. */
  error?: string
}

/**
 * Where a vault's operations are logged: a function that takes each {@link VaultLogEntry}, or a
 * console-like object (`console` works) whose `debug` gets the operations that succeeded and `warn`
 * those that failed, each as a one-line message plus the entry. A logger that throws is ignored.
 */
export type VaultLogger = ((entry: VaultLogEntry) => void) | VaultConsoleLogger

/** A console-like logger (`console` is one). */
export interface VaultConsoleLogger {
  /** Gets each operation that succeeded. */
  debug(message: string, entry: VaultLogEntry): void
  /** Part of the console shape; labvault does not call it. */
  info(message: string, entry: VaultLogEntry): void
  /** Gets each operation that failed. */
  warn(message: string, entry: VaultLogEntry): void
  /** Part of the console shape; labvault does not call it. */
  error(message: string, entry: VaultLogEntry): void
}

const loggerLevels = ['debug', 'info', 'warn', 'error'] as const

/**
 * Check openVault's `logger` option (InvalidArgumentError naming what is wrong). Here, loaded with
 * the logger, not with every page (src/client/options.ts): every entry point that opens a vault
 * calls it before anything is opened.
 */
export function checkLogger(v: unknown): void {
  if (v === undefined || typeof v === 'function') return
  if (typeof v !== 'object' || v === null) throw new InvalidArgumentError(`option "logger" must be a function or an object with debug, info, warn and error methods (such as console), got ${v === null ? 'null' : typeof v === 'string' ? JSON.stringify(v) : `${typeof v} ${String(v)}`}`)
  const missing = loggerLevels.filter((m) => typeof (v as Record<string, unknown>)[m] !== 'function')
  if (missing.length > 0) throw new InvalidArgumentError(`option "logger" is an object without ${missing.join(', ')} method${missing.length > 1 ? 's' : ''}: pass a function or a console-like object`)
}

/**
 * The kinds of the port's calls and of the domains' methods (src/protocol/engine-port.ts and
 * method-kinds.ts), passed in by the caller. In a page this module loads with the first logger
 * (docs/cold-start.md, "Main-thread bytes"); were it to import those modules itself, the package's
 * build would move them (and every method table) off `labvault.js` into a chunk of their own, which
 * an app's bundler then puts on every page.
 */
export interface CallKinds {
  portCalls: typeof portCalls
  methodKind: typeof methodKind
}

/** Hand `entry` to the logger; whatever it does wrong (throws, rejects) never reaches the call. */
function emit(logger: VaultLogger, entry: VaultLogEntry): void {
  try {
    let result: unknown
    if (typeof logger === 'function') result = logger(entry)
    else {
      const message = `labvault "${entry.vault}": ${entry.domain}.${entry.method} ${entry.outcome === 'ok' ? 'ok' : `failed (${entry.error})`} in ${entry.durationMs.toFixed(1)} ms`
      result = entry.outcome === 'ok' ? logger.debug(message, entry) : logger.warn(message, entry)
    }
    // An async logger's rejection must not surface as an unhandled rejection either.
    if (typeof (result as Promise<unknown> | undefined)?.then === 'function') (result as Promise<unknown>).then(undefined, () => {})
  } catch {
    // A broken logger must not break the vault.
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err
}

/**
 * The handle's port with every call logged when it settles. Wrapped around the handle's own port
 * (src/client/handle-port.ts) on the client side, so it sees the same calls wherever the engine runs:
 * in this process, in a worker, or in the leader tab for a follower. No logger: the port unchanged,
 * at no cost.
 */
export function loggingPort(port: EnginePort, logger: VaultLogger | undefined, vaultName: string, kinds: CallKinds): EnginePort {
  if (logger === undefined) return port
  const timed = <T>(domain: string, method: string, kind: string, inTransaction: boolean, run: () => Promise<T>): Promise<T> => {
    const started = performance.now()
    const log = (outcome: 'ok' | 'error', err?: unknown) => {
      const entry: VaultLogEntry = { vault: vaultName, domain, method, kind, inTransaction, durationMs: performance.now() - started, outcome }
      if (outcome === 'error') entry.error = errorName(err)
      emit(logger, entry)
    }
    let promise: Promise<T>
    try {
      promise = run()
    } catch (err) {
      log('error', err)
      throw err
    }
    return promise.then(
      (value) => {
        log('ok')
        return value
      },
      (err: unknown) => {
        log('error', err)
        throw err
      },
    )
  }
  const logged: Record<string, unknown> = { ...port }
  const { portCalls, methodKind } = kinds
  for (const call of Object.keys(portCalls) as PortCall[]) {
    if (call === 'invoke') continue
    const target = port[call] as (...args: unknown[]) => Promise<unknown>
    const kind = portCalls[call].kind
    const inTransaction = kind === 'end'
    logged[call] = (...args: unknown[]) => timed('vault', call, kind, inTransaction, () => target.apply(port, args))
  }
  logged.close = () => timed('vault', 'close', 'write', false, () => port.close())
  const invoke: EnginePort['invoke'] = (txId, domain, method, args, transfer, requestKey, options) =>
    // A method no domain lists has no kind: the engine refuses it (logged as an error).
    timed(domain, method, methodKind(domain, method) ?? 'unknown', txId !== null, () => port.invoke(txId, domain, method, args, transfer, requestKey, options))
  return { ...(logged as unknown as EnginePort), invoke }
}
