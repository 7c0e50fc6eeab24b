import fc from 'fast-check'
import ipaddr from 'ipaddr.js'
import { describe, expect, it } from 'vitest'
import { InvalidField } from '../../src/api/error-catalog.js'
import {
  checkCallbackUrl,
  checkImageUrl,
  hostMatches,
  isImageAddressAllowed,
  mayBeAddress,
  parseAllowedHost,
  type UrlPolicy,
} from '../../src/callbacks/url-policy.js'
import {
  ACCEPTED_CALLBACK_URLS,
  ACCEPTED_IMAGE_URLS,
  CALLBACK_ALLOWED_HOSTS,
  REFUSED_CALLBACK_URLS,
  REFUSED_IMAGE_URLS,
} from '../helpers/url-cases.js'

const real: UrlPolicy = { mode: 'real', callbackAllowedHosts: CALLBACK_ALLOWED_HOSTS }
const realNoCallbacks: UrlPolicy = { mode: 'real', callbackAllowedHosts: [] }
const zeroSetup: UrlPolicy = { mode: 'zero-setup', callbackAllowedHosts: [] }

/** The InvalidField `check` threw, failing the test when it threw nothing or something else. */
function refusal(check: () => void): InvalidField {
  try {
    check()
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidField)
    return error as InvalidField
  }
  throw new Error('expected the URL to be refused, but it was accepted')
}

describe('checkImageUrl in real mode', () => {
  it.each(REFUSED_IMAGE_URLS)('when imageUrl is %s (%s), then it is refused naming imageUrl', (_, url) => {
    const error = refusal(() => checkImageUrl(url, real))
    expect(error.field).toBe('imageUrl')
    expect(error.statusCode).toBe(400)
    expect(error.message).toContain('imageUrl')
    expect(error.reason).toMatch(/\S/)
  })

  it.each(ACCEPTED_IMAGE_URLS)('when imageUrl is %s (%s), then it is accepted', (_, url) => {
    expect(() => checkImageUrl(url, real)).not.toThrow()
  })

  it('when the callback allowlist is empty, then images are judged the same', () => {
    expect(() => checkImageUrl('https://images.example.com/cat.png', realNoCallbacks)).not.toThrow()
    expect(refusal(() => checkImageUrl('http://127.0.0.1/x.png', realNoCallbacks)).field).toBe('imageUrl')
  })

  it('when a refusal is for credentials, then its reason does not repeat them', () => {
    const error = refusal(() => checkImageUrl('https://user:hunter2-secret@images.example.com/x.png', real))
    expect(error.message).not.toContain('hunter2-secret')
  })
})

describe('mayBeAddress (the quick test before ipaddr.js)', () => {
  it('when a host is anything ipaddr.js reads as an address, then it may be one', () => {
    const spellings = [
      '127.0.0.1',
      '0x7f.1',
      '2130706433',
      '0177.0.0.1',
      '0X7F.0.0.1',
      '::1',
      'fe80::1%eth0',
      '::ffff:10.0.0.1',
      '::10.0.0.1',
      '2606:2800:21f:cb07:6820:80da:af6b:8b2c',
      '1.2.3',
      '0xA.0xb',
    ]
    for (const host of spellings) {
      expect(ipaddr.isValid(host)).toBe(true)
      expect(mayBeAddress(host)).toBe(true)
    }
    // Addresses in every spelling (hex, octal, fewer parts), and strings of the characters addresses
    // and names are made of, in any order.
    const chars = fc.constantFrom(...'0123456789abcdefxABCDEFX.:%gklmoz-_'.split(''))
    const hosts = fc.oneof(
      fc.ipV4(),
      fc.ipV4Extended(),
      fc.ipV6(),
      fc.string({ unit: chars, minLength: 1, maxLength: 24 }),
    )
    fc.assert(
      fc.property(hosts, (host) => {
        if (ipaddr.isValid(host)) expect(mayBeAddress(host)).toBe(true)
      }),
      { numRuns: 20_000 },
    )
  })
  it('when a host is a name, then it is not taken for an address', () => {
    for (const host of ['images.example.com', 'localhost', 'metadata.google.internal', 'cdn-1.example'])
      expect(mayBeAddress(host)).toBe(false)
  })
})

