import { fileURLToPath } from 'node:url'
import { startEventChild, type EventChild } from '../support/child-events.js'

const fixture = fileURLToPath(new URL('./fixtures/store-child.ts', import.meta.url))

/** A running child of fixtures/store-child.ts, with its JSON events. */
export type StoreChild = EventChild

export function startStoreChild(cmd: Record<string, unknown>): StoreChild {
  return startEventChild(fixture, cmd, { timeoutMs: 60_000 })
}
