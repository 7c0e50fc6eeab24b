import ipaddr from 'ipaddr.js'
import { InvalidField } from '../api/error-catalog.js'
import type { Config } from '../config.js'

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
 * Whether this service itself may connect to `address`, an IP a host name resolved to, to fetch an image
 * (exports with `images=true`): the addresses checkImageUrl lets through as literals, so a public name
 * that resolves into the cluster is refused too.
 */
export function isImageAddressAllowed(address: string, policy: UrlPolicy): boolean {
  const host = address.toLowerCase()
  if (policy.mode === 'zero-setup' && isLoopback(host)) return true
  return parseAddress(host) !== undefined && isPublicAddressOrName(host)
}

/**
 * `callbackUrl` is called by this service, usually inside the cluster, so it is held to the operator's
 * allowlist (CALLBACK_ALLOWED_HOSTS, see parseAllowedHost) instead: when a caption is created, and again
 * before every delivery attempt, since the list may have changed since.
 */
export function checkCallbackUrl(value: string, policy: UrlPolicy): void {
  const url = new URL(value)
  refuseCredentials(url, 'callbackUrl')
  const host = hostOf(url)
  const zeroSetup = policy.mode === 'zero-setup'
  if (zeroSetup && isLoopback(host)) return
  const entries = policy.callbackAllowedHosts.map(parseAllowedHost).filter((entry) => entry !== undefined)
  const hostAllowed = entries.filter((entry) => hostMatches(host, entry))
  const port = portOf(url)
  if (hostAllowed.some((entry) => portAllowed(port, entry))) return
  if (hostAllowed.length > 0) {
    throw new InvalidField(
      'callbackUrl',
      `port ${port} of host ${host} is not in CALLBACK_ALLOWED_HOSTS (a *.suffix entry allows 80 and 443 unless it names its port)`,
    )
  }
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

/** One entry of CALLBACK_ALLOWED_HOSTS. */
export interface AllowedHost {
  /** Lower case, without brackets; for a wildcard, the suffix after `*.`. */
  host: string
  /** `*.suffix`: any name strictly below the suffix. */
  wildcard: boolean
  /** The one port it names; undefined: any port for an exact host, 80 and 443 for a wildcard. */
  port: number | undefined
}

/** Ports a wildcard entry allows when it names none: a name nobody picked on purpose gets web ports only. */
export const WILDCARD_DEFAULT_PORTS: readonly number[] = [80, 443]

const ENTRY = /^(\*\.)?(\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?)(?::(\d{1,5}))?$/i

/**
 * Reads one CALLBACK_ALLOWED_HOSTS entry: a host name or address (`orders.internal`, `10.0.0.5`,
 * `[fd00::1]`), or `*.suffix` for any name below the suffix, each with an optional `:port`. Undefined
 * when it is none of these.
 */
export function parseAllowedHost(entry: string): AllowedHost | undefined {
  const match = ENTRY.exec(entry.trim())
  if (!match) return undefined
  const [, star, name = '', digits] = match
  const port = digits === undefined ? undefined : Number(digits)
  if (port !== undefined && (port < 1 || port > 65535)) return undefined
  const host = name
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
  if (star !== undefined && (host.includes(':') || !host.includes('.'))) return undefined
  return { host, wildcard: star !== undefined, port }
}

/** Whether `host` (lower case, no brackets) is named by the entry (a string entry is parsed first). */
export function hostMatches(host: string, entry: AllowedHost | string): boolean {
  const allowed = typeof entry === 'string' ? parseAllowedHost(entry) : entry
  if (allowed === undefined) return false
  if (!allowed.wildcard) return host === allowed.host
  return host.endsWith(`.${allowed.host}`) && host.length > allowed.host.length + 1
}

function portAllowed(port: number, entry: AllowedHost): boolean {
  if (entry.port !== undefined) return port === entry.port
  return !entry.wildcard || WILDCARD_DEFAULT_PORTS.includes(port)
}

/** The port a request to `url` goes to: the one written, or the scheme's. */
function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port)
  return url.protocol === 'https:' ? 443 : 80
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

/**
 * What ipaddr.js can read as an address: IPv6 always has a colon, and an IPv4 spelling (dotted, hex,
 * octal or one number) is made of hex digits, `x` and dots. A name fails this test at once; it would
 * otherwise cost ipaddr.js a thrown and caught error on every caption created.
 */
const MAYBE_ADDRESS = /^[0-9a-fx.]+$|:/i

/** False for a host that cannot be an IP literal, whatever ipaddr.js would make of it. */
export const mayBeAddress = (host: string): boolean => MAYBE_ADDRESS.test(host)

/** An IP literal as ipaddr.js sees it, IPv4-mapped IPv6 unwrapped; undefined for a name. */
function parseAddress(host: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!mayBeAddress(host) || !ipaddr.isValid(host)) return undefined
  const address = ipaddr.parse(host)
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address
}
