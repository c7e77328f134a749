/**
 * The checks of a SQLite database file that need no SQLite: its 100-byte header says what it is
 * (https://www.sqlite.org/fileformat2.html, "The Database Header"). importVault runs them on an
 * archive's image, which comes from outside: bytes that are no SQLite database are refused there,
 * before anything is written, rather than at the vault's first open. (An open checks an image's
 * size and CRC against its manifest, which an archive made to match can pass.)
 */

const MAGIC = 'SQLite format 3\u0000'

/** Why `image` is not a SQLite database file, or undefined when its header is one's. */
export function sqliteImageProblem(image: Uint8Array): string | undefined {
  if (image.length < 100) return `${image.length} bytes, shorter than a SQLite header`
  for (let i = 0; i < MAGIC.length; i++) if (image[i] !== MAGIC.charCodeAt(i)) return 'no SQLite header ("SQLite format 3")'
  // Bytes 16-17: the page size, big-endian, a power of two from 512 to 32768, or 1 for 65536.
  const raw = (image[16]! << 8) | image[17]!
  const pageSize = raw === 1 ? 65536 : raw
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return `page size ${raw} is not one SQLite writes`
  if (image.length % pageSize !== 0) return `${image.length} bytes, not a whole number of ${pageSize}-byte pages`
  return undefined
}
