import type { DomainRecord } from '../../../engine/domain-record.js'
import { lazyServed } from '../../../engine/lazy-domain.js'
import { processMethods } from '../shared/process-methods.js'
import { processesSchema } from './processes-schema.js'

/** Processes: long-running work any tab or process can see and signal, with leases and a journal. */
export const processesDomain: DomainRecord<typeof processMethods> = {
  name: 'processes',
  methods: processMethods,
  create(services) {
    // Its code loads on the first call (docs/cold-start.md): a vault that runs no process (and is
    // not opened with `restart`) never loads it.
    const processes = lazyServed(processMethods.processes, async () => {
      const engine = new (await import('./processes-engine.js')).ProcessesEngine()
      // Leases, waiting for the next change, catching up with other processes.
      engine.attach(services)
      return engine
    })
    return { serve: { processes: processes.target } }
  },
  storage: { ...processesSchema, version: 1, tablePrefixes: ['process'] },
}
