import * as fs from 'node:fs'
import * as os from 'node:os'

/**
 * Who holds a lock, precisely enough to tell a live holder from a dead one whose pid was reused:
 * the host, the pid, and (on Linux) the process's start time in clock ticks since boot (field 22
 * of /proc/<pid>/stat) together with the boot id.
 */
export interface ProcessIdentity {
  host: string
  pid: number
  /** Start time of the process from /proc/<pid>/stat, or null where /proc does not exist. */
  start: string | null
  /** /proc/sys/kernel/random/boot_id, or null: distinguishes reboots. */
  boot: string | null
}

let bootId: string | null | undefined

function readBootId(): string | null {
  if (bootId !== undefined) return bootId
  try {
    bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    bootId = null
  }
  return bootId
}

/** The start time of `pid` (field 22 of /proc/<pid>/stat), or null when unknown or gone. */
export function processStartTime(pid: number): string | null {
  let stat: string
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // Field 2 (comm) is in parentheses and may contain spaces: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state); field 22 is rest[19].
  return rest[19] ?? null
}

let self: ProcessIdentity | undefined

/** This process's identity. */
export function selfIdentity(): ProcessIdentity {
  self ??= { host: os.hostname(), pid: process.pid, start: processStartTime(process.pid), boot: readBootId() }
  return self
}

/**
 * Is the process named by `id` alive? `'alive'` and `'dead'` are certain; `'unknown'` means the
 * holder is on another host (or this system has no way to tell), so only its lease can decide.
 */
export function processLiveness(id: ProcessIdentity): 'alive' | 'dead' | 'unknown' {
  const me = selfIdentity()
  if (id.host !== me.host) return 'unknown'
  if (id.boot && me.boot && id.boot !== me.boot) return 'dead' // written before a reboot
  try {
    process.kill(id.pid, 0)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ESRCH') return 'dead'
    // EPERM: a process of another user has that pid; it is alive, but it may not be the holder.
    if (code !== 'EPERM') return 'unknown'
  }
  if (id.start !== null && me.start !== null) {
    const now = processStartTime(id.pid)
    if (now === null) return 'dead'
    return now === id.start ? 'alive' : 'dead' // a reused pid: another process started later
  }
  return 'alive'
}
