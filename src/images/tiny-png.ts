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
  const pa = Math.abs(p - left);
  const pb = Math.abs(p - up);
  const pc = Math.abs(p - upLeft);
  if (pa <= pb && pa <= pc) return left;
  return pb <= pc ? up : upLeft;
}

/** Averages blocks of pixels so that no side exceeds `maxSide`. */
export function shrinkRgba(rgba: Uint8Array, width: number, height: number, maxSide: number): { rgba: Uint8Array; width: number; height: number } {
  const factor = Math.ceil(Math.max(width, height) / maxSide);
  if (factor <= 1) return { rgba, width, height };
  const [w, h] = [Math.ceil(width / factor), Math.ceil(height / factor)];
  // Plain loops over typed arrays: this runs on the main thread for every new picture.
  const sums = new Uint32Array(w * h * 4);
  const counts = new Uint32Array(w * h);
  for (let y = 0, from = 0; y < height; y++) {
    const row = Math.floor(y / factor) * w;
    for (let x = 0, cell = row, left = factor; x < width; x++, from += 4) {
      const at = cell * 4;
      sums[at] += rgba[from]!;
      sums[at + 1] += rgba[from + 1]!;
      sums[at + 2] += rgba[from + 2]!;
      sums[at + 3] += rgba[from + 3]!;
      counts[cell]!++;
      if (--left === 0) {
        cell++;
        left = factor;
      }
    }
  }
  const out = new Uint8Array(w * h * 4);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(sums[i]! / counts[i >> 2]!);
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
      const at = y * stride + x;
      const left = x >= channels ? pixels[at - channels]! : 0;
      const up = y > 0 ? pixels[at - stride]! : 0;
      const upLeft = x >= channels && y > 0 ? pixels[at - stride - channels]! : 0;
      filtered[y * (stride + 1) + 1 + x] = (pixels[at]! - paeth(left, up, upLeft)) & 0xff;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per channel
  header[9] = opaque ? 2 : 6; // truecolour, with alpha or without
  return Buffer.concat([SIGNATURE, chunk('IHDR', header), chunk('IDAT', deflateSync(filtered, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}
