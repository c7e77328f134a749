// A child process that reports JSON events, one per stdout line ({ "event": "name", … }), as the
// Node tests' fixtures do (test/node/fixtures/*-child.ts). Every child started here is killed when
// the test file ends.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { after } from 'node:test'

/** A running child with its JSON events. */
export interface EventChild {
  proc: ChildProcess
  /** Resolves with the first event named `name` not taken yet (rejects after `timeoutMs`, or when the child exits first). */
  next(name: string, timeoutMs?: number): Promise<Record<string, unknown>>
  exited: Promise<number | null>
}

const children = new Set<ChildProcess>()
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

/** Start `node --import tsx <fixture> <JSON of cmd>`; lines that are not JSON are ignored. */
export function startEventChild(fixture: string, cmd: Record<string, unknown>, options: { stdin?: boolean; timeoutMs: number }): EventChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(cmd)], { stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
  children.add(proc)
  const events: Record<string, unknown>[] = []
  const waiters: { name: string; resolve(e: Record<string, unknown>): void }[] = []
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let e: Record<string, unknown>
    try {
      e = JSON.parse(line)
    } catch {
      return
    }
    const i = waiters.findIndex((w) => w.name === e.event)
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(e)
    else events.push(e)
  })
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return {
    proc,
    exited,
    next(name, timeoutMs = options.timeoutMs) {
      const i = events.findIndex((e) => e.event === name)
      if (i >= 0) return Promise.resolve(events.splice(i, 1)[0]!)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child did not report "${name}" within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)), timeoutMs)
        exited.then(() => setTimeout(() => reject(new Error(`child exited before "${name}"; stderr: ${stderr.slice(-2000)}`)), 50))
        waiters.push({
          name,
          resolve: (e) => {
            clearTimeout(timer)
            resolve(e)
          },
        })
      })
    },
  }
}
