import ipaddr from 'ipaddr.js'
import type { Config } from '../config.js'
import { InvalidField } from '../errors.js'

export type UrlPolicy = Pick<Config, 'mode' | 'callbackAllowedHosts'>

/**
 * GoAPI fetches `imageUrl` from the internet, so in real mode a URL that can only be a mistake or a probe
 * is refused: credentials in it, `localhost`, or an IP literal outside public unicast space (loopback,
 * private, link-local, unique-local, cloud metadata, in IPv4, IPv6 and IPv4-mapped forms). The URL parser
 * has already turned odd IPv4 spellings (`0x7f.1`, `2130706433`) into dotted quads. The zero-setup mode
 * also lets loopback through, for demos.
 */
export function checkImageUrl(value: string, policy: UrlPolicy): void {
  const url = new URL(value)
  refuseCredentials(url, 'imageUrl')
  const host = hostOf(url)
  if (policy.mode === 'zero-setup' && isLoopback(host)) return
  if (host === 'localhost' || host.endsWith('.localhost')) {
    throw new InvalidField('imageUrl', 'must not point at localhost: GoAPI fetches it from the internet')
  }
  if (!isPublicAddressOrName(host)) {
    throw new InvalidField(
      'imageUrl',
      'must not point at a loopback, private, link-local or metadata address: GoAPI fetches it from the internet',
    )
  }
}

/**
 * `callbackUrl` is called by this service, usually inside the cluster, so it is held to the operator's
 * allowlist (CALLBACK_ALLOWED_HOSTS: exact hosts, or `*.suffix` for any name below the suffix) instead.
 */
export function checkCallbackUrl(value: string, policy: UrlPolicy): void {
  const url = new URL(value)
  refuseCredentials(url, 'callbackUrl')
  const host = hostOf(url)
  const zeroSetup = policy.mode === 'zero-setup'
  if (zeroSetup && isLoopback(host)) return
  if (policy.callbackAllowedHosts.some((pattern) => hostMatches(host, pattern))) return
  if (zeroSetup && policy.callbackAllowedHosts.length === 0) {
    throw new InvalidField(
      'callbackUrl',
      `callbacks here go only to ${LOOPBACKS} or to hosts in CALLBACK_ALLOWED_HOSTS`,
    )
  }
  if (zeroSetup) {
    throw new InvalidField(
      'callbackUrl',
      `host ${host} is neither a ${LOOPBACK} nor in CALLBACK_ALLOWED_HOSTS`,
    )
  }
  if (policy.callbackAllowedHosts.length === 0) {
    throw new InvalidField('callbackUrl', 'callbacks are not enabled here (CALLBACK_ALLOWED_HOSTS is empty)')
  }
  throw new InvalidField('callbackUrl', `host ${host} is not in CALLBACK_ALLOWED_HOSTS`)
}

const LOOPBACK = 'loopback address (localhost, 127.0.0.1, [::1])'
const LOOPBACKS = 'loopback addresses (localhost, 127.0.0.1, [::1])'

export function hostMatches(host: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1
  return host === pattern
}

function refuseCredentials(url: URL, field: string): void {
  if (url.username !== '' || url.password !== '') throw new InvalidField(field, 'must not carry credentials')
}

/** The host in lower case, without IPv6 brackets or a trailing root dot. */
function hostOf(url: URL): string {
  return url.hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true
  const address = parseAddress(host)
  return address?.range() === 'loopback'
}

function isPublicAddressOrName(host: string): boolean {
  if (host === 'metadata.google.internal') return false
  const address = parseAddress(host)
  if (address === undefined) return true
  // The deprecated IPv4-compatible form ::a.b.c.d, which ipaddr.js files under unicast.
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0))
    return false
  return address.range() === 'unicast'
}

/** An IP literal as ipaddr.js sees it, IPv4-mapped IPv6 unwrapped; undefined for a name. */
function parseAddress(host: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ipaddr.isValid(host)) return undefined
  const address = ipaddr.parse(host)
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address
}
