// Every browser benchmark suite, by name. scripts/bench.mjs runs them in headless Chromium.
import { runBrowserColumnsBench } from './columns-bench.js'
import { runBrowserItemsBench } from './items-bench.js'
import { runBrowserKvBench, runBrowserKvEngineBench } from './kv-bench.js'
import { runBrowserTablesBench } from './tables-bench.js'
import { runBrowserStoreBench } from './store-bench.js'
import { runBrowserSqlBench } from './sql-bench.js'
import { runBrowserExportBench } from './export-bench.js'

window.benchSuites = { kv: runBrowserKvBench, columns: runBrowserColumnsBench, items: runBrowserItemsBench, tables: runBrowserTablesBench, store: runBrowserStoreBench, sql: runBrowserSqlBench, export: runBrowserExportBench }
// Firefox and WebKit run the key-value figures of issue 13 part 7 (scripts/bench.mjs).
window.benchEngineSuites = { kv: runBrowserKvEngineBench }
window.benchReady = true
