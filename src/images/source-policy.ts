/**
 * Which URLs the worker may download from. Matching is on the parsed hostname (and port, when an entry
 * names one), never on a string prefix: `https://pps.whatsapp.net.evil.com/` is not `pps.whatsapp.net`.
 * Entries: `host`, `*.example.com` (subdomains only), optionally with `:port`.
 */
export interface SourcePolicy {
  allowedHosts: string[];
  allowHttp: boolean;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

function hostMatches(entry: string, hostname: string, port: string): boolean {
  const colon = entry.lastIndexOf(':');
  const hasPort = colon > 0 && !entry.endsWith(']') && /^\d+$/.test(entry.slice(colon + 1));
  const pattern = hasPort ? entry.slice(0, colon) : entry;
  if (hasPort && entry.slice(colon + 1) !== port) return false;
  if (pattern.startsWith('*.')) return hostname.endsWith(pattern.slice(1)) && hostname.length > pattern.length - 1;
  return hostname === pattern;
}

/** Why a URL is refused, or undefined when it is allowed. */
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
  if (!policy.allowedHosts.some((entry) => hostMatches(entry, hostname, port))) {
    return `host ${hostname} is not in AVATAR_SOURCE_HOSTS`;
  }
  return undefined;
}
