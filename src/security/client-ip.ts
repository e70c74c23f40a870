import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';

/** The eight 16-bit groups of an IPv6 address, in hex without leading zeros. */
function ipv6Groups(address: string): string[] {
  const [head, tail] = address.toLowerCase().split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':') : []);
  const left = part(head);
  const right = part(tail);
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.replace(/^0+(?=.)/, ''));
}

/**
 * Who a budget counts: an IPv4 address, or an IPv6 client's /64 (one subscriber's network: its 2^64 addresses
 * are one identity, not as many). IPv4-mapped IPv6 addresses count as the IPv4 address.
 */
export function clientIdentity(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return mapped;
  if (isIP(address) !== 6 || address.includes('.')) return address;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** TRUST_PROXY as Express reads `trust proxy`: true, a hop count, or addresses and subnets (and their names). */
function trustOf(trustProxy: boolean | number | string): (address: string, hop: number) => boolean {
  if (trustProxy === true) return () => true;
  if (trustProxy === false) return () => false;
  if (typeof trustProxy === 'number') return (_address, hop) => hop < trustProxy;
  return proxyAddr.compile(trustProxy.split(',').map((entry) => entry.trim()));
}

/**
 * The client's identity for per-client limits: its address as Express's `req.ip` finds it (proxy-addr with
 * TRUST_PROXY), unless what a proxy header put there is not an IP address; then the connection's own address. A
 * client cannot so pick an identity of its own by sending garbage in X-Forwarded-For.
 */
export function createClientIp(trustProxy: boolean | number | string): (req: IncomingMessage) => string {
  const trust = trustOf(trustProxy);
  return (req) => {
    const ip = proxyAddr(req, trust);
    return clientIdentity(ip && isIP(ip) ? ip : (req.socket.remoteAddress ?? ''));
  };
}
