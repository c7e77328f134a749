import { fileURLToPath } from 'node:url'
import { startEventChild, type EventChild } from '../support/child-events.js'

const fixture = fileURLToPath(new URL('./fixtures/sharing-child.ts', import.meta.url))

/** A running child of fixtures/sharing-child.ts, with its JSON events. */
export interface Child extends EventChild {
  send(line: string): void
  kill9(): Promise<void>
}

export function startChild(cmd: Record<string, unknown>): Child {
  const child = startEventChild(fixture, cmd, { stdin: true, timeoutMs: 30_000 })
  const { proc, exited } = child
  return {
    ...child,
    send(line) {
      proc.stdin!.write(line + '\n')
    },
    async kill9() {
      proc.kill('SIGKILL')
      await exited
    },
  }
}
