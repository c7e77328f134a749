// Every browser benchmark suite, by name. scripts/bench.mjs runs them in headless Chromium.
import { runBrowserKvBench } from './kv-bench.js'

window.benchSuites = { kv: runBrowserKvBench }
window.benchReady = true
