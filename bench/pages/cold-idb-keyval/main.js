// The alternative's cold start, timed as labvault's (test/browser/kv-only-app/main.ts): from the first
// call to the first `get` resolved, in a page built by Vite in production mode.
import { get } from 'idb-keyval'

const t0 = performance.now()
get('greeting').then(
  (value) => {
    const t1 = performance.now()
    window.coldResult = { openToGet: t1 - t0, sincePageStart: t1, value }
  },
  (e) => (window.coldResult = { error: String(e?.stack ?? e) }),
)
