/**
 * A random id: 128 random bits as 32 hex digits. From `crypto.getRandomValues`, which every browser
 * has in every context and Node has as a global: `crypto.randomUUID` is missing outside secure
 * contexts (a page served over plain http from another machine), where ids came from Math.random,
 * and the one path costs the page fewer bytes than the two (docs/cold-start.md, "Main-thread bytes").
 */
export function randomId(): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')
}
