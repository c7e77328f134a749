import type { DomainRecord } from '../../../engine/domain-record.js'
import { lazyServed } from '../../../engine/lazy-domain.js'
import { archiveMethods } from '../shared/archive-methods.js'

/** exportVault's engine half. It keeps no tables: it reads the vault's files (docs/export-import.md). */
export const archiveDomain: DomainRecord<typeof archiveMethods> = {
  name: 'archive',
  methods: archiveMethods,
  create(services) {
    // Its code (the archive writer) loads on the first call (docs/cold-start.md).
    const archive = lazyServed(archiveMethods.archive, async () => new (await import('./archive-engine.js')).ArchiveEngine(services))
    return { serve: { archive: archive.target }, closing: () => archive.loaded?.closeAll() }
  },
}
