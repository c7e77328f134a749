// The alternative's cold start, timed as labvault's (test/browser/kv-only-app/main.ts): from the first
// call to the first `get` resolved, then to a first `set` after it, in a page built by Vite in production mode.
import { get, set } from 'idb-keyval'

// The result goes to the console, where the bench waits for it without touching the page
// (bench/pages/cold-start-bench.mjs, openAndWait).
const report = (r) => console.log('cold', r)
const t0 = performance.now()
get('greeting')
  .then(async (value) => {
    const t1 = performance.now()
    await set('greeting', 'hello')
    const t2 = performance.now()
    report({ openToGet: t1 - t0, sincePageStart: t1, openToSet: t2 - t0, value })
  })
  .catch((e) => report({ error: String(e?.stack ?? e) }))
