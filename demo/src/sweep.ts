// Hyperparameter sweeps: each sweep and each training run in it is a labvault process, so it can
// be paused, resumed or stopped from this page or any other tab (the run honours the signal at its
// next checkpoint, between two training steps). Everything a run produces goes to the experiment
// store, typed columns and item lists.
import { NotFoundError, StoppedError, type DocumentList, type EmbeddingList, type RecordList, type Vault } from 'labvault'
import { CLASSES } from './setup.js'
import { accuracy, argmax, logLoss, NearestNeighbours, SoftmaxRegression, subset, type Probabilities, type Samples } from './ml.js'
import { embed } from './featurise.js'

/** What the sweep form asks for. */
export interface SweepSpec {
  name: string
  models: ('logreg' | 'knn')[]
  learningRates: number[]
  l2: number[]
  epochs: number
  ks: number[]
  /** Milliseconds to wait after each step, so a run can be watched (and paused) as it trains. */
  paceMs: number
}

/** One training run of a sweep. */
export type RunConfig = { model: 'logreg'; learningRate: number; l2: number; epochs: number } | { model: 'knn'; k: number }

/** Model class names as the store records them. */
export const MODEL_CLASS = { logreg: 'SoftmaxRegression', knn: 'NearestNeighbours' } as const

/** Every configuration of a sweep, in order. */
export function expand(spec: SweepSpec): RunConfig[] {
  const out: RunConfig[] = []
  if (spec.models.includes('logreg')) for (const learningRate of spec.learningRates) for (const l2 of spec.l2) out.push({ model: 'logreg', learningRate, l2, epochs: spec.epochs })
  if (spec.models.includes('knn')) for (const k of spec.ks) out.push({ model: 'knn', k })
  return out
}

/** A run's display name. */
export function runName(c: RunConfig): string {
  return c.model === 'logreg' ? `logreg lr=${c.learningRate} l2=${c.l2}` : `knn k=${c.k}`
}

/** The `features` table's latest instance as model inputs, split as its `split` column says. */
export interface FeatureData {
  instanceId: string
  train: Samples
  val: Samples
  test: Samples
}

