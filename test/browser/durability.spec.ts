import { expect, test } from '@playwright/test'

// Close the page in the middle of a write loop, reopen in a new page, and find every acknowledged
// write again (the tab's worker dies with it, as when a user closes the tab).
for (const storage of ['opfs', 'indexeddb'] as const) {
  test(`closing the page mid-write loses no acknowledged write (${storage}, 20 rounds)`, async ({ context }) => {
    test.setTimeout(240_000)
    const name = `close-${storage}`
    const acked: string[] = []
    const setup = await context.newPage()
    await setup.goto('/dist-test/harness.html')
    await setup.waitForFunction(() => window.harnessReady === true)
    await setup.evaluate(async ([name, storage]) => window.labvault.deleteVault(name, { storage }), [name, storage] as const)
    await setup.close()

    for (let round = 0; round < 20; round++) {
      const page = await context.newPage()
      await page.exposeFunction('ack', (key: string) => acked.push(key))
      await page.goto('/dist-test/harness.html')
      await page.waitForFunction(() => window.harnessReady === true)
      // Start an endless write loop (single sets and batches) and do not wait for it.
      await page.evaluate(
        ([name, storage, round]) => {
          void (async () => {
            const v = await window.labvault.openVault(name, { storage })
            ;(window as unknown as { opened: boolean }).opened = true
            for (let i = 0; ; i++) {
              if (i % 10 === 0) {
                const batch = Array.from({ length: 50 }, (_, j) => [`r${round}-b${i}-${j}`, { round, i, j }] as const)
                await v.kv().setMany(batch)
                for (const [k] of batch) (window as unknown as { ack(k: string): void }).ack(k)
              } else {
                const k = `r${round}-${i}`
                await v.kv().set(k, { round, i })
                ;(window as unknown as { ack(k: string): void }).ack(k)
              }
            }
          })()
        },
        [name, storage, round] as const,
      )
      await page.waitForFunction(() => (window as unknown as { opened?: boolean }).opened === true, null, { timeout: 30_000 })
      await page.waitForTimeout(30 + ((round * 37) % 250))
      await page.close()
    }

    const check = await context.newPage()
    await check.goto('/dist-test/harness.html')
    await check.waitForFunction(() => window.harnessReady === true)
    const result = await check.evaluate(
      async ([name, storage, keys]) => {
        const v = await window.labvault.openVault(name, { storage })
        const found = await v.kv().getMany(keys)
        const missing = keys.filter((k) => !found.has(k))
        const integrity = await v.integrityCheck()
        const recovery = (await v.info()).recovery
        await v.close()
        return { missing: missing.slice(0, 10), missingCount: missing.length, integrity, recovery }
      },
      [name, storage, acked] as const,
    )
    expect(acked.length).toBeGreaterThan(100)
    expect(result.missingCount).toBe(0)
    expect(result.integrity).toEqual(['ok'])
  })
}
