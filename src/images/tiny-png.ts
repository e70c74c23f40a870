import { crc32, deflateSync } from 'node:zlib';

/**
 * PNG encoding for images of a few hundred pixels (the blur-up placeholder), in this thread: a sharp
 * pipeline costs a millisecond and more of thread time however small the image, this a few microseconds.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

function paeth(left: number, up: number, upLeft: number): number {
  const p = left + up - upLeft;
  const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
  if (pa <= pb && pa <= pc) return left;
  return pb <= pc ? up : upLeft;
}

/** Averages blocks of pixels so that no side exceeds `maxSide`. */
export function shrinkRgba(rgba: Uint8Array, width: number, height: number, maxSide: number): { rgba: Uint8Array; width: number; height: number } {
  const factor = Math.ceil(Math.max(width, height) / maxSide);
  if (factor <= 1) return { rgba, width, height };
  const [w, h] = [Math.ceil(width / factor), Math.ceil(height / factor)];
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sums = [0, 0, 0, 0];
      let n = 0;
      for (let sy = y * factor; sy < Math.min(height, (y + 1) * factor); sy++) {
        for (let sx = x * factor; sx < Math.min(width, (x + 1) * factor); sx++, n++) {
          for (let c = 0; c < 4; c++) sums[c]! += rgba[(sy * width + sx) * 4 + c]!;
        }
      }
      for (let c = 0; c < 4; c++) out[(y * w + x) * 4 + c] = Math.round(sums[c]! / n);
    }
  }
  return { rgba: out, width: w, height: h };
}

/** An 8-bit PNG of RGBA pixels: RGB when all are opaque, each row Paeth-filtered, deflated at level 9. */
export function encodePng(rgba: Uint8Array, width: number, height: number): Buffer {
  let opaque = true;
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 255) opaque = false;
  const channels = opaque ? 3 : 4;
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let i = 0, o = 0; i < rgba.length; i += 4) for (let c = 0; c < channels; c++) pixels[o++] = rgba[i + c]!;
  const filtered = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    filtered[y * (stride + 1)] = 4; // Paeth
    for (let x = 0; x < stride; x++) {
      const at = (dx: number, dy: number) => (x + dx >= 0 && y + dy >= 0 ? pixels[(y + dy) * stride + x + dx]! : 0);
      filtered[y * (stride + 1) + 1 + x] = (at(0, 0) - paeth(at(-channels, 0), at(0, -1), at(-channels, -1))) & 0xff;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = opaque ? 2 : 6; // truecolour, with alpha or without
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(filtered, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}
