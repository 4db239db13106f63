import { BlockList, isIP } from 'node:net'

const unmapped = (address: string) => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address)

/**
 * `TRUSTED_PROXY`: comma-separated addresses or CIDR ranges (`10.0.0.0/8`, `fdaa::/16`)
 * of the proxies whose `X-Forwarded-For` is believed. Throws on a malformed entry so a
 * typo fails the boot instead of silently trusting nobody (or everybody).
 */
export function trustedProxies(spec: string | undefined): BlockList {
  const list = new BlockList()
  for (const entry of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [address = '', bits] = entry.split('/')
    const family = isIP(address)
    if (!family || (bits !== undefined && !/^\d{1,3}$/.test(bits))) throw new Error(`TRUSTED_PROXY: not an address or CIDR range: ${entry}`)
    const type = family === 4 ? 'ipv4' : 'ipv6'
    if (bits === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(bits), type)
  }
  return list
}

/**
 * The address of the client: the socket's peer, unless that peer is a trusted proxy. Then
 * `header` tells: for `x-forwarded-for` its last hop, the one the proxy appended (earlier
 * hops are whatever the client wrote, so they are never believed); for a header the proxy
 * sets whole (`fly-client-ip`), its value.
 */
export function clientIp(socketAddress: string | undefined, headers: Headers, trusted: BlockList, header = 'x-forwarded-for'): string {
  if (!socketAddress) return 'unknown'
  const peer = unmapped(socketAddress)
  const told = headers.get(header)
  if (!told || !trusted.check(peer, isIP(peer) === 4 ? 'ipv4' : 'ipv6')) return peer
  const claimed = told.split(',').at(-1)!.trim()
  return isIP(claimed) ? unmapped(claimed) : peer
}
