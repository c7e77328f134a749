import { canonicalBuilderJson } from '../../shared/builder-spec.js'
import type { BuilderSpec } from '../../shared/builder-types.js'
import type { InstanceRef } from './compute-types.js'

const encoder = new TextEncoder()

/**
 * Recent digests by text: module sources and fingerprint texts repeat at every execute, and each
 * Web Crypto digest is a round trip through the event loop (other work runs in between).
 */
const recent = new Map<string, string>()

/** SHA-256 of a string's UTF-8 bytes, as hex (Web Crypto: the same in Node and in a worker). */
export async function sha256Hex(text: string): Promise<string> {
  const hit = recent.get(text)
  if (hit !== undefined) return hit
  const hex = await digestHex(text)
  if (recent.size >= 256) recent.clear()
  recent.set(text, hex)
  return hex
}

async function digestHex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)))
  let hex = ''
  for (const b of digest) hex += b.toString(16).padStart(2, '0')
  return hex
}

/** What a builder's rows depend on. */
export interface FingerprintInput {
  readonly spec: BuilderSpec
  /** Its code module's source text. */
  readonly moduleSource: string
  /** The instances its references and dependencies resolved to. */
  readonly dependencies: readonly InstanceRef[]
  /** Fingerprints of the builders whose columns it reads through `self`. */
  readonly selfInputs: readonly string[]
  /**
   * The `[name, content hash]` of the artifacts it is given, when its arguments use the
   * artifact-folder keyword (undefined otherwise: artifacts are then not part of what it reads).
   */
  readonly artifacts?: readonly (readonly [string, string])[]
}

/**
 * A builder's fingerprint: equal fingerprints mean equal inputs, so a row with the same primary key
 * may be copied instead of computed. Order-independent in the dependency lists; the description is
 * left out (it changes nothing computed). Versioned, so a change of what is hashed never matches an
 * older fingerprint by accident.
 */
export async function builderFingerprint(input: FingerprintInput): Promise<string> {
  const deps = input.dependencies.map((d) => [d.table, d.instanceId]).sort((a, b) => (a[0]! + '\u0000' + a[1]! < b[0]! + '\u0000' + b[1]! ? -1 : 1))
  const parts: unknown[] = ['labvault.builder-fingerprint.1', canonicalBuilderJson(input.spec), await sha256Hex(input.moduleSource), deps, [...input.selfInputs].sort()]
  // Appended only when given, so the fingerprint of a builder that reads no artifacts is unchanged.
  if (input.artifacts) parts.push([...input.artifacts].map(([n, h]) => [n, h]).sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0)))
  const text = JSON.stringify(parts)
  return sha256Hex(text)
}
