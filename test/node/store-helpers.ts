import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { after } from 'node:test'

const fixture = fileURLToPath(new URL('./fixtures/store-child.ts', import.meta.url))

/** A running child of fixtures/store-child.ts, with its JSON events. */
export interface StoreChild {
  proc: ChildProcess
  /** Resolves with the next event named `name` (rejects after `timeoutMs`, or when the child exits first). */
  next(name: string, timeoutMs?: number): Promise<Record<string, unknown>>
  exited: Promise<number | null>
}

const children = new Set<ChildProcess>()
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

export function startStoreChild(cmd: Record<string, unknown>): StoreChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(cmd)], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(proc)
  const events: Record<string, unknown>[] = []
  const waiters: { name: string; resolve(e: Record<string, unknown>): void }[] = []
  let stderr = ''
  proc.stderr!.on('data', (d) => (stderr += d))
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, unknown>
    const i = waiters.findIndex((w) => w.name === e.event)
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(e)
    else events.push(e)
  })
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return {
    proc,
    exited,
    next(name, timeoutMs = 60_000) {
      const i = events.findIndex((e) => e.event === name)
      if (i >= 0) return Promise.resolve(events.splice(i, 1)[0]!)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child did not report "${name}" within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`)), timeoutMs)
        exited.then(() => setTimeout(() => reject(new Error(`child exited before "${name}"; stderr: ${stderr.slice(-2000)}`)), 50))
        waiters.push({ name, resolve: (e) => (clearTimeout(timer), resolve(e)) })
      })
    },
  }
}
