/**
 * Upstream text (error bodies, `reason` strings) may echo the request path, and the path holds the token.
 * What is kept of it is short, printable, and has removed: anything shaped like a request path, the token,
 * and any word that shares ten characters with the token (an echo cut in the middle of it).
 */
const PATH_WITH_SECRET = /\/?waInstance[^\s"']*/gi;
const WORD = /[A-Za-z0-9_-]{10,}/g;
const PIECE = 10;
const MAX_EXCERPT = 80;

function sharesPiece(word: string, secret: string): boolean {
  for (let i = 0; i + PIECE <= word.length; i++) if (secret.includes(word.slice(i, i + PIECE))) return true;
  return false;
}

export function scrub(text: string, secrets: string[]): string {
  const known = secrets.filter((s) => s.length > 0);
  let out = text.replace(PATH_WITH_SECRET, '<path>');
  for (const secret of known) out = out.split(secret).join('<redacted>');
  out = out.replace(WORD, (word) => (known.some((secret) => sharesPiece(word, secret)) ? '<redacted>' : word));
  // eslint-disable-next-line no-control-regex
  out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return out.length > MAX_EXCERPT ? `${out.slice(0, MAX_EXCERPT)}...` : out;
}
