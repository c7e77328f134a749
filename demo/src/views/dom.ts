// Tiny DOM helpers for the demo's views (no framework: the page is small).

/** The element with this id (it must exist: the page's HTML declares every view's parts). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id)
  if (!el) throw new Error(`demo page: no element #${id}`)
  return el as T
}

/** A new element with attributes (`class`, `data-*`, …) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: (Node | string | number | null | undefined)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue
    e.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(typeof c === 'number' ? String(c) : c)
  return e
}

/** A button that runs `action`, showing an error next to it instead of failing silently. */
export function button(label: string, action: () => Promise<unknown> | unknown, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', ...attrs }, label)
  b.onclick = async () => {
    b.disabled = true
    try {
      await action()
    } catch (err) {
      showError(err)
    } finally {
      b.disabled = false
    }
  }
  return b
}

/** Show an error in the page's error bar (the demo never swallows one). */
export function showError(err: unknown): void {
  const bar = document.getElementById('errors')
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  console.error(err)
  if (bar) bar.append(el('p', { class: 'error' }, text))
}

/** A number as a percentage with one decimal. */
export function pct(x: unknown): string {
  return typeof x === 'number' && Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '–'
}

/** Run `fn` at most once per `ms`, and once more after the last call (refreshes on a burst of changes). */
export function throttled(fn: () => Promise<void>, ms: number): () => void {
  let running = false
  let again = false
  const run = async () => {
    if (running) {
      again = true
      return
    }
    running = true
    try {
      await fn()
    } catch (err) {
      showError(err)
    } finally {
      await new Promise((r) => setTimeout(r, ms))
      running = false
      if (again) {
        again = false
        void run()
      }
    }
  }
  return () => void run()
}
