import { isIPv4, isIPv6 } from 'node:net'

/** An IPv6 address without its zone (`fe80::1%eth0`). */
const withoutZone = (ip: string) => ip.replace(/%.*$/s, '')

/** The eight 16-bit groups of an IPv6 address (zone stripped, embedded IPv4 expanded). */
function hextets(ip: string): number[] {
  let text = withoutZone(ip)
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4) {
    const [, a = 0, b = 0, c = 0, d = 0] = v4.map(Number)
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const parse = (s: string | undefined) =>
    s ? s.split(':').map((h) => Number.parseInt(h, 16)) : []
  const left = parse(head)
  const right = parse(tail)
  const zeros = tail === undefined ? [] : new Array(8 - left.length - right.length).fill(0)
  return [...left, ...zeros, ...right]
}

/**
 * The client a throttle counts: an IPv4 address as is, an IPv6 address by its
 * /64, since one subscriber usually holds a whole /64 and could otherwise
 * rotate addresses (SPEC §4). IPv4-mapped IPv6 (::ffff:a.b.c.d) is IPv4.
 */
export function clientGroup(ip: string | undefined): string {
  if (!ip) return 'unknown'
  if (isIPv4(ip)) return ip
  const bare = withoutZone(ip)
  if (!isIPv6(bare)) return 'unknown'
  const h = hextets(bare)
  const [g5, g6 = 0, g7 = 0] = h.slice(5)
  if (h.slice(0, 5).every((x) => x === 0) && g5 === 0xffff) {
    return [g6 >> 8, g6 & 255, g7 >> 8, g7 & 255].join('.')
  }
  return `${h
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`
}
