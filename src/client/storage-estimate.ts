// vault.info()'s `storageEstimate` in a browser: loaded with the first info() (src/index.ts).

/** The answer to a persistence request if it came already, else undefined (never waits for it). */
function answerSoFar(request: Promise<boolean | undefined> | undefined): Promise<boolean | undefined> {
  return request ? Promise.race([request, Promise.resolve(undefined)]) : Promise.resolve(undefined)
}

/** `navigator.storage.estimate()` and the persistence request's answer so far, for `vault.info()`; undefined where there is none. */
export async function storageEstimate(request: Promise<boolean | undefined> | undefined): Promise<{ usage?: number; quota?: number; persisted?: boolean } | undefined> {
  if (typeof navigator === 'undefined' || !navigator.storage?.estimate) return undefined
  try {
    const e = await navigator.storage.estimate()
    return { usage: e.usage, quota: e.quota, persisted: await answerSoFar(request) }
  } catch {
    return undefined
  }
}
