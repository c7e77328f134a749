import type { DomainRecord } from '../../../engine/domain-record.js'
import { changeMethods } from '../shared/change-methods.js'
import { ChangesEngine } from './changes-engine.js'

/** The change feed behind `vault.watch`. It keeps no tables: it reports the other domains' changes. */
export const changesDomain: DomainRecord<typeof changeMethods> = {
  name: 'changes',
  methods: changeMethods,
  create(services) {
    const changes = new ChangesEngine(services)
    return { serve: { changes }, closing: () => changes.wakeAll() }
  },
}
