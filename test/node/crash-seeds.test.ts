/**
 * Seeded crash and fault tests of the persistence layer (issue 2, item 7).
 *
 * Each crash seed opens a vault on a FaultInjectingAdapter over a MemoryAdapter, runs a seeded
 * key-value workload (set, setMany, delete, transactional increments, concurrent sets that share a
 * group commit, explicit checkpoints, values large enough for automatic checkpoints), records every
 * acknowledged write, crashes at a seeded mutating call, and reopens on what survived (durable
 * bytes plus a random, maybe torn, prefix of the unsynced changes). It asserts:
 * - the vault opens (never CorruptionError after a crash) and `PRAGMA integrity_check` is ok;
 * - the state equals the model after some prefix of the issued operations that contains every
 *   acknowledged one: acknowledged writes are all there, unacknowledged ones may be there or not,
 *   but whole (a setMany or a transaction never half-applied) and in order;
 * - some seeds crash again during recovery, and some write more after recovery, close and reopen.
 * Each fault seed injects a failing call instead (QuotaExceededError DOMException, ENOSPC or EIO):
 * the failing call rejects with a typed error, later calls work, and the vault (live, then
 * reopened, then after a crash) equals the model without that call.
 *
 * Replay one seed: CRASH_SEED=1234 (or FAULT_SEED=1234) node --import tsx --test test/node/crash-seeds.test.ts
 * Change the counts: CRASH_SEEDS=5000 FAULT_SEEDS=1000.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CorruptionError, MemoryAdapter, QuotaExceededError, VaultError, openVault, type Vault } from '../../src/node.js'
import { FaultInjectingAdapter, SimulatedCrash, type FailKind } from '../support/fault-adapter.js'
import { mulberry32 } from '../support/prng.js'
import type { StorageAdapter } from '../../src/storage/storage-adapter.js'

const NAME = 'crashvault'
const CHECKPOINT_BYTES = 4096
const onlyCrash = process.env.CRASH_SEED
const onlyFault = process.env.FAULT_SEED
const single = onlyCrash !== undefined || onlyFault !== undefined
const CRASH_SEEDS = Number(process.env.CRASH_SEEDS ?? 2000)
const FAULT_SEEDS = Number(process.env.FAULT_SEEDS ?? 600)
const SEED_TIMEOUT_MS = 15_000

type State = Map<string, unknown>

/** What the seeds exercised (printed, so that a weakened workload shows). */
const stats = { crashedMidWorkload: 0, crashInCheckpoint: 0, crashInCreation: 0, tornTailDropped: 0, recrashed: 0, writtenAfterRecovery: 0, unackedPresent: 0 }

/** One data operation of the workload, as the model sees it. */
interface ModelOp {
  label: string
  apply(state: State): void
  /** The call resolved: it must survive any crash. */
  acked: boolean
  /** The call rejected with an injected (non-crash) failure: it must have changed nothing. */
  failed: boolean
}

type Planned =
  | { kind: 'set'; key: string; pad: number }
  | { kind: 'setMany'; keys: string[]; pad: number }
  | { kind: 'delete'; key: string }
  | { kind: 'deleteMany'; keys: string[] }
  | { kind: 'increment' }
  | { kind: 'group'; sets: { key: string; pad: number }[] }
  | { kind: 'checkpoint' }

const KEYS = Array.from({ length: 14 }, (_, i) => `k${i}`)

function plan(rng: () => number): Planned[] {
  const pick = () => KEYS[Math.floor(rng() * KEYS.length)]!
  const pad = () => (rng() < 0.06 ? 30_000 + Math.floor(rng() * 20_000) : Math.floor(rng() * 1500))
  const out: Planned[] = []
  const n = 18 + Math.floor(rng() * 18)
  for (let i = 0; i < n; i++) {
    const r = rng()
    if (r < 0.36) out.push({ kind: 'set', key: pick(), pad: pad() })
    else if (r < 0.5) out.push({ kind: 'setMany', keys: [...new Set(Array.from({ length: 2 + Math.floor(rng() * 4) }, pick))], pad: pad() })
    else if (r < 0.6) out.push({ kind: 'delete', key: pick() })
    else if (r < 0.64) out.push({ kind: 'deleteMany', keys: [pick(), pick(), pick()] })
    else if (r < 0.78) out.push({ kind: 'increment' })
    else if (r < 0.92) out.push({ kind: 'group', sets: Array.from({ length: 2 + Math.floor(rng() * 3) }, () => ({ key: pick(), pad: pad() })) })
    else out.push({ kind: 'checkpoint' })
  }
  return out
}

