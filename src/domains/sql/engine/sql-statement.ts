import { InvalidArgumentError } from '../../../errors/errors.js'
import type { SqlParam } from '../shared/sql-types.js'

/**
 * How a user's query text reaches DuckDB. SQL over the vault is read-only: the text is run as a
 * subquery (`SELECT * FROM (<text>)`), which DuckDB's parser accepts only for statements that
 * produce rows without changing anything (SELECT, FROM-first, WITH, VALUES, SHOW, DESCRIBE,
 * SUMMARIZE, PIVOT with an IN list): INSERT, CREATE, COPY, ATTACH, SET and the like fail to parse
 * there. The wrapping alone does not stop a text that closes the parenthesis itself and goes on
 * after a `;` (`SELECT 1); DROP TABLE kv; SELECT * FROM (SELECT 1`): the engine has DuckDB's
 * parser confirm that the wrapped text is exactly one statement before it runs
 * (DuckDbRuntime.checkOneStatement). Before both, a statement that plainly writes is refused with
 * a clear message rather than DuckDB's parser error.
 */

const WRITE_KEYWORDS = new Set([
  'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'ALTER', 'COPY', 'ATTACH', 'DETACH', 'SET', 'RESET', 'PRAGMA', 'INSTALL',
  'LOAD', 'CALL', 'EXPORT', 'IMPORT', 'VACUUM', 'CHECKPOINT', 'BEGIN', 'COMMIT', 'ROLLBACK', 'ABORT', 'TRUNCATE', 'MERGE',
  'USE', 'PREPARE', 'EXECUTE', 'DEALLOCATE', 'UPSERT', 'REPLACE', 'GRANT', 'REVOKE', 'COMMENT', 'ANALYZE', 'START', 'END', 'UPDATE',
])

/** The text without leading whitespace, comments and opening parentheses: where its first keyword starts. */
function firstWord(text: string): string {
  let i = 0
  for (;;) {
    while (i < text.length && (/\s/.test(text[i]!) || text[i] === '(')) i++
    if (text.startsWith('--', i)) {
      const nl = text.indexOf('\n', i)
      i = nl < 0 ? text.length : nl + 1
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? text.length : end + 2
    } else break
  }
  return /^[A-Za-z_]+/.exec(text.slice(i))?.[0]?.toUpperCase() ?? ''
}

/** The text of a query to hand DuckDB: refuses writes, drops trailing `;`, wraps it as a subquery. */
export function readOnlyQuery(text: string): string {
  const word = firstWord(text)
  if (WRITE_KEYWORDS.has(word)) {
    throw new InvalidArgumentError(`sql: ${word} statements are refused: SQL over the vault is read-only (change the vault through its API)`)
  }
  // A newline keeps a trailing `-- comment` from swallowing the closing parenthesis.
  return `SELECT * FROM (\n${ownQueryText(text)}\n)`
}

/** A query's own text as it goes into the subquery: trailing semicolons (and whitespace), which end a single statement, dropped. */
export function ownQueryText(text: string): string {
  return text.replace(/[\s;]+$/, '')
}

/**
 * A value as an exact typed DuckDB constant (strings quoted with `''` doubled, bytes in hex,
 * numbers exactly), for the vault's own statements (the cache file's record). Users' parameters
 * never go through here: they are bound as data (sql-binding.ts).
 */
export function sqlLiteral(value: SqlParam): string {
  if (value === null || value === undefined) return 'NULL'
  switch (typeof value) {
    case 'boolean':
      return value ? 'TRUE' : 'FALSE'
    case 'number':
      if (Number.isNaN(value)) return "'nan'::DOUBLE"
      if (value === Infinity) return "'inf'::DOUBLE"
      if (value === -Infinity) return "'-inf'::DOUBLE"
      if (Object.is(value, -0)) return "'-0.0'::DOUBLE"
      if (Number.isSafeInteger(value)) return String(value)
      // Shortest round-trip text of the double, read back as exactly that double.
      return `'${String(value)}'::DOUBLE`
    case 'bigint':
      return value >= -(2n ** 63n) && value < 2n ** 63n ? `'${value}'::BIGINT` : `'${value}'::HUGEINT`
    case 'string':
      // chr(0) joins a NUL in: a NUL byte would end the query text early inside DuckDB.
      return value.includes('\0') ? value.split('\0').map(quote).join(' || chr(0) || ') : quote(value)
    case 'object':
      if (value instanceof Date) return `make_timestamp(${BigInt(value.getTime()) * 1000n}::BIGINT)`
      if (value instanceof Uint8Array) return `from_hex('${hex(value)}')`
      if (Array.isArray(value)) return `[${value.map(sqlLiteral).join(', ')}]`
  }
  throw new InvalidArgumentError(`sql: a parameter of type ${typeof value} cannot be bound`)
}

function quote(s: string): string {
  return `'${s.replaceAll("'", "''")}'`
}

function hex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}
