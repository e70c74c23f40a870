import sharp from 'sharp';
import { startStack, type Stack } from '../helpers/stack';
import { get } from '../helpers/http';
import { jpegScanBomb } from '../helpers/images';

/** The service runs with its defaults (MAX_SOURCE_PIXELS 1024 x 1024, RENDER_CONCURRENCY 4). */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { MISS_WAIT_MS: '3000' } });
});
afterAll(() => stack.close());

describe('a progressive JPEG scan bomb', () => {
  it('is refused from its markers before any decode: the bomb and five variants cost under 4 CPU-seconds, and a normal contact is served meanwhile', async () => {
    const bomb = await jpegScanBomb(1024, 2800);
    expect(bomb.length).toBeLessThan(200 * 1024);
    expect(await sharp(bomb).metadata()).toMatchObject({ format: 'jpeg', width: 1024, isProgressive: true });
    stack.green.set('11000095001@c.us', { kind: 'avatar', url: await stack.images.add('scan-bomb', { bytes: bomb }) });
    stack.green.set('11000095002@c.us', { kind: 'avatar', url: await stack.images.add('bystander', { seed: 31 }) });

    const cpuBefore = process.cpuUsage();
    const variants = ['webp', 'png?size=64', 'avif?size=256', 'jpg?size=96', 'webp?size=48', 'png?size=512'];
    const [bystander, ...bombed] = await Promise.all([
      get(stack.url, '/avatar/11000095002.webp'),
      ...variants.map((v) => get(stack.url, `/avatar/11000095001.${v}`)),
    ]);
    const cpu = process.cpuUsage(cpuBefore);

    expect(bystander.headers['x-avatar-status']).toBe('ok');
    for (const res of bombed) expect(res.headers['x-avatar-status']).toBe('error');
    expect((cpu.user + cpu.system) / 1e6).toBeLessThan(4);
    expect(stack.logs.some((l) => /progressive JPEG with \d+ scans, over the limit of 64/.test(String(l.err)))).toBe(true);
    expect(stack.images.downloads('scan-bomb')).toBe(1);
  });

  it('refuses a 2048 x 2048 source by its header with the default pixel limit', async () => {
    const big = await sharp({ create: { width: 2048, height: 2048, channels: 3, background: '#369' } }).jpeg().toBuffer();
    stack.green.set('11000095003@c.us', { kind: 'avatar', url: await stack.images.add('too-big', { bytes: big }) });
    expect((await get(stack.url, '/avatar/11000095003.webp')).headers['x-avatar-status']).toBe('error');
    expect(stack.logs.some((l) => /2048x2048, over the 1048576-pixel limit/.test(String(l.err)))).toBe(true);
  });
});
