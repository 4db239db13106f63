import { t } from 'elysia'

// SQLite stores a NUL inside text, but its text functions and the libSQL driver read the
// string only up to it: a title "a\u0000b" would come back as "a". So NUL is refused (422).
const NO_NUL = '^[^\\u0000]*$'
const NO_NUL_NOT_BLANK = '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$'

/** A request string the database gives back whole; `blank: false` also wants a non-space character. */
export const Text = ({ blank = true, ...options }: { blank?: boolean; minLength?: number; maxLength: number; description?: string }) =>
  t.String({ ...options, pattern: blank ? NO_NUL : NO_NUL_NOT_BLANK })
