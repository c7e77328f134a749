/**
 * A name as DuckDB compares names: DuckDB folds ASCII letters only (`"K"` and `"k"` are one name,
 * `"É"` and `"é"` two). JavaScript's toLowerCase folds more, and would treat as clashing names
 * DuckDB holds apart. Used by the relations (engine) and by exportParquet's lookup (client).
 */
export function foldCase(name: string): string {
  return name.replace(/[A-Z]+/g, (s) => s.toLowerCase())
}
