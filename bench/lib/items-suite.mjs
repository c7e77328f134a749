// Item-list benchmark (issue 4), shared by Chromium (bench/browser/items-bench.js) and Node
// (bench/node/items-bench.mjs). labvault is the built package, driven through its public API; the
// caller passes `open(name)` / `reopen(name)` / `remove(name)` for its environment, and optionally
// `approximate` (the hnswlib-wasm comparison, browser only). Orama and the plain-JS loop run on the
// calling thread (the page in Chromium), labvault's engine in its worker (in-process in Node).
import { create, insertMultiple, search } from '@orama/orama'
import { latencies, median, timeRuns } from './stats.mjs'
import { clusteredEmbeddings, plainTopK, recall, summary, textCorpus } from './workloads.mjs'

const N = 100_000
const DIM = 384
const QUERIES = 30
const PAGES = 1000

export async function runItemsSuite({ environment, open, remove, log = () => {}, approximate }) {
  const where = environment === 'node' ? 'Node' : 'Chromium'
  const results = {}
  const extra = []

  log('items: generating the corpus')
  const { docs, queries } = textCorpus(N, { queries: QUERIES })
  const pages = textCorpus(PAGES, { seed: 99, queries: 0 }).docs
  const itemParents = docs.map((_, i) => [{ list: 'pages', start: Math.floor(i / (N / PAGES)) }])

  // --- Append 100k documents, one parent each, into a vault whose text index is live (a query
  // ran first), so the append includes keeping the index current.
  log('items: appending 100k documents with one parent each')
  const names = []
  const appendTimes = []
  for (let run = 0; run < 3; run++) {
    const name = `bench-items-${run}`
    names.push(name)
    await remove(name)
    const v = await open(name)
    try {
      const p = await v.lists.create('pages', { type: 'document' })
      await p.appendMany(pages)
      const d = await v.lists.create('docs', { type: 'document' })
      await v.search.text(queries[0], { lists: ['docs'], limit: 10 }) // builds the (empty) index now
      const t = performance.now()
      await d.appendMany(docs, { itemParents })
      appendTimes.push(performance.now() - t)
      if ((await d.size()) !== N) throw new Error('document count')
    } finally {
      await v.close()
    }
  }
  results['labvault appendMany 100k documents, one parent each (text index live)'] = summary(appendTimes)
  for (const name of names.slice(0, -1)) await remove(name)
  const vaultName = names.at(-1)

  let v = await open(vaultName)
  try {
    // --- Text search: labvault (BM25, every token must match, whole tokens) vs Orama with the same
    // semantics (exact whole words, threshold 0), top 10, two-word queries.
    log('items: text search')
    let t = performance.now()
    await v.search.text(queries[0], { lists: ['docs'], limit: 10 })
    results['labvault first text query after reopen (builds the index from the vault)'] = { median: performance.now() - t, runs: [] }
    const lvHits = []
    for (const q of queries) lvHits.push(await v.search.text(q, { lists: ['docs'], limit: 10 })) // warm
    results[`labvault search.text two words, top 10 (${QUERIES} queries)`] = await latencies(QUERIES, (i) => v.search.text(queries[i], { lists: ['docs'], limit: 10 }))

    log('items: Orama indexing')
    let orama
    results['Orama create + insertMultiple 100k documents'] = await timeRuns(async () => {
      orama = await create({ schema: { text: 'string' } })
      await insertMultiple(orama, docs.map((text) => ({ text })))
    }, { runs: 1, warmup: 0 })
    // exact: whole words only (by default Orama also matches words that start with a term);
    // threshold 0: every term must match (by default any term does). Same semantics as labvault.
    const oramaSearch = (q) => search(orama, { term: q, properties: ['text'], limit: 10, threshold: 0, exact: true })
    const orHits = []
    for (const q of queries) orHits.push(await oramaSearch(q)) // warm
    results[`Orama search two words, top 10, exact + threshold 0 (${QUERIES} queries)`] = await latencies(QUERIES, (i) => oramaSearch(queries[i]))
    results[`Orama search two words, top 10, default options: any term, prefixes (${QUERIES} queries)`] = await latencies(QUERIES, (i) => search(orama, { term: queries[i], properties: ['text'], limit: 10 }))
    let sameCount = 0
    for (let i = 0; i < QUERIES; i++) if (lvHits[i].length === orHits[i].hits.length) sameCount++
    extra.push(info(`text queries where labvault and Orama return the same number of hits (of ${QUERIES})`, sameCount))
    extra.push(info('median documents matching both words per query (Orama count)', median(orHits.map((r) => r.count))))
    orama = undefined

    // --- Exact cosine top-10 over 100k × 384 normalised embeddings.
    log('items: generating 100k × 384 embeddings')
    const { matrix, queries: qm } = clusteredEmbeddings(N, DIM, { queries: QUERIES })
    const query = (i) => qm.subarray(i * DIM, (i + 1) * DIM)
    const emb = await v.lists.create('emb', { type: 'embedding', dim: DIM })
    t = performance.now()
    await emb.appendMatrix(matrix)
    results['labvault appendMatrix 100k × 384'] = { median: performance.now() - t, runs: [] }
    log('items: similarity search')
    t = performance.now()
    await v.search.similar(query(0), { lists: ['emb'], k: 10 })
    results['labvault first similar query (loads the vectors)'] = { median: performance.now() - t, runs: [] }
    const lvTop = []
    for (let i = 0; i < QUERIES; i++) lvTop.push((await v.search.similar(query(i), { lists: ['emb'], k: 10 })).map((h) => h.index))
    results[`labvault search.similar top 10 over 100k × 384 (${QUERIES} queries)`] = await latencies(QUERIES, (i) => v.search.similar(query(i), { lists: ['emb'], k: 10 }))
    const exact = []
    for (let i = 0; i < QUERIES; i++) exact.push(plainTopK(matrix, DIM, query(i), 10)) // warm + reference
    results[`plain JS loop (Float32Array dots + top-10) on the ${environment === 'node' ? 'main thread' : 'page'} (${QUERIES} queries)`] = await latencies(QUERIES, (i) => plainTopK(matrix, DIM, query(i), 10))
    extra.push(info('labvault top 10 = plain-JS exact top 10 (mean recall@10)', mean(lvTop.map((a, i) => recall(a, exact[i])))))

    if (approximate) {
      log('items: hnswlib-wasm (approximate)')
      try {
        const a = await approximate({ matrix, dim: DIM, n: N, queries: qm, k: 10, log })
        results[`hnswlib-wasm build 100k × 384 (${a.params})`] = { median: a.buildMs, runs: [] }
        for (const s of a.searches) {
          results[`hnswlib-wasm searchKnn top 10, efSearch ${s.ef} (${QUERIES} queries)`] = s.latency
          extra.push(info(`hnswlib-wasm recall@10 vs exact, efSearch ${s.ef}`, mean(s.top.map((x, i) => recall(x, exact[i])))))
        }
      } catch (err) {
        extra.push({ figure: 'hnswlib-wasm', value: `failed: ${err?.message ?? err}`, bar: '(reported)', pass: false })
      }
    } else {
      extra.push({ figure: 'hnswlib-wasm', value: 'not run in Node: the package is built for the web only (Emscripten, no node environment; IDBFS over IndexedDB); see the chromium table', bar: '(reported)', pass: true })
    }
  } finally {
    await v.close()
    await remove(vaultName)
  }

  const m = (k) => results[k].median
  const text = m(`labvault search.text two words, top 10 (${QUERIES} queries)`)
  const textOrama = m(`Orama search two words, top 10, exact + threshold 0 (${QUERIES} queries)`)
  const sim = m(`labvault search.similar top 10 over 100k × 384 (${QUERIES} queries)`)
  const simJs = m(`plain JS loop (Float32Array dots + top-10) on the ${environment === 'node' ? 'main thread' : 'page'} (${QUERIES} queries)`)
  const append = m('labvault appendMany 100k documents, one parent each (text index live)')
  const checks = [
    check(`exact cosine top-10, 100k × 384, ms/query (${where})`, sim, '< 15 ms', sim < 15),
    check(`plain-JS loop time / labvault similar time (${where})`, simJs / sim, '≥ 2.5', simJs / sim >= 2.5),
    check(`text search two words over 100k docs, ms/query (${where})`, text, '< 20 ms', text < 20),
    check(`Orama (exact, threshold 0) search time / labvault text time (${where})`, textOrama / text, '≥ 5', textOrama / text >= 5),
    check(`append 100k documents with one parent each, ms (${where})`, append, '< 5000 ms', append < 5000),
    ...extra,
  ]
  return { environment, results, checks }
}

function mean(xs) {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

function check(figure, value, bar, pass) {
  return { figure, value, bar, pass }
}

/** A figure reported without a bar (`met` shows "yes"). */
function info(figure, value) {
  return { figure, value, bar: '(reported)', pass: true }
}
