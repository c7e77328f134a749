// Run notes: a document list (`notes`) searched by text, and an embedding list (`note_vectors`)
// whose items are the notes' embeddings (each a lineage child of its note), searched by similarity.
import type { DocumentList, Vault } from 'labvault'
import { embed } from './featurise.js'

/** A note found by a search. */
export interface NoteHit {
  index: number
  text: string
  score: number
}

/**
 * Search the notes: `text` ranks the notes holding every word of `query` (BM25); `similar` ranks
 * note vectors by cosine similarity to the query's embedding and maps each back to its note through
 * lineage.
 */
export async function searchNotes(vault: Vault, query: string, mode: 'text' | 'similar', limit = 5): Promise<NoteHit[]> {
  const notes = await vault.lists.get<DocumentList>('notes')
  let hits: { index: number; score: number }[]
  if (mode === 'text') {
    hits = (await vault.search.text(query, { lists: ['notes'], limit })).flatMap((h) => ('index' in h && h.list === 'notes' ? [{ index: h.index, score: h.score }] : []))
  } else {
    const similar = (await vault.search.similar(embed(query), { lists: ['note_vectors'], k: limit })).flatMap((h) => ('index' in h ? [h] : []))
    hits = []
    for (const h of similar) {
      const [edge] = await vault.lineage.parents('note_vectors', { start: h.index, end: h.index + 1 })
      if (edge?.parent === 'notes') hits.push({ index: edge.parentStart, score: h.score })
    }
  }
  return Promise.all(hits.map(async (h) => ({ ...h, text: await notes.get(h.index) })))
}
