import { BlockList, isIP } from 'node:net'

const unmapped = (address: string) => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address)

/**
 * `TRUSTED_PROXY`: comma-separated addresses or CIDR ranges (`10.0.0.0/8`, `fdaa::/16`)
 * of the proxies whose `X-Forwarded-For` is believed. Throws on a malformed entry so a
 * typo fails the boot instead of silently trusting nobody (or everybody).
 */
export function trustedProxies(spec: string | undefined): BlockList {
  const list = new BlockList()
  for (const entry of (spec ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
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

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted quad as two groups). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase()
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const parse = (part: string) => (part ? part.split(':').map((g) => Number.parseInt(g, 16)) : [])
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  return [...left, ...Array(8 - left.length - right.length).fill(0), ...right]
}

/**
 * What a per-address limit counts: an IPv4 address as it is, an IPv6 client by its /64. One
 * subscriber gets a whole /64 (SLAAC, privacy addresses), so counting single IPv6 addresses
 * gave one client 2^64 budgets.
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address
  const prefix = ipv6Groups(address)
    .slice(0, 4)
    .map((g) => g.toString(16))
  return `${prefix.join(':')}::/64`
}
