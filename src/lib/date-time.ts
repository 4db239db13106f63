/** RFC 3339 `date-time` (section 5.6): full date, `T`, full time with seconds, `Z` or a numeric offset. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:Z|([+-])(\d{2}):(\d{2}))$/i

/**
 * Epoch milliseconds of an RFC 3339 date-time, or null when the text is not one or names a
 * time that does not exist (`2030-02-30`, hour 24, offset +25:00). `Date.parse` is lenient
 * about all of these (a bare date, day overflow into the next month, six-digit years), so
 * every field is checked to round-trip. Leap seconds (`:60`) are refused: JS time has none.
 */
export function parseDateTime(text: string): number | null {
  const match = DATE_TIME.exec(text)
  if (!match) return null
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [1, 2, 3, 4, 5, 6, 9, 10].map((i) => Number(match[i] ?? 0)) as number[]
  if (offsetHours! > 23 || offsetMinutes! > 59) return null
  const at = new Date(0)
  at.setUTCFullYear(year!, month! - 1, day!)
  at.setUTCHours(hour!, minute!, second!, Number((match[7] ?? '.').slice(1, 4).padEnd(3, '0')))
  const exists =
    at.getUTCFullYear() === year && at.getUTCMonth() === month! - 1 && at.getUTCDate() === day && at.getUTCHours() === hour && at.getUTCMinutes() === minute && at.getUTCSeconds() === second
  if (!exists) return null
  const offset = (match[8] === '-' ? -1 : 1) * (offsetHours! * 60 + offsetMinutes!) * 60_000
  return at.getTime() - offset
}
