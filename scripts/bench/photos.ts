import sharp from 'sharp';
import { makeJpeg } from '../../test/fakes/image-host';

/**
 * A photo-like 640 px JPEG, distinct per seed: the fakes' gradient and disc under film-grain noise, about
 * the weight of a real WhatsApp profile picture (tens of KB), so cold work decodes real-sized sources.
 */
export async function photoLike(seed: number): Promise<Buffer> {
  const grain = await sharp({ create: { width: 640, height: 640, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 24 } } })
    .png()
    .toBuffer();
  return sharp(await makeJpeg(seed)).composite([{ input: grain, blend: 'soft-light' }]).jpeg({ quality: 85 }).toBuffer();
}