/** A rough count of the mutating storage calls a plan makes (to spread crash points over it). */
function estimateMutations(p: Planned[]): number {
  let n = 0
  for (const op of p) n += op.kind === 'checkpoint' ? 8 : op.kind === 'group' ? 3 : 2
  return n + 4
}

const value = (id: number, pad: number) => `${id}|${'x'.repeat(pad)}`

/** The state the base vault holds before the workload (see {@link makeBase}). */
function baseState(): State {
  const s: State = new Map()
  for (let i = 0; i < 8; i++) s.set(`k${i}`, value(-1 - i, 10 * i))
  return s
}

/** A vault with an image and a log that holds records: most seeds start from a copy of it. */
async function makeBase(): Promise<Map<string, Uint8Array>> {
  const mem = new MemoryAdapter()
  const v = await openVault(NAME, { storage: mem, checkpointBytes: CHECKPOINT_BYTES })
  const kv = v.kv()
  const s = baseState()
  let i = 0
  for (const [k, val] of s) {
    await kv.set(k, val)
    if (++i === 5) await v.checkpoint()
  }
  await v.close()
  return snapshot(mem)
}

async function snapshot(storage: StorageAdapter): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>()
  for (const name of await storage.list(NAME)) files.set(`${NAME}/${name}`, (await storage.read(`${NAME}/${name}`))!)
  return files
}

async function restore(files: Map<string, Uint8Array>): Promise<MemoryAdapter> {
  const mem = new MemoryAdapter()
  for (const [p, bytes] of files) await mem.write(p, bytes)
  return mem
}

interface RunResult {
  ops: ModelOp[]
  initial: State
  /** The errors calls rejected with, other than the crash. */
  rejections: unknown[]
  /** The vault, still open, when the workload ended without a crash. */
  vault?: Vault
}

/**
 * Run the workload until it ends or the adapter crashes, recording each data call in the model.
 * A call that rejects without a crash (fault mode) is marked failed and the workload goes on.
 */
async function runWorkload(adapter: FaultInjectingAdapter, initial: State, steps: Planned[]): Promise<RunResult> {
  const run: RunResult = { ops: [], initial, rejections: [] }
  let vault: Vault
  try {
    vault = await openVault(NAME, { storage: adapter, checkpointBytes: CHECKPOINT_BYTES })
  } catch (err) {
    if (adapter.hasCrashed) return run
    throw err
  }
  const kv = vault.kv()
  let nextId = 1
  const track = async (label: string, apply: (s: State) => void, call: () => Promise<unknown>): Promise<void> => {
    const op: ModelOp = { label, apply, acked: false, failed: false }
    run.ops.push(op)
    try {
      await call()
      op.acked = true
    } catch (err) {
      if (adapter.hasCrashed) return
      op.failed = true
      run.rejections.push(err)
    }
  }
  for (const step of steps) {
    if (adapter.hasCrashed) break
    switch (step.kind) {
      case 'set': {
        const v = value(nextId++, step.pad)
        await track(`set ${step.key}=${v.slice(0, 8)}`, (s) => void s.set(step.key, v), () => kv.set(step.key, v))
        break
      }
      case 'setMany': {
        const v = value(nextId++, step.pad)
        await track(`setMany ${step.keys.join(',')}=${v.slice(0, 8)}`, (s) => step.keys.forEach((k) => s.set(k, v)), () => kv.setMany(step.keys.map((k) => [k, v] as const)))
        break
      }
      case 'delete':
        await track(`delete ${step.key}`, (s) => void s.delete(step.key), () => kv.delete(step.key))
        break
      case 'deleteMany':
        await track(`deleteMany ${step.keys.join(',')}`, (s) => step.keys.forEach((k) => s.delete(k)), () => kv.deleteMany(step.keys))
        break
      case 'increment':
        // A transaction that reads and writes two keys: they must move together.
        await track(
          'increment',
          (s) => {
            const c = ((s.get('counter') as number | undefined) ?? 0) + 1
            s.set('counter', c)
            s.set('shadow', c)
          },
          () =>
            vault.transaction(async (tx) => {
              const t = tx.kv()
              const c = ((await t.get('counter')) as number | undefined) ?? 0
              await t.set('counter', c + 1)
              await t.set('shadow', c + 1)
            }),
        )
        break
      case 'group': {
        // Issued together: they share a group commit (one log record), each acked on its own.
        const calls = step.sets.map(({ key, pad }) => {
          const v = value(nextId++, pad)
          return track(`group-set ${key}=${v.slice(0, 8)}`, (s) => void s.set(key, v), () => kv.set(key, v))
        })
        await Promise.all(calls)
        break
      }
      case 'checkpoint':
        try {
          await vault.checkpoint()
        } catch (err) {
          if (!adapter.hasCrashed) run.rejections.push(err)
        }
        break
    }
  }
  // Let a background checkpoint start (and maybe crash).
  await new Promise((r) => setTimeout(r, 0))
  if (adapter.hasCrashed) await abandon(vault)
  else run.vault = vault
  return run
}

