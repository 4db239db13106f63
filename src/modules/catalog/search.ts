/**
 * `q` as an FTS5 query: every word must match (as a prefix) the title, sku or the type's
 * search terms. Words are quoted, so FTS5 operators typed by users stay plain text; a word
 * of digits and hyphens is compacted, so an ISBN typed with hyphens finds the stored one.
 * Null when `q` holds no word at all.
 */
export function ftsQuery(q: string): string | null {
  const words = q
    // Control characters too: FTS5's parser stops at a NUL inside a quoted word.
    .split(/[\s\p{Cc}]+/u)
    .filter((word) => /[\p{L}\p{N}]/u.test(word))
    .map((word) => (/^[\dXx-]+$/.test(word) ? word.replaceAll('-', '') : word))
  if (words.length === 0) return null
  return words.map((word) => `"${word.replaceAll('"', '""')}"*`).join(' ')
}