/** Read the latest `features` instance (an Arrow table) into training, validation and test rows. */
export async function loadFeatures(vault: Vault): Promise<FeatureData> {
  const { table, instanceId } = await vault.tables.get('features')
  const names = table.schema.fields.map((f) => f.name).filter((n) => n.startsWith('f_'))
  const cols = names.map((n) => table.getChild(n)!.toArray() as ArrayLike<number>)
  const labels = table.getChild('label')!.toArray() as string[]
  const splits = table.getChild('split')!.toArray() as string[]
  const ids = table.getChild('id')!.toArray() as ArrayLike<number>
  const dim = names.length
  const all: Samples = { x: new Float64Array(table.numRows * dim), y: new Int32Array(table.numRows), dim, ids: Int32Array.from(ids) }
  for (let r = 0; r < table.numRows; r++) {
    for (let j = 0; j < dim; j++) all.x[r * dim + j] = Number(cols[j]![r])
    all.y[r] = CLASSES.indexOf(labels[r] as (typeof CLASSES)[number])
  }
  const rowsOf = (s: string) => [...splits.keys()].filter((r) => splits[r] === s)
  return { instanceId, train: subset(all, rowsOf('train')), val: subset(all, rowsOf('val')), test: subset(all, rowsOf('test')) }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Run a sweep: a process named after the sweep (checked between runs) and, for each configuration,
 * a process `train <run name>`. A stopped run is recorded as failed and the sweep goes on; a
 * stopped sweep ends after its current run. Returns the store ids of the runs it completed.
 */
export async function runSweep(vault: Vault, spec: SweepSpec, data: FeatureData): Promise<string[]> {
  const configs = expand(spec)
  const sweep = await vault.processes.start(spec.name)
  const project = await vault.store.projects.getOrCreate(spec.name, { description: `sweep of ${configs.length} runs` })
  const done: string[] = []
  try {
    for (let i = 0; i < configs.length; i++) {
      await sweep.checkpoint({ run: i, runs: configs.length })
      const runId = await trainRun(vault, configs[i]!, spec, project.projectId, data)
      if (runId) done.push(runId)
    }
    await sweep.done({ run: configs.length, runs: configs.length })
  } catch (err) {
    if (!(err instanceof StoppedError)) await sweep.fail(err).catch(() => {})
    else return done
    throw err
  }
  return done
}

/** Train one configuration as a process; returns its run id, or null when it was stopped. */
async function trainRun(vault: Vault, config: RunConfig, spec: SweepSpec, projectId: string, data: FeatureData): Promise<string | null> {
  const s = vault.store
  const name = runName(config)
  const modelClass = MODEL_CLASS[config.model]
  const proc = await vault.processes.start(`train ${name}`)
  const started = Date.now()
  const runId = await s.beginRun(name, { ...config, sweep: spec.name, processId: proc.id }, [{ name: 'cells', featuresInstance: data.instanceId }])
  await s.projects.setRunProject(runId, projectId)
  const params: Record<string, number> = config.model === 'logreg' ? { learningRate: config.learningRate, l2: config.l2, epochs: config.epochs } : { k: config.k }
  const pipelineId = await s.beginPipeline(runId, {
    name,
    expandedConfig: [{ features: 'feature_engineering', instance: data.instanceId }, { model: modelClass, params }],
    generatorChoices: [params],
    datasetName: 'cells',
    datasetHash: data.instanceId,
  })
  try {
    const pipelines = await vault.lists.get<RecordList>('pipelines')
    const pipelineItem = await pipelines.append({ runId, pipelineId, name, featuresInstance: data.instanceId }, { parents: [{ list: 'datasets', start: 0, end: 1 }] })
    const loss = await vault.columns.ensure(`loss/${runId}`, 'f64')
    const valAcc = await vault.columns.ensure(`val_accuracy/${runId}`, 'f64')
    await s.logStep(pipelineId, { stepIdx: 1, operatorClass: modelClass, event: 'start', message: `training ${name}`, details: params })

    let model: SoftmaxRegression | NearestNeighbours
    let steps = 0
    if (config.model === 'logreg') {
      const m = new SoftmaxRegression(data.train.dim, CLASSES.length)
      for (let epoch = 0; epoch < config.epochs; epoch++) {
        const l = m.step(data.train, config)
        const acc = accuracy(data.val.y, argmax(m.predictProba(data.val.x)))
        await loss.append(l)
        await valAcc.append(acc)
        steps++
        await proc.checkpoint({ step: epoch + 1, steps: config.epochs, valAccuracy: acc })
        if (spec.paceMs > 0) await sleep(spec.paceMs)
      }
      model = m
    } else {
      // k-NN has nothing to fit: its steps score the validation rows ten at a time, so the curve is
      // the accuracy over the rows scored so far.
      const m = new NearestNeighbours(data.train, config.k, CLASSES.length)
      const chunk = 10
      const total = Math.ceil(data.val.y.length / chunk)
      for (let c = 0; c < total; c++) {
        const rows = Array.from({ length: Math.min(data.val.y.length, (c + 1) * chunk) }, (_, i) => i)
        const part = subset(data.val, rows)
        const p = m.predictProba(part.x)
        await loss.append(logLoss(part.y, p))
        await valAcc.append(accuracy(part.y, argmax(p)))
        steps++
        await proc.checkpoint({ step: c + 1, steps: total })
        if (spec.paceMs > 0) await sleep(spec.paceMs)
      }
      model = m
    }

    const artifactId = await s.saveArtifact(new TextEncoder().encode(JSON.stringify(model.toJSON())), { operatorClass: modelClass, artifactType: 'model', format: 'json' })
    const chainId = await s.saveChain(pipelineId, {
      steps: [
        { stepIdx: 0, operatorClass: 'feature_engineering', params: { instance: data.instanceId }, stateless: true },
        { stepIdx: 1, operatorClass: modelClass, params, artifactId },
      ],
      modelStepIdx: 1,
      modelClass,
      preprocessings: 'zscore>compactness',
      foldStrategy: 'holdout',
      foldArtifacts: { fold_final: artifactId },
    })
    const models = await vault.lists.get<RecordList>('models')
    const modelItem = await models.append({ runId, chainId, modelClass, artifactId }, { parents: [{ list: 'pipelines', start: pipelineItem, end: pipelineItem + 1 }] })

    const scored = (part: Samples) => {
      const p: Probabilities = model.predictProba(part.x)
      return { p, pred: argmax(p), acc: accuracy(part.y, argmax(p)) }
    }
    const val = scored(data.val)
    const test = scored(data.test)
    const trainAcc = scored(data.train).acc
    const base = { pipelineId, chainId, datasetName: 'cells', modelName: name, modelClass, foldId: 'fold_final', metric: 'accuracy', taskType: 'classification', nFeatures: data.train.dim, bestParams: params, trainScore: trainAcc, valScore: val.acc, testScore: test.acc }
    const arrays = (part: Samples, r: ReturnType<typeof scored>) => ({ yTrue: part.y, yPred: r.pred, yProba: r.p.proba, yProbaShape: [part.y.length, CLASSES.length], sampleIndices: part.ids })
    const [valId, testId] = await s.savePredictions([
      { ...base, partition: 'val', nSamples: data.val.y.length, arrays: arrays(data.val, val) },
      { ...base, partition: 'test', nSamples: data.test.y.length, arrays: arrays(data.test, test) },
    ])
    const predictions = await vault.lists.get<RecordList>('predictions')
    await predictions.appendMany(
      [
        { runId, predictionId: valId!, partition: 'val', accuracy: val.acc },
        { runId, predictionId: testId!, partition: 'test', accuracy: test.acc },
      ],
      { parents: [{ list: 'models', start: modelItem, end: modelItem + 1 }] },
    )

    const durationMs = Date.now() - started
    await s.logStep(pipelineId, { stepIdx: 1, operatorClass: modelClass, event: 'end', durationMs, message: `val ${val.acc.toFixed(3)}, test ${test.acc.toFixed(3)}` })
    await s.completePipeline(pipelineId, { bestVal: val.acc, bestTest: test.acc, metric: 'accuracy', durationMs })
    await s.completeRun(runId, { valAccuracy: val.acc, testAccuracy: test.acc, trainAccuracy: trainAcc, steps, durationMs })
    await addNote(vault, runNote(name, config, trainAcc, val.acc, test.acc), modelItem)
    await proc.done({ step: steps, steps, valAccuracy: val.acc })
    return runId
  } catch (err) {
    await s.failPipeline(pipelineId, err).catch(() => {})
    await s.failRun(runId, err).catch(() => {})
    if (err instanceof StoppedError) return null
    await proc.fail(err).catch(() => {})
    throw err
  }
}

/** The note written for a finished run: what a person would jot down. */
export function runNote(name: string, config: RunConfig, train: number, val: number, test: number): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`
  const gap = train - val
  const verdict = gap > 0.08 ? 'It overfits: training accuracy is well above validation.' : val < 0.7 ? 'It underfits: accuracy stays low.' : 'Training and validation agree: a good fit.'
  const detail = config.model === 'logreg' ? `Logistic regression with learning rate ${config.learningRate}, weight decay ${config.l2}, ${config.epochs} epochs.` : `Nearest neighbours voting with k = ${config.k} neighbours.`
  return `${name}: ${detail} Train ${pct(train)}, validation ${pct(val)}, test ${pct(test)}. ${verdict}`
}

/** Append a note (a document) and its embedding (child of the note), the note a child of `modelItem` when given. */
export async function addNote(vault: Vault, text: string, modelItem?: number): Promise<number> {
  const notes = await vault.lists.get<DocumentList>('notes')
  const index = await notes.append(text, modelItem === undefined ? {} : { parents: [{ list: 'models', start: modelItem, end: modelItem + 1 }] })
  const vectors = await vault.lists.get<EmbeddingList>('note_vectors')
  await vectors.append(embed(text), { parents: [{ list: 'notes', start: index, end: index + 1 }] })
  return index
}

/**
 * Runs left `running` by a tab that closed (or crashed) while training: their process's holder let
 * its lease expire. Each such process is cleaned up (`processes.cleanup`) and its run recorded as
 * failed, with its pipelines (their partial chains and predictions rolled back). Crashed sweeps are
 * cleaned up too. Safe to call from several tabs at once. Returns the run ids it failed.
 */
export async function failAbandonedRuns(vault: Vault): Promise<string[]> {
  const crashed = (await vault.processes.active()).filter((p) => p.status === 'crashed')
  for (const p of crashed) await vault.processes.cleanup(p.id).catch(() => {})
  const failed: string[] = []
  for (const row of (await vault.store.listRuns({ status: 'running', limit: 1000 })).toArray()) {
    const runId = String(row.runId)
    const processId = (JSON.parse(String(row.config)) as { processId?: string }).processId
    if (!processId) continue
    let status: string
    try {
      status = (await vault.processes.get(processId)).status
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
      status = 'gone'
    }
    if (status === 'running' || status === 'paused' || status === 'done') continue
    const reason = `abandoned: its process is ${status} (the tab training it closed)`
    for (const p of (await vault.store.listPipelines({ runId })).toArray()) {
      if (String(p.status) === 'running') await vault.store.failPipeline(String(p.pipelineId), reason).catch(() => {})
    }
    await vault.store.failRun(runId, reason).catch(() => {})
    failed.push(runId)
  }
  return failed
}
