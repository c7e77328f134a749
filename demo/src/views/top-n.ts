// Top-N per model class, asked in SQL (`vault.sql`, DuckDB over the vault's relations): the query
// is shown beside its answer. The tagged template binds `n` as a parameter.
import type { Vault } from 'labvault'
import { byId, el, pct } from './dom.js'

/** The query the view runs, as shown on the page. */
export const TOP_N_SQL = `SELECT model_class, model_name, val_score, test_score, rank
FROM (
  SELECT model_class, model_name, val_score, test_score,
         row_number() OVER (PARTITION BY model_class ORDER BY val_score DESC, model_name) AS rank
  FROM predictions WHERE partition = 'val'
) WHERE rank <= $n
ORDER BY model_class, rank`

/** Run the top-N query and draw its rows. */
export async function renderTopN(vault: Vault): Promise<void> {
  const n = Math.max(1, Math.min(20, Number(byId<HTMLInputElement>('topn-n').value) || 3))
  const started = performance.now()
  const table = await vault.sql`SELECT model_class, model_name, val_score, test_score, rank
FROM (
  SELECT model_class, model_name, val_score, test_score,
         row_number() OVER (PARTITION BY model_class ORDER BY val_score DESC, model_name) AS rank
  FROM predictions WHERE partition = 'val'
) WHERE rank <= ${n}
ORDER BY model_class, rank`
  const ms = performance.now() - started
  byId('topn-sql').textContent = TOP_N_SQL.replace('$n', String(n))
  const rows = table.toArray().map((r) => r.toJSON() as Record<string, unknown>)
  byId('topn').replaceChildren(
    el('thead', {}, el('tr', {}, ...['model class', '#', 'run', 'val acc', 'test acc'].map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', { 'data-model-class': String(r.model_class) }, el('td', {}, String(r.model_class)), el('td', {}, String(r.rank)), el('td', {}, String(r.model_name)), el('td', {}, pct(r.val_score)), el('td', {}, pct(r.test_score))))),
  )
  byId('topn-time').textContent = `${rows.length} rows in ${ms.toFixed(0)} ms`
}