/** Close a vault whose storage crashed; errors are expected and ignored. */
async function abandon(vault: Vault | undefined): Promise<void> {
  if (!vault) return
  await withTimeout(vault.close().catch(() => {}), 5000, 'closing a crashed vault')
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

function stateAfter(initial: State, ops: ModelOp[], count: number, includeLastFailed = false): State {
  const s = new Map(initial)
  for (let i = 0; i < count; i++) {
    const op = ops[i]!
    if (!op.failed || (includeLastFailed && i === count - 1)) op.apply(s)
  }
  return s
}

async function readState(vault: Vault): Promise<State> {
  const s: State = new Map()
  for (const [k, v] of await vault.kv().entries()) s.set(k as string, v)
  return s
}

function sameState(a: State, b: State): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) if (!b.has(k) || b.get(k) !== v) return false
  return true
}

function showState(s: State): string {
  return [...s].map(([k, v]) => `${k}=${typeof v === 'string' ? v.slice(0, v.indexOf('|') + 1) : String(v)}`).sort().join(' ')
}

/**
 * Assert the recovered state equals the model after a prefix of the operations holding every
 * acknowledged one. A failed call may show up only as the last of the prefix (its record was
 * taken back by an unsynced truncate that a crash may undo, but any later durable commit first
 * makes that truncate durable).
 */
function checkPrefix(got: State, run: RunResult): boolean {
  const { ops, initial } = run
  let lastAcked = -1
  ops.forEach((op, i) => op.acked && (lastAcked = i))
  for (let k = lastAcked + 1; k <= ops.length; k++) {
    // true: the state holds unacknowledged writes too
    if (sameState(got, stateAfter(initial, ops, k))) return k > lastAcked + 1 && !sameState(got, stateAfter(initial, ops, lastAcked + 1))
    if (k > 0 && ops[k - 1]!.failed && sameState(got, stateAfter(initial, ops, k, true))) return true
  }
  const lines = ops.map((op, i) => `  ${i}: ${op.label}${op.acked ? ' (acked)' : op.failed ? ' (failed)' : ''}`)
  assert.fail(
    `recovered state matches no prefix of the operations from ${lastAcked + 1} on\n got:      ${showState(got)}\n all ops:  ${showState(stateAfter(initial, ops, ops.length))}\n ops:\n${lines.join('\n')}`,
  )
}

