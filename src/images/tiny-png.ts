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

/**
 * Averages blocks of RGB or RGBA pixels so that no side exceeds `maxSide`, as RGBA (RGB made opaque); small
 * RGBA images are returned as they are. Each block's pixels are summed in locals, one row of blocks at a
 * time, straight from the decoder's channels: this runs on the main thread for every new picture (0.10-0.15 ms
 * for 128 px, against 0.21 summing each pixel into arrays after an RGBA copy).
 */
export function shrinkToRgba(data: Uint8Array, width: number, height: number, channels: 3 | 4, maxSide: number): { rgba: Uint8Array; width: number; height: number } {
  const side = Math.max(1, Math.ceil(Math.max(width, height) / maxSide));
  if (side === 1 && channels === 4) return { rgba: data, width, height };
  const w = Math.ceil(width / side);
  const h = Math.ceil(height / side);
  const out = new Uint8Array(w * h * 4);
  const sums = new Uint32Array(w * 4);
  for (let cellY = 0; cellY < h; cellY++) {
    sums.fill(0);
    const top = cellY * side;
    const bottom = Math.min(height, top + side);
    for (let y = top; y < bottom; y++) {
      for (let cellX = 0, x = 0, from = y * width * channels; cellX < w; cellX++) {
        let r = 0;
        let g = 0;
        let b = 0;
        let a = 0;
        for (const end = Math.min(width, x + side); x < end; x++, from += channels) {
          r += data[from]!;
          g += data[from + 1]!;
          b += data[from + 2]!;
          a += channels === 4 ? data[from + 3]! : 255;
        }
        const at = cellX * 4;
        sums[at] += r;
        sums[at + 1] += g;
        sums[at + 2] += b;
        sums[at + 3] += a;
      }
    }
    for (let cellX = 0; cellX < w; cellX++) {
      const count = (bottom - top) * (Math.min(width, (cellX + 1) * side) - cellX * side);
      for (let c = 0, at = cellX * 4, to = (cellY * w + cellX) * 4; c < 4; c++) out[to + c] = Math.round(sums[at + c]! / count);
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
