// What the tracker needs in the vault before the first sweep: the dataset as a versioned table,
// the feature engineering as a stored code module and the builder of the `features` table, and the
// item lists that carry lineage (dataset → pipeline → model → predictions) and the run notes.
// Every step is idempotent, so a second tab (or a reload) finds it done.
import { AlreadyExistsError, type CreateListOptions, type RecordList, type Vault } from 'labvault'
import { EMBEDDING_DIM } from './featurise.js'
import { FEATURE_BUILDER, FEATURE_MODULE, FEATURE_SOURCE } from './feature-module.js'

/** The item lists of the demo and how they are made. */
export const LISTS: Record<string, CreateListOptions> = {
  datasets: { type: 'record', fields: ['name', 'rows', 'sha256', 'source'] },
  pipelines: { type: 'record', fields: ['runId', 'pipelineId', 'name', 'featuresInstance'] },
  models: { type: 'record', fields: ['runId', 'chainId', 'modelClass', 'artifactId'] },
  predictions: { type: 'record', fields: ['runId', 'predictionId', 'partition', 'accuracy'] },
  notes: { type: 'document' },
  note_vectors: { type: 'embedding', dim: EMBEDDING_DIM },
}

/** The dataset's class names, in class-index order. */
export const CLASSES = ['healthy', 'inflamed', 'malignant'] as const

/** Ignore AlreadyExistsError: another tab made the same thing a moment ago. */
async function once(make: () => Promise<unknown>): Promise<void> {
  try {
    await make()
  } catch (err) {
    if (!(err instanceof AlreadyExistsError)) throw err
  }
}

/** Parse the dataset's CSV (numbers where the text is a number). */
export function parseCsv(text: string): Record<string, string | number>[] {
  const [head, ...lines] = text.trim().split(/\r?\n/)
  const names = head!.split(',')
  return lines.map((line) => {
    const cells = line.split(',')
    return Object.fromEntries(names.map((n, i) => [n, cells[i] !== '' && !Number.isNaN(Number(cells[i])) ? Number(cells[i]) : cells[i]!]))
  })
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** Make what is missing: lists, the `cells` table with the dataset, the code module, the `features` table. */
export async function ensureSetup(vault: Vault, csv: string, source: string): Promise<void> {
  for (const [name, options] of Object.entries(LISTS)) if (!(await vault.lists.has(name))) await once(() => vault.lists.create(name, options))

  const datasets = await vault.lists.get<RecordList>('datasets')
  if ((await datasets.size()) === 0) {
    const rows = parseCsv(csv)
    await datasets.append({ name: 'cells', rows: rows.length, sha256: await sha256(csv), source }, { description: 'synthetic cell measurements, three classes' })
  }

  const tables = (await vault.tables.list()).map((t) => t.name)
  if (!tables.includes('cells')) {
    await once(() => vault.tables.create('cells', { description: 'the raw dataset, as shipped with the demo' }))
    await vault.tables.write('cells', parseCsv(csv), { dtypes: { id: 'i32', area: 'f64', perimeter: 'f64', intensity: 'f64', roundness: 'f64', label: 'str:utf8' } })
  }
  if (!(await vault.code.list()).includes(FEATURE_MODULE)) await once(() => vault.code.create(FEATURE_MODULE, FEATURE_SOURCE))
  if (!tables.includes('features')) {
    await once(() => vault.tables.create('features', { description: 'model inputs, built from cells by the feature_engineering module' }))
  }
  if ((await vault.tables.instances('features')).length === 0) await buildFeatures(vault)
}

/**
 * Build a new instance of `features` from the stored module: a temporary instance copying the
 * latest one (or a fresh one with the index builder), then execute. Rows are reused when nothing
 * they depend on changed; a changed module recomputes them.
 */
export async function buildFeatures(vault: Vault, options: { force?: boolean } = {}): Promise<string> {
  const materialised = await vault.tables.instances('features')
  const temp = (await vault.tables.instances('features', { includeTemp: true })).some((i) => i.temporary)
  if (!temp) {
    if (materialised.length > 0) await vault.tables.createInstance('features', { copy: true })
    else {
      await vault.tables.createInstance('features')
      await vault.tables.builders.create('features', 'features_index', FEATURE_BUILDER)
    }
  }
  const { instanceId } = await vault.tables.execute('features', { force: options.force ?? false })
  return instanceId!
}
