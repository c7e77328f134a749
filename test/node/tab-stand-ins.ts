import { after } from 'node:test'

// What a page gives tab sharing (src/sharing/tabs/), for tests that run its members on Node: Node
// has BroadcastChannel but no Web Locks, so importing this module installs `navigator.locks` from
// an in-process stand-in (restored after the test file).

/** Web Locks for one process (requests with `signal`; no `ifAvailable` or `steal`): a lock is granted when free, in request order; released when the callback's promise settles. */
export class InProcessLocks {
  private readonly queues = new Map<string, (() => void)[]>()
  /** Names of the locks granted now. */
  readonly held = new Set<string>()

  request(name: string, ...rest: unknown[]): Promise<unknown> {
    const callback = rest[rest.length - 1] as () => unknown
    const options = (rest.length > 1 ? rest[0] : {}) as { signal?: AbortSignal }
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.held.add(name)
        Promise.resolve()
          .then(callback)
          .then(resolve, reject)
          .finally(() => {
            this.held.delete(name)
            this.queues.get(name)?.shift()?.()
          })
      }
      // As Web Locks do: an aborted signal rejects a request not yet granted, and nothing else.
      if (options.signal?.aborted) return reject(options.signal.reason)
      if (!this.held.has(name)) {
        grant()
        return
      }
      const queue = this.queues.get(name) ?? []
      queue.push(grant)
      this.queues.set(name, queue)
      options.signal?.addEventListener('abort', () => {
        const at = queue.indexOf(grant)
        if (at < 0) return
        queue.splice(at, 1)
        reject(options.signal!.reason)
      })
    })
  }
}

const hadNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
/** The stand-in every member of this test file asks. */
export const locks = new InProcessLocks()
Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true, writable: true })
after(() => {
  if (hadNavigator) Object.defineProperty(globalThis, 'navigator', hadNavigator)
  else delete (globalThis as { navigator?: unknown }).navigator
})
