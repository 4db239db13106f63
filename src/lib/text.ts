import { Type } from '@sinclair/typebox'

// Control characters (C0, DEL, C1) have no place in a name or a title: a NUL truncates the
// string in SQLite's text functions and the libSQL driver (a title "a\u0000b" came back as
// "a"), and the rest hide in logs, CSV exports and e-mails. Multi-line text keeps newline and tab.
const SINGLE_LINE = '\\u0000-\\u001f\\u007f-\\u009f'
const MULTI_LINE = '\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f'
// A lookahead, not `[^X]*[^\sX][^X]*`: that backtracks quadratically on a long run of spaces.
const NOT_BLANK = '(?!\\s*$)'

export interface TextOptions {
  /** `false`: also wants a character that is not white space. */
  blank?: boolean
  /** Newlines and tabs allowed (descriptions); every other control character is still refused. */
  multiline?: boolean
  minLength?: number
  maxLength: number
  description?: string
}

/**
 * Every text field a client writes (names, titles, addresses, descriptions): one pattern,
 * checked by the schema (422 `validation_failed` naming the field), so the database gives
 * back exactly what it was given.
 */
export const Text = ({ blank = true, multiline = false, ...options }: TextOptions) => Type.String({ ...options, pattern: `^${blank ? '' : NOT_BLANK}[^${multiline ? MULTI_LINE : SINGLE_LINE}]*$` })

/**
 * A GLOB pattern for text that contains `fragment`, in any letter case and any script: each
 * letter becomes the set of its cases (`[Ññ]`), since SQLite's LIKE and lower() fold ASCII only.
 * GLOB's own special characters stand for themselves.
 */
export function containsIgnoringCase(fragment: string) {
  const chars = [...fragment].map((c) => {
    const cases = new Set([c, c.toLowerCase(), c.toUpperCase()].filter((variant) => [...variant].length === 1))
    return cases.size === 1 && !'*?[]'.includes(c) ? c : `[${[...cases].join('')}]`
  })
  return `*${chars.join('')}*`
}