describe('isImageAddressAllowed (the address an image host resolved to)', () => {
  it.each(['127.0.0.1', '10.1.2.3', '192.168.0.5', '169.254.169.254', 'fd00::1', '::ffff:10.0.0.1', '::1'])(
    'when a name resolves to %s in real mode, then the export does not connect',
    (address) => {
      expect(isImageAddressAllowed(address, real)).toBe(false)
    },
  )
  it('when a name resolves to a public address, then it is allowed in either mode', () => {
    expect(isImageAddressAllowed('93.184.215.14', real)).toBe(true)
    expect(isImageAddressAllowed('2606:2800:21f:cb07:6820:80da:af6b:8b2c', zeroSetup)).toBe(true)
  })
  it('when the zero-setup mode resolves a name to loopback, then it is allowed, and private still is not', () => {
    expect(isImageAddressAllowed('127.0.0.1', zeroSetup)).toBe(true)
    expect(isImageAddressAllowed('10.1.2.3', zeroSetup)).toBe(false)
  })
})

describe('checkCallbackUrl in real mode', () => {
  it.each(ACCEPTED_CALLBACK_URLS)(
    `when callbackUrl is %s (%s) and the allowlist is ${CALLBACK_ALLOWED_HOSTS.join(',')}, then it is accepted`,
    (_, url) => {
      expect(() => checkCallbackUrl(url, real)).not.toThrow()
    },
  )

  it.each(REFUSED_CALLBACK_URLS)(
    `when callbackUrl is %s (%s) and the allowlist is ${CALLBACK_ALLOWED_HOSTS.join(',')}, then it is refused naming callbackUrl`,
    (_, url) => {
      const error = refusal(() => checkCallbackUrl(url, real))
      expect(error.field).toBe('callbackUrl')
      expect(error.message).toContain('callbackUrl')
    },
  )

  it.each([...ACCEPTED_CALLBACK_URLS, ['loopback', 'http://127.0.0.1:9/hook'] as [string, string]])(
    'when the allowlist is empty, then callbackUrl %s (%s) is refused naming callbackUrl',
    (_, url) => {
      expect(refusal(() => checkCallbackUrl(url, realNoCallbacks)).field).toBe('callbackUrl')
    },
  )

  it('when the host differs from an allowed one only in case or by a root dot, then it is accepted', () => {
    expect(() => checkCallbackUrl('http://ORDERS.Internal/hook', real)).not.toThrow()
    expect(() => checkCallbackUrl('http://orders.internal./hook', real)).not.toThrow()
  })
})

describe('hostMatches', () => {
  it.each([
    ['orders.internal', 'orders.internal', true],
    ['x.orders.internal', 'orders.internal', false],
    ['orders.internal.evil.com', 'orders.internal', false],
    ['orders.internal2', 'orders.internal', false],
    ['a.svc.cluster.local', '*.svc.cluster.local', true],
    ['a.b.svc.cluster.local', '*.svc.cluster.local', true],
    ['svc.cluster.local', '*.svc.cluster.local', false],
    ['.svc.cluster.local', '*.svc.cluster.local', false],
    ['evilsvc.cluster.local', '*.svc.cluster.local', false],
    ['svc.cluster.local.evil.com', '*.svc.cluster.local', false],
  ] as const)('when host is %s and the pattern %s, then the match is %s', (host, pattern, expected) => {
    expect(hostMatches(host, pattern)).toBe(expected)
  })
})

describe('parseAllowedHost', () => {
  it.each([
    ['orders.internal', { host: 'orders.internal', wildcard: false, port: undefined }],
    ['Orders.Internal:8080', { host: 'orders.internal', wildcard: false, port: 8080 }],
    ['*.svc.cluster.local', { host: 'svc.cluster.local', wildcard: true, port: undefined }],
    ['*.svc.cluster.local:8080', { host: 'svc.cluster.local', wildcard: true, port: 8080 }],
    ['10.0.0.5:9000', { host: '10.0.0.5', wildcard: false, port: 9000 }],
    ['[fd00::1]:8443', { host: 'fd00::1', wildcard: false, port: 8443 }],
  ] as const)('when the entry is %s, then it reads as %o', (entry, expected) => {
    expect(parseAllowedHost(entry)).toEqual(expected)
  })

  it.each([
    ['a bare wildcard', '*'],
    ['a wildcard over a top-level name', '*.local'],
    ['a wildcard in the middle', 'a.*.internal'],
    ['a port out of range', 'orders.internal:70000'],
    ['port 0', 'orders.internal:0'],
    ['a port that is not a number', 'orders.internal:http'],
    ['a scheme', 'http://orders.internal'],
    ['a path', 'orders.internal/hooks'],
    ['an empty entry', ''],
  ])('when the entry is %s (%s), then it is not an entry', (_, entry) => {
    expect(parseAllowedHost(entry)).toBeUndefined()
  })
})

