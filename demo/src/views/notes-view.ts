// Run notes: search them by words (`vault.search.text`) or by meaning (`vault.search.similar` over
// the hashed-trigram embeddings), and add a note of your own.
import type { DocumentList, Vault } from 'labvault'
import { searchNotes } from '../notes.js'
import { addNote } from '../sweep.js'
import { byId, el } from './dom.js'

/** Draw the latest notes (when no search is shown). */
export async function renderNotes(vault: Vault): Promise<void> {
  const notes = await vault.lists.get<DocumentList>('notes')
  const size = await notes.size()
  const latest = await notes.slice(Math.max(0, size - 6), size)
  byId('notes-count').textContent = `${size} note${size === 1 ? '' : 's'}`
  byId('notes-latest').replaceChildren(...latest.reverse().map((t) => el('li', {}, t)))
}

/** Wire the search and the add-a-note forms. */
export function wireNotes(vault: Vault): void {
  byId<HTMLFormElement>('notes-search').onsubmit = async (e) => {
    e.preventDefault()
    const query = byId<HTMLInputElement>('notes-query').value
    const mode = byId<HTMLSelectElement>('notes-mode').value as 'text' | 'similar'
    const hits = query.trim() ? await searchNotes(vault, query, mode) : []
    byId('notes-hits').replaceChildren(...(hits.length === 0 ? [el('li', {}, 'No note matches.')] : hits.map((h) => el('li', { 'data-score': h.score.toFixed(3) }, el('span', { class: 'score' }, h.score.toFixed(3)), ' ', h.text))))
  }
  byId<HTMLFormElement>('notes-add').onsubmit = async (e) => {
    e.preventDefault()
    const input = byId<HTMLInputElement>('notes-text')
    if (!input.value.trim()) return
    await addNote(vault, input.value.trim())
    input.value = ''
  }
}
