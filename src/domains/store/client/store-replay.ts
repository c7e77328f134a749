// replayChain: a stored chain applied to new rows on the calling side. Operators are the caller's
// functions (they cannot cross to the worker), so the chain and its artifacts' bytes are fetched and
// the steps walked here. The walk is a pure function of the chain, an artifact loader and the
// operators, tested on its own (test/node/store-replay.test.ts).
import { InvalidArgumentError } from '../../../errors/errors.js'
import type { Chain } from '../shared/store-types.js'
import { refitKey, sharedIds } from './store-exports.js'

/** One row of X: numbers. */
export type ReplayRow = ArrayLike<number>

/** What an operator builds from an artifact's bytes: a transformer, a model, or both. */
export interface ReplayOperator {
  /** Rows in, rows out (same count). May be async. */
  transform?(rows: ReplayRow[]): ReplayRow[] | Promise<ReplayRow[]>
  /** Rows in, one value per row out (numbers, a typed array, or one-value rows). May be async. */
  predict?(rows: ReplayRow[]): ArrayLike<number> | ArrayLike<number>[] | Promise<ArrayLike<number> | ArrayLike<number>[]>
}

/** Operator implementations by operator class name: each builds an operator from artifact bytes. */
export type ReplayOperators = Record<string, (artifactBytes: Uint8Array) => ReplayOperator | Promise<ReplayOperator>>

/** Options of `replayChain`. */
export interface ReplayOptions {
  /** By operator class name: a function turning a step's fitted artifact bytes into the operator replay applies. */
  operators: ReplayOperators
}

function checkRows(X: unknown, what: string): ReplayRow[] {
  if (!Array.isArray(X)) throw new InvalidArgumentError(`${what} must be an array of rows (number arrays or Float64Arrays)`)
  let width = -1
  X.forEach((row, i) => {
    const ok = Array.isArray(row) || (ArrayBuffer.isView(row) && !(row instanceof DataView) && !(row instanceof BigInt64Array) && !(row instanceof BigUint64Array))
    if (!ok) throw new InvalidArgumentError(`${what}[${i}] must be a number array or a typed array of numbers`)
    const r = row as ArrayLike<unknown>
    for (let j = 0; j < r.length; j++) if (typeof r[j] !== 'number') throw new InvalidArgumentError(`${what}[${i}][${j}] must be a number, got ${typeof r[j]}`)
    if (width === -1) width = r.length
    else if (r.length !== width) throw new InvalidArgumentError(`${what}[${i}] has ${r.length} values where ${what}[0] has ${width}: rows must have one length`)
  })
  return X as ReplayRow[]
}

function checkOperators(options: unknown): ReplayOperators {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options must be an object with operators')
  const operators = (options as { operators?: unknown }).operators
  if (operators === null || typeof operators !== 'object') throw new InvalidArgumentError('options.operators must map operator class names to functions (artifactBytes) => ({ transform?, predict? })')
  for (const [name, fn] of Object.entries(operators)) if (typeof fn !== 'function') throw new InvalidArgumentError(`options.operators[${JSON.stringify(name)}] must be a function (artifactBytes) => ({ transform?, predict? })`)
  return operators as ReplayOperators
}

/** Predictions as one number per row, whatever shape the model returned them in. */
function predictionValues(out: unknown, n: number, where: string): Float64Array {
  if (out === null || typeof out !== 'object' || typeof (out as ArrayLike<unknown>).length !== 'number') {
    throw new InvalidArgumentError(`${where}: predict must return one value per row (numbers, a typed array or one-value rows)`)
  }
  const values = out as ArrayLike<unknown>
  if (values.length !== n) throw new InvalidArgumentError(`${where}: predict returned ${values.length} values for ${n} rows`)
  const result = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const v = values[i]
    const x = typeof v === 'number' ? v : v !== null && typeof v === 'object' && (v as ArrayLike<unknown>).length === 1 ? (v as ArrayLike<unknown>)[0] : undefined
    if (typeof x !== 'number') throw new InvalidArgumentError(`${where}: predict returned ${String(v)} for row ${i}: a number (or a one-value row) is needed`)
    result[i] = x
  }
  return result
}

