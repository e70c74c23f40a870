/**
 * Counts the scans (SOS segments) of a JPEG by walking its markers, without decoding anything. A progressive
 * JPEG is decoded one full pass per scan: real encoders write about 10, while a "scan bomb" of a few KB can
 * carry thousands and cost seconds of CPU per decode, whatever its pixel count. Returns 0 for non-JPEG bytes.
 */
export function countJpegScans(bytes: Buffer): number {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return 0;
  let scans = 0;
  let i = 2;
  while (i + 3 < bytes.length) {
    if (bytes[i] !== 0xff) return scans; // not at a marker: a corrupt file, which the decoder will refuse
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd9) return scans; // EOI
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    const length = bytes.readUInt16BE(i + 2);
    i += 2 + length;
    if (marker !== 0xda) continue;
    scans++;
    // Entropy-coded data follows a scan header: skip to the next marker (0xFF not followed by 0x00 or RSTn).
    while (i + 1 < bytes.length && !(bytes[i] === 0xff && bytes[i + 1] !== 0x00 && !(bytes[i + 1]! >= 0xd0 && bytes[i + 1]! <= 0xd7))) i++;
  }
  return scans;
}
