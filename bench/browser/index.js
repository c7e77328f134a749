// Every browser benchmark suite, by name. scripts/bench.mjs runs them in headless Chromium.
import { runBrowserColumnsBench } from './columns-bench.js'
import { runBrowserItemsBench } from './items-bench.js'
import { runBrowserKvBench } from './kv-bench.js'
import { runBrowserSqlBench } from './sql-bench.js'

window.benchSuites = { kv: runBrowserKvBench, columns: runBrowserColumnsBench, items: runBrowserItemsBench, sql: runBrowserSqlBench }
window.benchReady = true
