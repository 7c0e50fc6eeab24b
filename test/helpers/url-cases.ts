/**
 * The URL forms the service must refuse or accept in real mode (GOAPI_API_KEY set), shared by the unit
 * tests of src/callbacks/url-policy.ts and the HTTP tests of POST /captions. Each row: [what it is, URL].
 */

export const REFUSED_IMAGE_URLS: [string, string][] = [
  // Credentials
  ['a user and a password', 'https://user:pw@images.example.com/cat.png'],
  ['a user only', 'https://user@images.example.com/cat.png'],
  ['a password only', 'https://:pw@images.example.com/cat.png'],
  // Names
  ['localhost', 'http://localhost/x.png'],
  ['localhost with a port', 'http://localhost:3000/x.png'],
  ['LOCALHOST in capitals with a root dot', 'http://LOCALHOST./x.png'],
  ['a name under .localhost', 'http://app.localhost/x.png'],
  ["Google's metadata server", 'http://metadata.google.internal/computeMetadata/v1/'],
  ["Google's metadata server with a root dot", 'http://metadata.google.internal./computeMetadata/v1/'],
  // IPv4
  ['IPv4 loopback', 'http://127.0.0.1/x.png'],
  ['IPv4 loopback elsewhere in 127/8', 'http://127.8.9.10:8080/x.png'],
  ['private 10/8', 'http://10.0.0.1/x.png'],
  ['private 172.16/12', 'http://172.16.0.1/x.png'],
  ['private 172.16/12, its top', 'http://172.31.255.255/x.png'],
  ['private 192.168/16', 'http://192.168.1.1/x.png'],
  ['link-local cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
  ['link-local', 'http://169.254.0.1/x.png'],
  ['CGNAT 100.64/10', 'http://100.64.0.1/x.png'],
  ['CGNAT 100.64/10, its top', 'http://100.127.255.254/x.png'],
  ['0.0.0.0', 'http://0.0.0.0/x.png'],
  ['multicast', 'http://224.0.0.1/x.png'],
  ['reserved 240/4', 'http://240.0.0.1/x.png'],
  ['reserved TEST-NET-1', 'http://192.0.2.1/x.png'],
  ['broadcast', 'http://255.255.255.255/x.png'],
  // IPv6
  ['IPv6 loopback', 'http://[::1]/x.png'],
  ['IPv6 unspecified', 'http://[::]/x.png'],
  ['IPv6 link-local', 'http://[fe80::1]/x.png'],
  ['IPv6 unique-local fc00::/7', 'http://[fc00::1]/x.png'],
  ["AWS's IPv6 metadata address", 'http://[fd00:ec2::254]/latest/meta-data/'],
  ['IPv6 multicast', 'http://[ff02::1]/x.png'],
  ['IPv4-mapped loopback, dotted', 'http://[::ffff:127.0.0.1]/x.png'],
  ['IPv4-mapped loopback, hex', 'http://[::ffff:7f00:1]/x.png'],
  ['IPv4-compatible loopback (deprecated ::/96)', 'http://[::127.0.0.1]/x.png'],
  ['IPv4-mapped cloud metadata', 'http://[::ffff:169.254.169.254]/x.png'],
  ['IPv4-mapped private', 'http://[::ffff:10.0.0.1]/x.png'],
  // IPv4 spelled oddly (the URL parser turns them into 127.0.0.1)
  ['127.1', 'http://127.1/x.png'],
  ['2130706433', 'http://2130706433/x.png'],
  ['0x7f000001', 'http://0x7f000001/x.png'],
  ['0177.0.0.1', 'http://0177.0.0.1/x.png'],
  ['0x7f.1', 'http://0x7f.1/x.png'],
  ['0 (which is 0.0.0.0)', 'http://0/x.png'],
]

export const ACCEPTED_IMAGE_URLS: [string, string][] = [
  ['a public name', 'https://images.example.com/cat.png'],
  ['a public IPv4 address', 'http://8.8.8.8/x.png'],
  ['a public IPv6 address', 'http://[2606:4700:4700::1111]/x.png'],
  ['a port and a query', 'https://images.example.com:8443/cat.png?size=large&v=2'],
  ['a name that merely contains localhost', 'https://mylocalhost.example.com/x.png'],
  ['a name that starts with localhost.', 'https://localhost.example.com/x.png'],
]

/** For CALLBACK_ALLOWED_HOSTS='orders.internal,*.svc.cluster.local,*.apps.internal:8443,ledger.internal:9000'. */
export const CALLBACK_ALLOWED_HOSTS = [
  'orders.internal',
  '*.svc.cluster.local',
  '*.apps.internal:8443',
  'ledger.internal:9000',
]

export const ACCEPTED_CALLBACK_URLS: [string, string][] = [
  ['an exact host', 'http://orders.internal/hook'],
  ['a name strictly below a *.suffix', 'http://a.b.svc.cluster.local/hook'],
  ['a name one level below a *.suffix, on https', 'https://api.svc.cluster.local/hook?x=1'],
  ['an exact host on any port', 'http://orders.internal:8081/hook'],
  ['a name below a *.suffix:port, on that port', 'https://x.apps.internal:8443/hook'],
  ['an exact host:port, on that port', 'http://ledger.internal:9000/hook'],
]

export const REFUSED_CALLBACK_URLS: [string, string][] = [
  ['the *.suffix itself', 'http://svc.cluster.local/hook'],
  ['an allowed host as a prefix of another name', 'http://orders.internal.evil.com/hook'],
  ['a name ending like the suffix but not below it', 'http://evilsvc.cluster.local/hook'],
  ['a host not listed', 'http://evil.com/hook'],
  ['a name below an exact host', 'http://x.orders.internal/hook'],
  ['credentials on an allowed host', 'http://user:pw@orders.internal/hook'],
  ['a user on an allowed host', 'http://user@orders.internal/hook'],
  ['loopback, not listed', 'http://127.0.0.1/hook'],
  ['a name below a *.suffix on another port', 'https://api.svc.cluster.local:8443/hook'],
  ['a name below a *.suffix on a database port', 'http://redis.svc.cluster.local:6379/'],
  ['a name below a *.suffix:port on 443', 'https://x.apps.internal/hook'],
  ['an exact host:port on another port', 'http://ledger.internal/hook'],
]
