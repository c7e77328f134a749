// The command that starts a test's child script: an esbuild bundle of it when esbuild can build
// one (a child through tsx needs ~2 s to start), else tsx. Shared by the kill tests.
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { after } from 'node:test'

/**
 * `node` arguments that run `script` (a path). The bundle goes inside the repository, so that its
 * imports resolve to node_modules, one per test process (two runs at once must not overwrite each
 * other's), and is removed when the test file ends.
 */
export async function childCommand(script: string): Promise<string[]> {
  const name = script.split(/[\\/]/).pop()!.replace(/\.ts$/, '')
  const bundle = fileURLToPath(new URL(`../../node_modules/.cache/labvault-test/${name}-${process.pid}.mjs`, import.meta.url))
  try {
    const { build } = (await import('esbuild')) as typeof import('esbuild')
    await build({ entryPoints: [script], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: bundle, logLevel: 'error' })
    after(() => rmSync(bundle, { force: true }))
    return [bundle]
  } catch (err) {
    console.log(`${name}: esbuild unavailable (${(err as Error).message}); the child runs through tsx (slower)`)
    return ['--import', 'tsx', script]
  }
}