/** Open what survived, check integrity and the model; maybe write more and reopen. */
async function verifySurvivor(seed: number, survived: MemoryAdapter, run: RunResult, rng: () => number): Promise<void> {
  let storage: StorageAdapter = survived
  if (rng() < 0.2) {
    // Crash again while recovering (e.g. while truncating the torn tail), then recover from that.
    const again = new FaultInjectingAdapter(survived, { seed: seed ^ 0x5eed, crashAt: 1 + Math.floor(rng() * 3) })
    const v = await openVault(NAME, { storage: again, checkpointBytes: CHECKPOINT_BYTES }).catch((err) => {
      if (!(err instanceof SimulatedCrash)) throw err
      return undefined
    })
    again.crashNow()
    await abandon(v)
    storage = await again.afterCrash()
    stats.recrashed++
  }
  let vault: Vault
  try {
    vault = await openVault(NAME, { storage, checkpointBytes: CHECKPOINT_BYTES })
  } catch (err) {
    if (err instanceof CorruptionError) assert.fail(`the vault did not open after a crash: ${err.message}`)
    throw err
  }
  try {
    assert.deepEqual(await vault.integrityCheck(), ['ok'])
    if ((await vault.info()).recovery.droppedBytes > 0) stats.tornTailDropped++
    const got = await readState(vault)
    if (checkPrefix(got, run)) stats.unackedPresent++
    if (rng() < 0.3) {
      // The recovered vault takes new writes at the right place: write, close, reopen.
      stats.writtenAfterRecovery++
      await vault.kv().set('after', seed)
      await vault.close()
      vault = await openVault(NAME, { storage, checkpointBytes: CHECKPOINT_BYTES })
      assert.deepEqual(await vault.integrityCheck(), ['ok'])
      const again = await readState(vault)
      assert.equal(again.get('after'), seed)
      again.delete('after')
      assert.ok(sameState(again, got), `after a write and a reopen the state changed:\n before ${showState(got)}\n after  ${showState(again)}`)
    }
  } finally {
    await vault.close()
  }
}

async function crashSeed(seed: number, base: Map<string, Uint8Array>): Promise<void> {
  const rng = mulberry32(seed)
  const fromScratch = rng() < 0.15
  const steps = plan(rng)
  const estimate = estimateMutations(steps) + (fromScratch ? 6 : 0)
  const crashAt = 1 + Math.floor(rng() * estimate)
  const inner = fromScratch ? new MemoryAdapter() : await restore(base)
  const adapter = new FaultInjectingAdapter(inner, { seed, crashAt })
  const run = await runWorkload(adapter, fromScratch ? new Map() : baseState(), steps)
  const where = adapter.crashedAt
  if (where) {
    stats.crashedMidWorkload++
    if (/image-|manifest-|log-\d+\.log$/.test(where.path) && /write|remove/.test(where.op) || /image-/.test(where.path)) stats.crashInCheckpoint++
    if (run.ops.length === 0 && fromScratch) stats.crashInCreation++
  }
  if (rng() < 0.3) await run.vault?.close() // a clean close (maybe a checkpoint) before the crash
  const survived = await adapter.afterCrash()
  await abandon(run.vault)
  assert.deepEqual(run.rejections, [], 'only the crash may make calls fail')
  try {
    await verifySurvivor(seed, survived, run, rng)
  } catch (err) {
    ;(err as Error).message += `\n(crash at mutating call ${crashAt} of ~${estimate}; storage model at the crash:\n${adapter.describe()})`
    throw err
  }
}

const KINDS: FailKind[] = ['quota', 'enospc', 'io']

function checkInjectedError(err: unknown, kind: FailKind): void {
  if (kind === 'io') {
    // A generic I/O error has no labvault class of its own: it reaches the caller as it was raised.
    const e = err as { code?: string; cause?: { code?: string } }
    assert.ok(e?.code === 'EIO' || e?.cause?.code === 'EIO', `expected the injected EIO error, got ${String(err)}`)
  } else {
    assert.ok(err instanceof QuotaExceededError, `expected QuotaExceededError, got ${String(err)}`)
    assert.ok(VaultError.isVaultError(err))
  }
}

