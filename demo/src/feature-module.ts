// The feature engineering of the demo, stored in the vault as a code module (vault.code) and run by
// the builder of the `features` table (vault.tables): the page never runs it itself. It is plain
// source text because the vault stores it as data and imports it inside its worker.

/** Name of the stored code module. */
export const FEATURE_MODULE = 'feature_engineering'

/**
 * The module's source: `engineer({ rows })` turns the raw `cells` rows into model features: each
 * measurement z-scored with the training rows' mean and spread, plus a derived compactness
 * (4π·area / perimeter²), and a deterministic split (id mod 5: 0–2 train, 3 val, 4 test).
 */
export const FEATURE_SOURCE = `// feature engineering for the cells dataset (edit me and rebuild: a new instance)
const MEASURES = ['area', 'perimeter', 'intensity', 'roundness']

export function engineer({ rows }) {
  const split = (id) => (id % 5 < 3 ? 'train' : id % 5 === 3 ? 'val' : 'test')
  const derived = rows.map((r) => ({ ...r, compactness: (4 * Math.PI * r.area) / (r.perimeter * r.perimeter) }))
  const names = [...MEASURES, 'compactness']
  const train = derived.filter((r) => split(Number(r.id)) === 'train')
  const stats = names.map((n) => {
    const mean = train.reduce((s, r) => s + r[n], 0) / train.length
    const sd = Math.sqrt(train.reduce((s, r) => s + (r[n] - mean) ** 2, 0) / train.length) || 1
    return { n, mean, sd }
  })
  return derived.map((r) => {
    const out = { id: Number(r.id), split: split(Number(r.id)), label: r.label }
    for (const { n, mean, sd } of stats) out['f_' + n] = (r[n] - mean) / sd
    return out
  })
}
`

/** The index builder of the `features` table: one row per cell, keyed by id. */
export const FEATURE_BUILDER = {
  kind: 'index',
  returnType: 'rows',
  changedColumns: ['id', 'split', 'label', 'f_area', 'f_perimeter', 'f_intensity', 'f_roundness', 'f_compactness'],
  primaryKey: ['id'],
  function: { module: FEATURE_MODULE, export: 'engineer' },
  arguments: { rows: '<<cells>>' },
  dtypes: { id: 'i32', split: 'str:utf8', label: 'str:utf8', f_area: 'f64', f_perimeter: 'f64', f_intensity: 'f64', f_roundness: 'f64', f_compactness: 'f64' },
  description: 'z-scored measurements, compactness, and the train/val/test split',
}
