/** A marker segment of a JPEG: its marker byte and where its payload lies (after the two length bytes). */
export interface JpegSegment {
  marker: number;
  start: number;
  end: number;
}

const isRestart = (marker: number) => marker >= 0xd0 && marker <= 0xd7;

/**
 * The marker segments of a JPEG in order, read without decoding anything: fill bytes and the markers that
 * carry no payload are stepped over, a scan's entropy-coded data is skipped. Ends at EOI, at the end of the
 * bytes, or where they stop making sense (a corrupt file, which the decoder refuses). Nothing for non-JPEG bytes.
 */
export function* jpegSegments(bytes: Buffer): Generator<JpegSegment> {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return;
  let i = 2;
  while (i + 4 <= bytes.length) {
    if (bytes[i] !== 0xff) return;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0xd9) return; // EOI
    if (marker === 0x01 || isRestart(marker)) {
      i += 2;
      continue;
    }
    const length = bytes.readUInt16BE(i + 2);
    const end = i + 2 + length;
    if (length < 2 || end > bytes.length) return;
    yield { marker, start: i + 4, end };
    i = end;
    if (marker !== 0xda) continue;
    // Entropy-coded data follows a scan header: skip to the next marker (0xFF not followed by 0x00 or RSTn).
    while (i + 1 < bytes.length && !(bytes[i] === 0xff && bytes[i + 1] !== 0x00 && !isRestart(bytes[i + 1]!))) i++;
  }
}

/**
 * Counts the scans (SOS segments) of a JPEG. A progressive JPEG is decoded one full pass per scan: real
 * encoders write about 10, while a "scan bomb" of a few KB can carry thousands and cost seconds of CPU per
 * decode, whatever its pixel count. 0 for non-JPEG bytes.
 */
export function countJpegScans(bytes: Buffer): number {
  let scans = 0;
  for (const { marker } of jpegSegments(bytes)) if (marker === 0xda) scans++;
  return scans;
}
