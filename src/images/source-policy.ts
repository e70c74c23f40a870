import { BlockList, isIP } from 'node:net';

/**
 * Which URLs the worker may download from. Matching is on the parsed hostname and port, never on a string
 * prefix: `https://pps.whatsapp.net.evil.com/` is not `pps.whatsapp.net`.
 * Entries: `host`, `*.example.com` (subdomains only), optionally with `:port`; without one, only the scheme's
 * default port (443, or 80 for http) is allowed.
 */
export interface SourcePolicy {
  allowedHosts: string[];
  allowHttp: boolean;
  /** Allow addresses that are loopback, private, link-local or otherwise reserved (the demo and tests). */
  allowPrivate: boolean;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

function hostMatches(entry: string, hostname: string, port: string, protocol: string): boolean {
  const colon = entry.lastIndexOf(':');
  const hasPort = colon > 0 && !entry.endsWith(']') && /^\d+$/.test(entry.slice(colon + 1));
  const pattern = hasPort ? entry.slice(0, colon) : entry;
  if ((hasPort ? entry.slice(colon + 1) : defaultPort(protocol)) !== port) return false;
  if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1;
  return hostname === pattern;
}

/** Addresses no avatar is served from: this host, private networks, link-local, documentation, multicast... */
const RESERVED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) RESERVED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) RESERVED.addSubnet(net, prefix, 'ipv6');
/**
 * Deprecated IPv6 forms that still reach IPv4 or local networks: IPv4-compatible (::7f00:1), IPv4-mapped written
 * in hex (::ffff:7f00:1; the dotted form is checked as IPv4), IPv4-translated (::ffff:0:7f00:1), site-local, 6to4.
 * A list of their own, checked for IPv6 addresses only: a BlockList also matches IPv4 addresses against ::ffff:0:0/96.
 */
const DEPRECATED_V6 = new BlockList();
for (const [net, prefix] of [['::', 96], ['::ffff:0:0', 96], ['::ffff:0:0:0', 96], ['fec0::', 10], ['2002::', 16]] as const) DEPRECATED_V6.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address (v4, v6, or v4-mapped v6) is loopback, private, link-local or otherwise reserved. */
export function isReservedAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return RESERVED.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return RESERVED.check(address, 'ipv4');
  return RESERVED.check(address, 'ipv6') || DEPRECATED_V6.check(address, 'ipv6');
}

/** Why a URL is refused, or undefined when it is allowed. Names are checked again once resolved (see download). */
export function refuseSource(rawUrl: string, policy: SourcePolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return 'not a valid URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp)) {
    return `scheme ${url.protocol} not allowed`;
  }
  if (url.username || url.password) return 'credentials in URL not allowed';
  const hostname = url.hostname.toLowerCase();
  const port = url.port || defaultPort(url.protocol);
  if (!policy.allowedHosts.some((entry) => hostMatches(entry, hostname, port, url.protocol))) {
    return `host ${hostname}:${port} is not in AVATAR_SOURCE_HOSTS`;
  }
  const literal = hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && !policy.allowPrivate && isReservedAddress(literal)) return `address ${literal} is private or reserved`;
  return undefined;
}