async function faultSeed(seed: number, base: Map<string, Uint8Array>): Promise<{ injected: boolean }> {
  const rng = mulberry32(seed ^ 0xfa017)
  const steps = plan(rng)
  const kind = KINDS[seed % 3]!
  const initial = baseState()
  const inner = await restore(base)
  const failAt = 1 + Math.floor(rng() * estimateMutations(steps) * 0.9)
  const adapter = new FaultInjectingAdapter(inner, { seed, failAt, failKind: kind })
  const run = await runWorkload(adapter, initial, steps)
  const vault = run.vault!
  const injected = adapter.failures.length > 0
  const expected = stateAfter(initial, run.ops, run.ops.length)
  try {
    for (const err of run.rejections) checkInjectedError(err, kind)
    // One failing call fails one group commit at most (a group has up to 4 calls) or one checkpoint.
    assert.ok(run.rejections.length <= 4, `${run.rejections.length} calls failed after one injected failure`)
    if (!injected) assert.equal(run.rejections.length, 0)
    // Calls after the failed ones went through: the vault kept working.
    const lastFailed = run.ops.findLastIndex((op) => op.failed)
    assert.ok(run.ops.slice(lastFailed + 1).every((op) => op.acked), 'a call after the failure did not succeed')
    assert.deepEqual(await vault.integrityCheck(), ['ok'])
    const live = await readState(vault)
    assert.ok(sameState(live, expected), `the live vault differs from the model without the failed call:\n got      ${showState(live)}\n expected ${showState(expected)}`)
    // Then either a clean close or none, and a crash: what survives holds every acknowledged write.
    const clean = rng() < 0.5
    if (clean) await vault.close()
    const survived = await adapter.afterCrash()
    if (!clean) await abandon(vault)
    // Reopen on the files as they are (nothing lost): exactly the model without the failed call.
    const reopened = await openVault(NAME, { storage: inner, checkpointBytes: CHECKPOINT_BYTES })
    try {
      assert.deepEqual(await reopened.integrityCheck(), ['ok'])
      const got = await readState(reopened)
      assert.ok(sameState(got, expected), `reopened vault differs from the model without the failed call:\n got      ${showState(got)}\n expected ${showState(expected)}`)
    } finally {
      await reopened.close()
    }
    await verifySurvivor(seed, survived, run, rng)
  } catch (err) {
    ;(err as Error).message += `\n(injected ${kind} at mutating call ${failAt}: ${adapter.failures.map((f) => `${f.op} ${f.path}`).join(', ') || 'not reached'})`
    await abandon(vault)
    throw err
  }
  return { injected }
}

/** Run seeds, print each failing one with how to replay it, fail with the list. */
async function runSeeds(label: string, env: string, seeds: number[], one: (seed: number) => Promise<unknown>): Promise<void> {
  const failed: string[] = []
  const started = performance.now()
  for (const seed of seeds) {
    try {
      await withTimeout(Promise.resolve(one(seed)), SEED_TIMEOUT_MS, `seed ${seed}`)
    } catch (err) {
      const msg = `seed ${seed} failed: ${(err as Error)?.stack ?? String(err)}\n  replay: ${env}=${seed} node --import tsx --test test/node/crash-seeds.test.ts`
      console.error(msg)
      failed.push(`seed ${seed}`)
      if (failed.length >= 10) break
    }
  }
  const ms = performance.now() - started
  console.log(`${label}: ${seeds.length} seeds in ${(ms / 1000).toFixed(1)} s (${(ms / seeds.length).toFixed(1)} ms each)`)
  assert.deepEqual(failed, [], `${label}: failing seeds (replay with ${env}=<seed>)`)
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1)
let basePromise: Promise<Map<string, Uint8Array>> | undefined
const base = () => (basePromise ??= makeBase())

test(`crash at ${onlyCrash ? `seed ${onlyCrash}` : `${CRASH_SEEDS} seeded points`}: every acknowledged write survives, nothing half-applied`, { skip: single && !onlyCrash }, async () => {
  const b = await base()
  await runSeeds('crash seeds', 'CRASH_SEED', onlyCrash ? [Number(onlyCrash)] : range(CRASH_SEEDS), (seed) => crashSeed(seed, b))
  console.log(`crash seeds exercised: ${JSON.stringify(stats)}`)
  if (!onlyCrash) {
    assert.ok(stats.crashedMidWorkload > CRASH_SEEDS / 2, 'most seeds crash inside the workload')
    assert.ok(stats.crashInCheckpoint > CRASH_SEEDS / 20, 'crashes land inside checkpoints')
    assert.ok(stats.tornTailDropped > CRASH_SEEDS / 20, 'torn log tails are dropped on recovery')
    assert.ok(stats.unackedPresent > 0, 'unacknowledged writes sometimes survive')
  }
})

