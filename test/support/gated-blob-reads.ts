// Storage for tests that force a checkpoint between a row's read and its blob's load
// (test/node/blob-read-collect*.test.ts): blob reads wait at a gate until it is released.
import { MemoryAdapter } from '../../src/storage/memory-adapter.js'
import { NodeFsAdapter } from '../../src/storage/node-fs-adapter.js'
import type { StorageAdapter } from '../../src/storage/storage-adapter.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AdapterClass = new (...args: any[]) => StorageAdapter

/** Storage (of class `Base`) whose blob reads wait, once held, until released (counting those waiting). */
function gatedBlobReads<B extends AdapterClass>(Base: B) {
  return class extends Base {
    private gate: Promise<void> | undefined
    private unblock: (() => void) | undefined
    /** Only this many more blob reads wait at the gate (then reads pass): unlimited when undefined. */
    private gated: number | undefined
    waiting = 0

    /** Hold blob reads: every one (or only the next `count`) waits until {@link releaseBlobReads}. */
    holdBlobReads(count?: number): void {
      this.gate = new Promise((resolve) => (this.unblock = resolve))
      this.gated = count
    }

    releaseBlobReads(): void {
      this.unblock?.()
      this.gate = undefined
    }

    private async pass(path: string): Promise<void> {
      if (!this.gate || !path.includes('/blobs/')) return
      if (this.gated !== undefined) {
        if (this.gated === 0) return
        this.gated--
      }
      this.waiting++
      await this.gate
      this.waiting--
    }

    override async read(path: string): Promise<Uint8Array | undefined> {
      await this.pass(path)
      return super.read(path)
    }

    override async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
      await this.pass(path)
      return super.readRange(path, offset, length)
    }

    async blobCount(vault: string): Promise<number> {
      let n = 0
      for (const prefix of await this.list(`${vault}/blobs`)) n += (await this.list(`${vault}/blobs/${prefix}`)).length
      return n
    }
  }
}

/** Memory storage whose blob reads wait, once held, until released. */
export const GatedBlobReads = gatedBlobReads(MemoryAdapter)

/** Node fs storage (shared with other processes) whose blob reads wait, once held, until released. */
export const GatedFsBlobReads = gatedBlobReads(NodeFsAdapter)

/** Resolves once `condition` holds (polled every millisecond). */
export async function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  // A bound, so that a reader that never reaches the gate fails the test instead of hanging it.
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for a condition that never held (no blob read reached the gate?)`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

/** `size` bytes of a pattern that `tag` varies. */
export function patterned(size: number, tag: number): Uint8Array {
  return new Uint8Array(size).map((_, i) => (i * 7 + tag) & 255)
}
