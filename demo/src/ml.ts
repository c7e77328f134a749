// The demo's models, written in plain TypeScript: softmax (multinomial logistic) regression trained
// by full-batch gradient descent, and k-nearest neighbours. Small on purpose: a few hundred rows.

/** Rows of features and their class indices. */
export interface Samples {
  /** Row-major features: `x[i * dim + j]`. */
  x: Float64Array
  y: Int32Array
  dim: number
  /** The rows' ids in the source table (kept as prediction sample indices). */
  ids: Int32Array
}

/** Class probabilities of every row: row-major, `rows × classes`. */
export interface Probabilities {
  proba: Float64Array
  classes: number
}

/** Pick rows `idx` of `s`. */
export function subset(s: Samples, idx: ArrayLike<number>): Samples {
  const x = new Float64Array(idx.length * s.dim)
  const y = new Int32Array(idx.length)
  const ids = new Int32Array(idx.length)
  for (let r = 0; r < idx.length; r++) {
    const i = idx[r]!
    x.set(s.x.subarray(i * s.dim, (i + 1) * s.dim), r * s.dim)
    y[r] = s.y[i]!
    ids[r] = s.ids[i]!
  }
  return { x, y, dim: s.dim, ids }
}

/** The most probable class of each row. */
export function argmax({ proba, classes }: Probabilities): Int32Array {
  const out = new Int32Array(proba.length / classes)
  for (let r = 0; r < out.length; r++) {
    let best = 0
    for (let c = 1; c < classes; c++) if (proba[r * classes + c]! > proba[r * classes + best]!) best = c
    out[r] = best
  }
  return out
}

/** Share of `pred` equal to `truth` (0 for no rows). */
export function accuracy(truth: ArrayLike<number>, pred: ArrayLike<number>): number {
  if (truth.length === 0) return 0
  let ok = 0
  for (let i = 0; i < truth.length; i++) if (truth[i] === pred[i]) ok++
  return ok / truth.length
}

/** Mean cross-entropy of the true classes (probabilities clipped away from 0). */
export function logLoss(truth: ArrayLike<number>, p: Probabilities): number {
  let sum = 0
  for (let i = 0; i < truth.length; i++) sum -= Math.log(Math.max(1e-12, p.proba[i * p.classes + truth[i]!]!))
  return truth.length === 0 ? 0 : sum / truth.length
}

/** Hyperparameters of {@link SoftmaxRegression}. */
export interface LogisticParams {
  learningRate: number
  /** L2 penalty on the weights (not the biases). */
  l2: number
  epochs: number
}

/** Multinomial logistic regression: weights `classes × (dim + 1)`, the last column the bias. */
export class SoftmaxRegression {
  readonly weights: Float64Array
  constructor(
    readonly dim: number,
    readonly classes: number,
    weights?: ArrayLike<number>,
  ) {
    this.weights = weights ? Float64Array.from(weights) : new Float64Array(classes * (dim + 1))
    if (this.weights.length !== classes * (dim + 1)) throw new RangeError(`weights: expected ${classes * (dim + 1)} values, got ${this.weights.length}`)
  }

  predictProba(x: Float64Array): Probabilities {
    const { dim, classes, weights: w } = this
    const rows = x.length / dim
    const proba = new Float64Array(rows * classes)
    for (let r = 0; r < rows; r++) {
      let max = -Infinity
      for (let c = 0; c < classes; c++) {
        let z = w[c * (dim + 1) + dim]!
        for (let j = 0; j < dim; j++) z += w[c * (dim + 1) + j]! * x[r * dim + j]!
        proba[r * classes + c] = z
        if (z > max) max = z
      }
      // Softmax shifted by the row's maximum so exp never overflows.
      let sum = 0
      for (let c = 0; c < classes; c++) sum += proba[r * classes + c] = Math.exp(proba[r * classes + c]! - max)
      for (let c = 0; c < classes; c++) proba[r * classes + c]! /= sum
    }
    return { proba, classes }
  }

  /** One full-batch gradient step; returns the training loss before it (with the L2 term). */
  step(train: Samples, { learningRate, l2 }: Pick<LogisticParams, 'learningRate' | 'l2'>): number {
    const { dim, classes, weights: w } = this
    const p = this.predictProba(train.x)
    const n = train.y.length
    const grad = new Float64Array(w.length)
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < classes; c++) {
        const err = p.proba[r * classes + c]! - (train.y[r] === c ? 1 : 0)
        for (let j = 0; j < dim; j++) grad[c * (dim + 1) + j]! += err * train.x[r * dim + j]!
        grad[c * (dim + 1) + dim]! += err
      }
    }
    let penalty = 0
    for (let c = 0; c < classes; c++) {
      for (let j = 0; j <= dim; j++) {
        const k = c * (dim + 1) + j
        const reg = j < dim ? l2 * w[k]! : 0
        if (j < dim) penalty += 0.5 * l2 * w[k]! * w[k]!
        w[k]! -= learningRate * (grad[k]! / Math.max(1, n) + reg)
      }
    }
    return logLoss(train.y, p) + penalty
  }

  toJSON(): { type: 'SoftmaxRegression'; dim: number; classes: number; weights: number[] } {
    return { type: 'SoftmaxRegression', dim: this.dim, classes: this.classes, weights: [...this.weights] }
  }
}

/** k-nearest neighbours (Euclidean), probabilities from the neighbours' votes. */
export class NearestNeighbours {
  constructor(
    readonly train: Samples,
    readonly k: number,
    readonly classes: number,
  ) {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`)
  }

  predictProba(x: Float64Array): Probabilities {
    const { dim, x: tx, y: ty } = this.train
    const n = ty.length
    const k = Math.min(this.k, n)
    const rows = x.length / dim
    const proba = new Float64Array(rows * this.classes)
    const dist = new Float64Array(n)
    const order = new Int32Array(n)
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < n; i++) {
        let d = 0
        for (let j = 0; j < dim; j++) d += (x[r * dim + j]! - tx[i * dim + j]!) ** 2
        dist[i] = d
        order[i] = i
      }
      // Ties broken by training order, so predictions are deterministic.
      order.sort((a, b) => dist[a]! - dist[b]! || a - b)
      for (let m = 0; m < k; m++) proba[r * this.classes + ty[order[m]!]!]! += 1 / k
    }
    return { proba, classes: this.classes }
  }

  toJSON(): { type: 'NearestNeighbours'; k: number; classes: number; trainIds: number[] } {
    return { type: 'NearestNeighbours', k: this.k, classes: this.classes, trainIds: [...this.train.ids] }
  }
}