test(`failing calls (quota, ENOSPC, EIO) at ${onlyFault ? `seed ${onlyFault}` : `${FAULT_SEEDS} seeded points`}: typed error, nothing changed, vault keeps working`, { skip: single && !onlyFault }, async () => {
  const b = await base()
  let injected = 0
  await runSeeds('fault seeds', 'FAULT_SEED', onlyFault ? [Number(onlyFault)] : range(FAULT_SEEDS), async (seed) => {
    if ((await faultSeed(seed, b)).injected) injected++
  })
  console.log(`fault seeds: a failure was injected in ${injected}`)
  if (!onlyFault) assert.ok(injected >= FAULT_SEEDS * 0.7, `only ${injected} of ${FAULT_SEEDS} fault seeds reached their failure`)
})

test('the fault adapter models the durability contract', async () => {
  // Synced bytes survive; unsynced ones may not; a crash stops every later call.
  const inner = new MemoryAdapter()
  const a = new FaultInjectingAdapter(inner, { seed: 1, crashAt: 5 })
  await a.append('d/f', new Uint8Array([1, 2, 3]))
  await a.sync('d/f')
  await a.append('d/f', new Uint8Array([4, 5, 6]))
  await a.write('d/g', new Uint8Array([9]))
  await assert.rejects(a.sync('d/f'), SimulatedCrash)
  await assert.rejects(a.read('d/f'), SimulatedCrash)
  await assert.rejects(a.write('d/h', new Uint8Array(1)), SimulatedCrash)
  const seen = new Set<string>()
  for (let seed = 0; seed < 200; seed++) {
    const b = new FaultInjectingAdapter(new MemoryAdapter(), { seed, crashAt: 5 })
    await b.append('d/f', new Uint8Array([1, 2, 3]))
    await b.sync('d/f')
    await b.append('d/f', new Uint8Array([4, 5, 6]))
    await b.write('d/g', new Uint8Array([9]))
    await b.sync('d/f').catch(() => {})
    const after = await b.afterCrash()
    const f = (await after.read('d/f'))!
    assert.deepEqual([...f.subarray(0, 3)], [1, 2, 3], 'synced bytes survive')
    seen.add(`${f.length}:${[...f.subarray(3)].join(',')}:${(await after.read('d/g'))?.length ?? 'gone'}`)
  }
  // Lost, kept, torn short, torn with zeros or garbage; the unsynced new file kept or gone.
  assert.ok([...seen].some((s) => s.startsWith('3:')))
  assert.ok([...seen].some((s) => s.startsWith('6:4,5,6')))
  assert.ok([...seen].some((s) => s.startsWith('4:') || s.startsWith('5:')))
  assert.ok([...seen].some((s) => s.startsWith('6:') && !s.startsWith('6:4,5,6')))
  assert.ok([...seen].some((s) => s.endsWith(':gone')) && [...seen].some((s) => s.endsWith(':1')))
  // A failing call changes nothing and the adapter goes on.
  const c = new FaultInjectingAdapter(new MemoryAdapter(), { seed: 3, failAt: 2, failKind: 'enospc' })
  await c.append('f', new Uint8Array([1]))
  await assert.rejects(c.append('f', new Uint8Array([2])), (e: { code?: string }) => e.code === 'ENOSPC')
  assert.deepEqual([...(await c.read('f'))!], [1])
  await c.append('f', new Uint8Array([3]))
  assert.deepEqual([...(await c.read('f'))!], [1, 3])
  // A remove is durable once a file of its folder is synced; before that it may be undone.
  let resurrected = 0
  for (let seed = 0; seed < 50; seed++) {
    const d = new FaultInjectingAdapter(new MemoryAdapter(), { seed })
    await d.write('v/old', new Uint8Array([7]))
    await d.sync('v/old')
    await d.remove('v/old')
    const lost = await d.afterCrash()
    if (await lost.read('v/old')) resurrected++
    const e = new FaultInjectingAdapter(new MemoryAdapter(), { seed })
    await e.write('v/old', new Uint8Array([7]))
    await e.sync('v/old')
    await e.remove('v/old')
    await e.write('v/new', new Uint8Array([8]))
    await e.sync('v/new')
    assert.equal(await (await e.afterCrash()).read('v/old'), undefined)
  }
  assert.ok(resurrected > 0 && resurrected < 50)
})
