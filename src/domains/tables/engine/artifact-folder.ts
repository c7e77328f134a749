import { InvalidArgumentError, NotFoundError, StoppedError } from '../../../errors/errors.js'
import type { CallContext } from '../../../engine/context.js'
import type { ExecuteState } from './table-execute.js'
import { findOp } from './table-ops.js'
import { checkObjectName } from '../shared/table-names.js'

/**
 * What `~artifactFolder~` and `ctx.artifactFolder` are while an instance executes: the temporary
 * instance's artifacts (`put`, `get`, `list`); they follow the instance when it is materialised.
 */
export class ArtifactFolder {
  constructor(
    private readonly ctx: CallContext,
    private readonly tbl: number,
    /** The instance whose artifacts these are. */
    readonly instanceId: string,
    private readonly processId: string,
    /** Record an artifact put (what it replaced) in the execution's state; returns that state. */
    private readonly record: (name: string, previous: { hash: string; size: number } | null) => ExecuteState,
  ) {}

  async put(name: string, bytes: Uint8Array): Promise<void> {
    // The rules of vault.tables.artifacts().put (length, well-formed Unicode, no leading ".", no
    // reference syntax): a name only refused by path separators here was stored, listed, and then
    // refused by artifacts().get, so the file could not be read back.
    checkObjectName(name, 'an artifact name')
    if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError(`artifact "${name}": its content must be a Uint8Array`)
    const hash = await this.ctx.blobs.put(bytes.slice())
    try {
      await this.ctx.write(() => {
        const prev = this.ctx.db.get('SELECT hash, size FROM tbl_artifacts WHERE tbl = ? AND instance = ? AND name = ?', [this.tbl, this.instanceId, name])
        if (!findOp(this.ctx.db, this.processId)) throw new StoppedError(`process "${this.processId}" was stopped`)
        // The execution's whole state as it is in memory, the put included (undo restores `prev`).
        const state = this.record(name, prev ? { hash: prev[0] as string, size: prev[1] as number } : null)
        this.ctx.db.run('UPDATE tbl_ops SET step = ?, state = ? WHERE process = ?', ['execute', JSON.stringify(state), this.processId])
        this.ctx.db.run('INSERT OR REPLACE INTO tbl_artifacts (tbl, instance, name, hash, size) VALUES (?, ?, ?, ?, ?)', [this.tbl, this.instanceId, name, hash, bytes.byteLength])
      })
    } finally {
      this.ctx.blobs.unpin(hash)
    }
  }

  async get(name: string): Promise<Uint8Array> {
    const r = this.ctx.db.get('SELECT hash FROM tbl_artifacts WHERE tbl = ? AND instance = ? AND name = ?', [this.tbl, this.instanceId, name])
    if (!r) throw new NotFoundError(`instance "${this.instanceId}" has no artifact "${name}"`)
    return this.ctx.blobs.get(r[0] as string)
  }

  async list(): Promise<string[]> {
    return this.ctx.db.all('SELECT name FROM tbl_artifacts WHERE tbl = ? AND instance = ? ORDER BY name', [this.tbl, this.instanceId]).map((r) => r[0] as string)
  }
}

