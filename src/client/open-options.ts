import { InvalidArgumentError } from '../errors/errors.js'
import { fail, locationChecks, validate, type Check, type OpenVaultOptions } from './options.js'
// Loaded with these checks: a page's openVault given a `signal` (not a location option) has them.
export { abortableOpen } from './abortable-open.js'

// openVault's options beyond where the vault is (options.ts): their checks load, in a page, only
// when an open names one of them (src/index.ts; docs/cold-start.md, "Main-thread bytes"). Same
// rule as every option: checked before anything is opened or sent.

/** The largest delay a timer can wait (setTimeout wraps larger values to 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1

const boolean: Check = (v, n) => {
  if (typeof v !== 'boolean') fail(n, 'a boolean', v)
}
const string: Check = (v, n) => {
  if (typeof v !== 'string') fail(n, 'a string', v)
}
const oneOf =
  (...allowed: string[]): Check =>
  (v, n) => {
    if (typeof v !== 'string' || !allowed.includes(v)) fail(n, allowed.map((a) => JSON.stringify(a)).join(' or '), v)
  }
/** A duration in ms: a finite number, at least `min`, that a timer can wait. */
export const duration =
  (min: number): Check =>
  (v, n) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > MAX_TIMER_MS) fail(n, `a number of milliseconds from ${min} to ${MAX_TIMER_MS}`, v)
  }
export const byteCount: Check = (v, n) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(n, 'a whole number of bytes (0 or more)', v)
}
const signal: Check = (v, n) => {
  if (typeof v !== 'object' || v === null || typeof (v as AbortSignal).aborted !== 'boolean' || typeof (v as AbortSignal).addEventListener !== 'function') {
    fail(n, 'an AbortSignal', v)
  }
}

/**
 * Options checked where the feature that uses them loads, before anything is opened or sent, so
 * that a page that does not use them does not load their checks (docs/cold-start.md, "Main-thread
 * bytes"): `http` by `checkHttpOptions` (src/client/http-location.ts, loaded with `storage: 'http'`,
 * the only storage it applies to), `logger` by `checkLogger` (src/client/logging-port.ts, loaded
 * with a logger). Every entry point that opens a vault calls them.
 */
const checkedWithTheFeature: Check = () => {}

const openChecks: Record<keyof OpenVaultOptions, Check> = {
  ...locationChecks,
  create: boolean,
  author: string,
  description: string,
  durability: oneOf('strict', 'relaxed'),
  readOnly: boolean,
  repair: boolean,
  signal,
  persist: boolean,
  checkpointBytes: byteCount,
  sharing: oneOf('shared', 'exclusive'),
  lockTimeoutMs: duration(0),
  lockLeaseMs: duration(1),
  processLeaseMs: duration(1),
  restart: boolean,
  logger: checkedWithTheFeature,
  http: checkedWithTheFeature,
}

/** Check every option of `openVault` (types, ranges, names); InvalidArgumentError naming the first bad one. */
export function validateOpenOptions(options: unknown): asserts options is OpenVaultOptions | undefined {
  validate(options, openChecks, 'openVault')
  const o = options as OpenVaultOptions | undefined
  if (o?.http !== undefined && o.storage !== 'http') throw new InvalidArgumentError('option "http" applies only with storage "http"')
  // `restart` recovers crashed processes, a write: with readOnly it failed only once the vault was
  // open (UnsupportedError naming processes.recover). Refused before anything is opened.
  if (o?.readOnly === true && o.restart === true) throw new InvalidArgumentError('openVault: options "readOnly" and "restart" cannot be combined: restart recovers crashed processes, which writes')
}