/**
 * Walks a chain over rows: for each step before the model step, in step order, every shared artifact
 * of the step transforms the rows in turn (a step with no artifact is built from empty bytes when
 * an operator for its class is given, and skipped otherwise, as nirs4all skips it); at the model
 * step the refit model (`fold_final`) predicts, or else every fold model does and their predictions
 * are averaged. A chain without a model step is an InvalidArgumentError.
 */
export async function replayWalk(chain: Chain, X: unknown, options: unknown, loadArtifact: (artifactId: string) => Promise<Uint8Array>): Promise<Float64Array> {
  let rows = checkRows(X, 'X')
  const operators = checkOperators(options)
  const steps = [...chain.steps].sort((a, b) => a.stepIdx - b.stepIdx)
  const model = chain.modelStepIdx === null ? undefined : steps.find((s) => s.stepIdx === chain.modelStepIdx)
  if (model === undefined) throw new InvalidArgumentError(`chain ${JSON.stringify(chain.chainId)} has no model step (modelStepIdx ${String(chain.modelStepIdx)}): there is nothing to predict with`)
  const bytesCache = new Map<string, Promise<Uint8Array>>()
  const bytesOf = (id: string) => {
    let p = bytesCache.get(id)
    if (!p) bytesCache.set(id, (p = loadArtifact(id)))
    return p
  }
  const build = async (operatorClass: string, bytes: Uint8Array, stepIdx: number): Promise<ReplayOperator> => {
    // Own members only: a step class named `constructor` or `toString` found Object's built-ins.
    const factory = Object.hasOwn(operators, operatorClass) ? operators[operatorClass] : undefined
    if (!factory) throw new InvalidArgumentError(`no operator for ${JSON.stringify(operatorClass)} (step ${stepIdx}): add options.operators[${JSON.stringify(operatorClass)}]`)
    const op = await factory(bytes)
    if (op === null || typeof op !== 'object') throw new InvalidArgumentError(`options.operators[${JSON.stringify(operatorClass)}] returned ${String(op)} (step ${stepIdx}): an object with transform or predict is needed`)
    return op
  }
  for (const step of steps) {
    if (step.stepIdx >= model.stepIdx) break
    const ids = sharedIds(chain.sharedArtifacts[String(step.stepIdx)])
    if (ids.length === 0 && step.artifactId) ids.push(step.artifactId)
    if (ids.length === 0 && !operators[step.operatorClass]) continue
    const sources = ids.length ? await Promise.all(ids.map(bytesOf)) : [new Uint8Array(0)]
    for (const bytes of sources) {
      const op = await build(step.operatorClass, bytes, step.stepIdx)
      if (typeof op.transform !== 'function') throw new InvalidArgumentError(`the ${JSON.stringify(step.operatorClass)} operator of step ${step.stepIdx} has no transform`)
      rows = checkRows(await op.transform(rows), `the rows ${step.operatorClass}.transform returned (step ${step.stepIdx})`)
      if (rows.length !== (X as unknown[]).length) throw new InvalidArgumentError(`${step.operatorClass}.transform (step ${step.stepIdx}) returned ${rows.length} rows for ${(X as unknown[]).length}`)
    }
  }
  const refit = refitKey(chain.foldArtifacts)
  let modelIds = refit ? [chain.foldArtifacts[refit]!] : Object.entries(chain.foldArtifacts).filter(([k, id]) => !k.startsWith('_') && id).map(([, id]) => id)
  if (modelIds.length === 0) modelIds = sharedIds(chain.sharedArtifacts[String(model.stepIdx)])
  if (modelIds.length === 0 && model.artifactId) modelIds = [model.artifactId]
  if (modelIds.length === 0) throw new InvalidArgumentError(`chain ${JSON.stringify(chain.chainId)}: its model step (${model.operatorClass}) has no fitted model artifact`)
  const n = rows.length
  const sum = new Float64Array(n)
  for (const id of modelIds) {
    const op = await build(model.operatorClass, await bytesOf(id), model.stepIdx)
    if (typeof op.predict !== 'function') throw new InvalidArgumentError(`the ${JSON.stringify(model.operatorClass)} operator of the model step has no predict`)
    const values = predictionValues(await op.predict(rows), n, `${model.operatorClass}.predict (artifact ${id.slice(0, 12)}…)`)
    for (let i = 0; i < n; i++) sum[i]! += values[i]!
  }
  if (modelIds.length > 1) for (let i = 0; i < n; i++) sum[i]! /= modelIds.length
  return sum
}
