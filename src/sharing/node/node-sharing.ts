import * as fs from 'node:fs'
import * as nodePath from 'node:path'
import { NodeFileLock } from './node-file-lock.js'
import { nodeBlobPins } from './node-blob-pins.js'
import type { SharingHost, SharingMode } from '../../engine/sharing/sharing-types.js'

/** Options of {@link nodeSharingHost}. */
export interface NodeSharingOptions {
  mode: SharingMode
  /** Lease of the lock file (default 5 s). */
  leaseMs?: number
  /** How long a write may wait for the lock (default 10 s). */
  lockTimeoutMs?: number
  /** Poll interval of watchers when file-system events are unavailable or missed (default 250 ms). */
  pollMs?: number
}

/** Name of the lock file inside the vault folder (names starting with `.` are not vault files). */
export const LOCK_FILE = '.lock'

/**
 * Sharing of a vault folder between Node processes: the lock file, stat fingerprints of the
 * manifest slots and the log, and a watcher (fs.watch on the folder plus a slow poll).
 * `root` is the adapter's root folder, `folder` the vault's folder relative to it.
 */
export function nodeSharingHost(root: string, folder: string, options: NodeSharingOptions): SharingHost {
  const dir = nodePath.join(root, folder)
  const leaseMs = options.leaseMs ?? 5000
  const lock = new NodeFileLock(nodePath.join(dir, LOCK_FILE), { leaseMs })
  const slots = [nodePath.join(dir, 'manifest-0'), nodePath.join(dir, 'manifest-1')]
  const stops = new Set<() => void>()
  const statPrint = (p: string): string => {
    const s = fs.statSync(p, { throwIfNoEntry: false, bigint: true })
    return s ? `${s.ino}:${s.size}:${s.mtimeNs}` : '-'
  }
  return {
    mode: options.mode,
    lock,
    blobPins: nodeBlobPins(dir),
    lockTimeoutMs: options.lockTimeoutMs ?? 10_000,
    fingerprint(logPath: string): string {
      return `${statPrint(slots[0]!)}|${statPrint(slots[1]!)}|${statPrint(nodePath.join(root, logPath))}`
    },
    watch(onChange: () => void): () => void {
      let watcher: fs.FSWatcher | undefined
      try {
        watcher = fs.watch(dir, { persistent: false }, (_event, name) => {
          if (name && String(name).startsWith('.')) return
          onChange()
        })
        watcher.on('error', () => {})
      } catch {
        watcher = undefined
      }
      const timer = setInterval(onChange, options.pollMs ?? 250)
      timer.unref?.()
      const stop = () => {
        clearInterval(timer)
        watcher?.close()
        stops.delete(stop)
      }
      stops.add(stop)
      return stop
    },
    close(): void {
      for (const stop of [...stops]) stop()
      lock.release()
    },
  }
}
