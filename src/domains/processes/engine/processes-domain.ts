import type { DomainRecord } from '../../../engine/domain-record.js'
import { processMethods } from '../shared/process-methods.js'
import { ProcessesEngine, processesSchema } from './processes-engine.js'

/** Processes: long-running work any tab or process can see and signal, with leases and a journal. */
export const processesDomain: DomainRecord<typeof processMethods> = {
  name: 'processes',
  methods: processMethods,
  create(services) {
    const processes = new ProcessesEngine()
    // Leases, waiting for the next change, catching up with other processes.
    processes.attach(services)
    return { serve: { processes } }
  },
  storage: { ...processesSchema, version: 1, tablePrefixes: ['process'] },
}
