// TableVault's basic scenario (tests/api_tests, basic_function) in labvault's terms: a code module,
// `stories` (one row per input file, the files given as artifacts), `llm_storage` (has side
// effects) and `llm_questions` (question builders over a random-string function).
import type { Vault } from '../../src/node.js'

/**
 * The code module. `randomString` draws from a PRNG whose state lives in the module (so a row
 * computed twice gets different strings: equal strings after a re-execute prove the row was reused,
 * not recomputed); `seed` makes a run reproducible.
 */
export const testModule = `
let state = 0x2545f491
function next() { state ^= state << 13; state ^= state >>> 17; state ^= state << 5; return (state >>> 0) / 4294967296 }
const letters = 'abcdefghijklmnopqrstuvwxyz'
export function randomString(args) {
  let s = String(args.prefix ?? '')
  while (s.length < 20) s += letters[Math.floor(next() * 26)]
  return s
}
export async function papersFromArtifacts(args, ctx) {
  const names = await args.folder.list()
  return names.filter((n) => n.endsWith('.pdf')).map((n) => ({ paper_name: n.slice(0, -4), file: n }))
}
export function uploadAll(args) {
  return args.names.map((paper_name) => ({ paper_name }))
}
export function copyNames(args) {
  return { paper_name: args.names }
}
`

/** A builder spec (labvault's field names). */
const column = (changed: string[], fn: string, args: Record<string, unknown>, dtypes: Record<string, string> = {}) => ({
  kind: 'column', changedColumns: changed, function: { module: 'test', export: fn }, arguments: args, returnType: 'row-wise', dtypes,
})


/** The specs of each table's builders. */
export const specs = {
  stories_index: { kind: 'index', changedColumns: ['paper_name', 'file'], function: { module: 'test', export: 'papersFromArtifacts' }, arguments: { folder: '~ARTIFACT_FOLDER~' }, returnType: 'rows', primaryKey: ['paper_name'], dtypes: { paper_name: 'str:utf8', file: 'artifact' } },
  llm_storage_index: { kind: 'index', changedColumns: ['paper_name'], function: { module: 'test', export: 'uploadAll' }, arguments: { names: '<<stories.paper_name>>' }, returnType: 'rows', primaryKey: ['paper_name'], dtypes: { paper_name: 'str:utf8' } },
  upload_openai: column(['file_id'], 'randomString', { prefix: 'file-', paper: '<<self.paper_name[index]>>' }, { file_id: 'str:utf8' }),
  llm_questions_index: { kind: 'index', changedColumns: ['paper_name'], function: { module: 'test', export: 'uploadAll' }, arguments: { names: '<<llm_storage.paper_name>>' }, returnType: 'rows', primaryKey: ['paper_name'], dtypes: { paper_name: 'str:utf8' } },
  question_1: column(['q1'], 'randomString', { prefix: 'q1-', paper: '<<self.paper_name[index]>>', file: '<<llm_storage.file_id[paper_name::<<self.paper_name[index]>>]>>' }, { q1: 'str:utf8' }),
  question_1a: column(['q1'], 'randomString', { prefix: 'q1a-', paper: '<<self.paper_name[index]>>' }, { q1: 'str:utf8' }),
  question_2: column(['q2', 'q2a'], 'pair', { prefix: 'q2-', paper: '<<self.paper_name[index]>>', file: '<<llm_storage.file_id[paper_name::<<self.paper_name[index]>>]>>' }, { q2: 'str:utf8', q2a: 'str:utf8' }),
  question_3: column(['q3', 'q3a'], 'pair', { prefix: 'q3-', paper: '<<self.paper_name[index]>>', file: '<<llm_storage.file_id[paper_name::<<self.paper_name[index]>>]>>' }, { q3: 'str:utf8', q3a: 'str:utf8' }),
}

export const pairFunction = `
export function pair(args) {
  return [randomString(args), randomString({ prefix: String(args.prefix) + 'a-' })]
}
`

/** The basic scenario up to (and including) executing the three tables. Returns the process ids. */
export async function basicScenario(vault: Vault, files: Record<string, Uint8Array> = { 'paper1.pdf': new Uint8Array([37, 80, 68, 70]) }): Promise<string[]> {
  const ids: string[] = []
  const track = async (p: Promise<{ processId: string }>) => ids.push((await p).processId)
  await track(vault.code.create('test', testModule + pairFunction))
  await track(vault.tables.create('stories_TEST'))
  await track(vault.tables.rename('stories_TEST', 'stories'))
  await track(vault.tables.create('llm_storage', { hasSideEffects: true }))
  await track(vault.tables.create('llm_questions'))
  await track(vault.tables.createInstance('stories'))
  for (const [name, bytes] of Object.entries(files)) await track(vault.tables.artifacts('stories', { instanceId: 'TEMP_base' }).put(name, bytes))
  await track(vault.tables.builders.create('stories', 'stories_index', specs.stories_index))
  await track(vault.tables.createInstance('llm_storage', { builders: ['upload_openai'] }))
  await track(vault.tables.builders.create('llm_storage', 'llm_storage_index', specs.llm_storage_index))
  await track(vault.tables.builders.create('llm_storage', 'upload_openai', specs.upload_openai))
  await track(vault.tables.createInstance('llm_questions', { builders: ['question_1', 'question_2', 'question_3'] }))
  await track(vault.tables.builders.create('llm_questions', 'llm_questions_index', specs.llm_questions_index))
  for (const q of ['question_1', 'question_2', 'question_3'] as const) await track(vault.tables.builders.create('llm_questions', q, specs[q]))
  for (const t of ['stories', 'llm_storage', 'llm_questions']) await track(vault.tables.execute(t))
  return ids
}
