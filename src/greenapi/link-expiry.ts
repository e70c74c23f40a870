/**
 * pps.whatsapp.net links are signed and carry their expiry as `oe=` (hex Unix seconds).
 * Returns the expiry in ms, or undefined when the link does not say.
 */
export function linkExpiresAt(url: string): number | undefined {
  let oe: string | null;
  try {
    oe = new URL(url).searchParams.get('oe');
  } catch {
    return undefined;
  }
  if (!oe || !/^[0-9a-f]{1,12}$/i.test(oe)) return undefined;
  return parseInt(oe, 16) * 1000;
}
