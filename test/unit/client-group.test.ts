import { describe, expect, it } from 'vitest'
import { clientGroup } from '../../src/services/throttle/client-group.js'

describe('clientGroup', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:203.0.113.7', '203.0.113.7'],
    ['::ffff:cb00:7107', '203.0.113.7'],
    ['0:0:0:0:0:ffff:cb00:7107', '203.0.113.7'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:0000:0000:0000:0001', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['64:ff9b::203.0.113.7', '64:ff9b:0:0::/64'],
    ['', 'unknown'],
    [undefined, 'unknown'],
    ['not-an-ip', 'unknown'],
  ])('%s → %s', (ip, group) => {
    expect(clientGroup(ip)).toBe(group)
  })

  it('puts two addresses of one /64 together and a neighbouring /64 apart', () => {
    expect(clientGroup('2001:db8:a:b::1')).toBe(clientGroup('2001:db8:a:b:ffff:ffff:ffff:fffe'))
    expect(clientGroup('2001:db8:a:b::1')).not.toBe(clientGroup('2001:db8:a:c::1'))
  })
})
