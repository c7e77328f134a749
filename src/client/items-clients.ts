// The item lists' clients (`vault.lists`, `lineage`, `search`, `sessions`, `vault.session()`) as one
// module: one dynamic import for the five (they are one chunk: scripts/build.mjs), so a page that
// never uses them carries one loader, not five (docs/cold-start.md, "Main-thread bytes").
export * from '../domains/items/client/item-lists.js'
export * from '../domains/items/client/lineage.js'
export * from '../domains/items/client/search.js'
export * from '../domains/items/client/session.js'
