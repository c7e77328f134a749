/** Root folder (OPFS) and database name (IndexedDB) that hold every vault of an origin. */
export const BROWSER_ROOT = 'labvault'