describe('callbackUrl ports', () => {
  it('when a *.suffix entry names no port and the URL asks for another, then the refusal names the port', () => {
    const error = refusal(() => checkCallbackUrl('http://redis.svc.cluster.local:6379/', real))
    expect(error.message).toBe(
      'callbackUrl: port 6379 of host redis.svc.cluster.local is not in CALLBACK_ALLOWED_HOSTS (a *.suffix entry allows 80 and 443 unless it names its port)',
    )
  })

  it('when the same suffix is listed with and without a port, then both its web ports and that port are allowed', () => {
    const policy: UrlPolicy = {
      mode: 'real',
      callbackAllowedHosts: ['*.svc.cluster.local', '*.svc.cluster.local:8080'],
    }
    for (const url of ['https://a.svc.cluster.local/', 'http://a.svc.cluster.local:8080/'])
      expect(() => checkCallbackUrl(url, policy)).not.toThrow()
    expect(refusal(() => checkCallbackUrl('http://a.svc.cluster.local:8081/', policy)).field).toBe(
      'callbackUrl',
    )
  })
})

describe('zero-setup mode', () => {
  const loopbacks = [
    ['localhost with a port', 'http://localhost:3000/x.png'],
    ['IPv4 loopback', 'http://127.0.0.1/x'],
    ['IPv6 loopback', 'http://[::1]/x'],
  ]

  it.each(loopbacks)('when imageUrl is %s (%s), then it is accepted', (_, url) => {
    expect(() => checkImageUrl(url as string, zeroSetup)).not.toThrow()
  })

  it.each(loopbacks)(
    'when callbackUrl is %s (%s) and the allowlist is empty, then it is accepted',
    (_, url) => {
      expect(() => checkCallbackUrl(url as string, zeroSetup)).not.toThrow()
    },
  )

  it.each([
    ['a private address', 'http://10.0.0.1/x'],
    ['cloud metadata', 'http://169.254.169.254/'],
    ["Google's metadata server", 'http://metadata.google.internal/'],
    ['credentials on loopback', 'http://user:pw@127.0.0.1/x'],
  ])('when imageUrl is %s (%s), then it is still refused', (_, url) => {
    expect(refusal(() => checkImageUrl(url, zeroSetup)).field).toBe('imageUrl')
  })

  it.each([
    ['a host not listed', 'http://evil.com/hook'],
    ['a private address', 'http://10.0.0.1/hook'],
    ['credentials on loopback', 'http://user:pw@localhost:3000/hook'],
  ])('when callbackUrl is %s (%s) and the allowlist is empty, then it is still refused', (_, url) => {
    expect(refusal(() => checkCallbackUrl(url, zeroSetup)).field).toBe('callbackUrl')
  })

  it('when callbackUrl is not loopback and the allowlist is empty, then the refusal says loopback is allowed', () => {
    const error = refusal(() => checkCallbackUrl('https://hooks.example.com/done', zeroSetup))
    expect(error.message).toBe(
      'callbackUrl: callbacks here go only to loopback addresses (localhost, 127.0.0.1, [::1]) or to hosts in CALLBACK_ALLOWED_HOSTS',
    )
  })

  it('when callbackUrl is not loopback and not in a non-empty allowlist, then the refusal says loopback is allowed too', () => {
    const policy: UrlPolicy = { mode: 'zero-setup', callbackAllowedHosts: ['orders.internal'] }
    const error = refusal(() => checkCallbackUrl('https://hooks.example.com/done', policy))
    expect(error.message).toBe(
      'callbackUrl: host hooks.example.com is neither a loopback address (localhost, 127.0.0.1, [::1]) nor in CALLBACK_ALLOWED_HOSTS',
    )
  })

  it('when callbacks are refused in real mode with an empty allowlist, then the refusal does not offer loopback', () => {
    const error = refusal(() => checkCallbackUrl('http://127.0.0.1:9/hook', realNoCallbacks))
    expect(error.message).toBe(
      'callbackUrl: callbacks are not enabled here (CALLBACK_ALLOWED_HOSTS is empty)',
    )
  })

  it('when imageUrl is public, then it is accepted as in real mode', () => {
    expect(() => checkImageUrl('https://images.example.com/cat.png', zeroSetup)).not.toThrow()
  })
})
