/** Where clients fetch a file this server stored, from its path on this server (`/v1/photos/<key>`). */
export type FileUrl = (path: string) => string

/**
 * The path itself, or an absolute URL under `publicUrl` (PUBLIC_URL) when set: clients on
 * another origin (a storefront, an e-mail) can then use the URL as it is.
 */
export function fileUrlUnder(publicUrl?: string): FileUrl {
  if (!publicUrl) return (path) => path
  const base = publicUrl.replace(/\/+$/, '')
  return (path) => base + path
}
