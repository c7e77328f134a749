import { InvalidArgumentError, NotFoundError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import type { EngineServices } from '../../../engine/engine-services.js'
import type { VaultSnapshot } from '../../../engine/engine-snapshot.js'
import type { ArchiveWriter } from '../../../persistence/archive-writer.js'
import type { ArchiveExportPiece, ArchiveExportStart, ArchiveLevel } from '../shared/archive-methods.js'

/** An export nobody pulled from for this long is dropped (its caller went away): its blobs are unpinned. */
const IDLE_MS = 120_000

interface OpenExport {
  snapshot: VaultSnapshot
  writer: ArchiveWriter
  timer: ReturnType<typeof setTimeout>
}

/** The engine half of exportVault: snapshots written as zips, pulled piece by piece. */
export class ArchiveEngine {
  private readonly exports = new Map<string, OpenExport>()

  constructor(private readonly services: EngineServices) {}

  /** Take a consistent snapshot and start its zip (deflate `level`). */
  async begin(_ctx: CallContext, level: unknown): Promise<ArchiveExportStart> {
    if (!Number.isInteger(level) || (level as number) < 0 || (level as number) > 9) throw new InvalidArgumentError(`exportVault: level must be an integer from 0 to 9, got ${String(level)}`)
    // fflate loads with the first export: a vault that never exports does not pay for it.
    const { ArchiveWriter } = await import('../../../persistence/archive-writer.js')
    const snapshot = await this.services.snapshot()
    const id = globalThis.crypto.randomUUID()
    const writer = new ArchiveWriter(snapshot, level as ArchiveLevel)
    this.exports.set(id, { snapshot, writer, timer: this.idleTimer(id) })
    return { id, totalBytes: writer.totalBytes, files: snapshot.header.files.length }
  }

  /** The next piece of the zip (`bytes` undefined at the end). */
  async next(_ctx: CallContext, id: string): Promise<ArchiveExportPiece> {
    const open = this.open(id)
    clearTimeout(open.timer)
    try {
      const bytes = await open.writer.next()
      open.timer = this.idleTimer(id)
      return { bytes, read: open.writer.bytesRead }
    } catch (err) {
      this.end(_ctx, id)
      throw err
    }
  }

  /** Release the snapshot (idempotent). */
  end(_ctx: CallContext, id: string): void {
    const open = this.exports.get(id)
    if (!open) return
    clearTimeout(open.timer)
    this.exports.delete(id)
    open.snapshot.release()
  }

  /** The engine closes: every export still open ends. */
  closeAll(): void {
    for (const id of [...this.exports.keys()]) this.end(undefined as never, id)
  }

  private open(id: string): OpenExport {
    const open = typeof id === 'string' ? this.exports.get(id) : undefined
    if (!open) throw new NotFoundError(`export ${String(id)} is not open (it ended, was abandoned, or the engine that took it closed)`)
    return open
  }

  private idleTimer(id: string): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => this.end(undefined as never, id), IDLE_MS)
    ;(t as { unref?: () => void }).unref?.()
    return t
  }
}
