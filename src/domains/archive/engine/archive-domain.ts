import type { DomainRecord } from '../../../engine/domain-record.js'
import { archiveMethods } from '../shared/archive-methods.js'
import { ArchiveEngine } from './archive-engine.js'

/** exportVault's engine half. It keeps no tables: it reads the vault's files (docs/export-import.md). */
export const archiveDomain: DomainRecord<typeof archiveMethods> = {
  name: 'archive',
  methods: archiveMethods,
  create(services) {
    const archive = new ArchiveEngine(services)
    return { serve: { archive }, closing: () => archive.closeAll() }
  },
}
