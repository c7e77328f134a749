/**
 * The builder model of versioned tables (TableVault v1's builders, in TypeScript's idiom). A builder
 * says how an instance's rows (the index builder) or some of its columns (column builders) are
 * computed by an exported function of a stored code module. Specs arrive as objects, JSON or YAML
 * text; `parseBuilder` (builder-spec.ts) validates them into these types.
 */

/** How a builder's function hands back its output. */
export type ReturnType = 'rows' | 'row-wise' | 'generator'

/** The exported function of a stored code module a builder calls. */
export interface BuilderFunction {
  /** The code module's name (`vault.code.create(name, source)`). */
  readonly module: string
  /** The export's name (`default` for a default export). */
  readonly export: string
}

/**
 * A builder's arguments: any JSON-like value. Strings may hold table references
 * (`<<table(instance).{c1,c2}[col::val]>>`, table-references.ts) and keywords (`~artifactFolder~`,
 * `~processId~`); the executor resolves them before each call.
 */
export type BuilderArguments = { readonly [name: string]: ArgumentValue }
/** One argument value (resolved recursively through arrays and objects). */
export type ArgumentValue = string | number | boolean | null | readonly ArgumentValue[] | { readonly [k: string]: ArgumentValue }

/** A table a builder depends on, beyond those its arguments reference. */
export interface DependencyRef {
  readonly table: string
  /** A given instance; undefined = the table's latest materialised instance at execution. */
  readonly instance?: string
}

interface BuilderCommon {
  /** The builder's name: `<table>_index` for the index builder. */
  readonly name: string
  /** The columns this builder produces, in order; disjoint from every other builder's. */
  readonly changedColumns: readonly string[]
  readonly function: BuilderFunction
  readonly arguments: BuilderArguments
  readonly returnType: ReturnType
  /** Table dtypes (table-dtypes.ts) by column; a column left out gets one inferred from its values. */
  readonly dtypes: Readonly<Record<string, string>>
  /** Declared dependencies (the tables its arguments reference are dependencies too). */
  readonly dependencies: readonly DependencyRef[]
  /** Row-wise calls in flight at once (TableVault's n_threads); other return types make one call. */
  readonly concurrency: number
  /** Free text. */
  readonly description: string
}

/** The one builder that makes an instance's rows: its output columns are the index. */
export interface IndexBuilderSpec extends BuilderCommon {
  /** Marks the index builder (it must be named `<table>_index`). */
  readonly kind: 'index'
  /** Columns whose values identify a row (row reuse and keepOld match on them); default all changedColumns. */
  readonly primaryKey: readonly string[]
  /** Keep the origin's rows whose key the new output lacks (the index grows instead of being replaced). */
  readonly keepOld: boolean
  /** Always 'rows' or 'generator': there is no row to be wise about before the index exists. */
  readonly returnType: 'rows' | 'generator'
}

/** A builder that computes some columns of every index row. */
export interface ColumnBuilderSpec extends BuilderCommon {
  /** Marks a column builder (any name but the index's). */
  readonly kind: 'column'
}

/** A validated builder. */
export type BuilderSpec = IndexBuilderSpec | ColumnBuilderSpec

/** Builders in execution order (index first, then column builders after what they read). */
export interface BuilderPlan {
  readonly table: string
  readonly index: IndexBuilderSpec
  readonly columns: readonly ColumnBuilderSpec[]
}
