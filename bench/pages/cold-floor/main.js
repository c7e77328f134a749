// The browser's own floor under a cold start, timed as labvault's and idb-keyval's pages are (from
// the first call): what any design that runs its engine in a worker, elects a tab with a Web Lock
// and keeps its files in OPFS waits for at the least, asked side by side in a fresh profile. A
// worker whose script only posts a message, one Web Lock, OPFS's root folder. Nothing of labvault.
// The result goes to the console, where the bench waits for it without touching the page
// (bench/pages/cold-start-bench.mjs, openAndWait).
const report = (r) => console.log('cold', r)
const t0 = performance.now()
const since = () => performance.now() - t0
const worker = new Promise((resolve, reject) => {
  const w = new Worker(new URL('./floor.worker.js', import.meta.url), { type: 'module' })
  w.onmessage = () => resolve(since())
  w.onerror = (e) => reject(new Error(`the worker did not start: ${e.message}`))
})
const lock = navigator.locks.request('labvault-floor', () => since())
const opfs = navigator.storage.getDirectory().then(() => since())
Promise.all([worker, lock, opfs])
  .then(([workerMs, lockMs, opfsMs]) => {
    const all = since()
    report({ openToGet: all, openToSet: all, sincePageStart: performance.now(), workerMs, lockMs, opfsMs })
  })
  .catch((e) => report({ error: String(e?.stack ?? e) }))
