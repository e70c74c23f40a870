import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { spawnService } from '../helpers/service-process';
import { fakeUpstreamEnv, ManualClock, startFakes, startStack, type Stack } from '../helpers/stack';
import { errorOf, get } from '../helpers/http';

/** How much an image varies: 0 for a flat colour. */
async function spread(image: Buffer): Promise<number> {
  const { channels } = await sharp(image).stats();
  return Math.max(...channels.slice(0, 3).map((c) => c.stdev));
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
  stack.green.set('11009100001@c.us', { kind: 'no-avatar' });
});
afterAll(() => stack.close());

describe('?d= placeholders', () => {
  it('blank is the background colour alone; mp (the default) the silhouette; initials letters on the same colour', async () => {
    const blank = await get(stack.url, '/avatar/11009100001.png?size=96&d=blank');
    expect(blank.headers['x-avatar-status']).toBe('no-avatar');
    expect(await spread(blank.body as Buffer)).toBeLessThan(1);
    const silhouette = await get(stack.url, '/avatar/11009100001.png?size=96');
    expect(await spread(silhouette.body as Buffer)).toBeGreaterThan(10);
    const initials = await get(stack.url, '/avatar/11009100001.png?size=96&d=initials&name=Jane%20Doe');
    expect(await spread(initials.body as Buffer)).toBeGreaterThan(10);
    const etags = new Set([blank, silhouette, initials].map((r) => r.headers['etag']));
    expect(etags.size).toBe(3);
    expect(await sharp(initials.body as Buffer).metadata()).toMatchObject({ width: 96, height: 96, format: 'png' });
  });

  it('draws the same initials once, whether from name= or initials=, and different letters differently', async () => {
    const fromName = await get(stack.url, '/avatar/11009100001.webp?d=initials&name=Jane%20Doe');
    const fromInitials = await get(stack.url, '/avatar/11009100001.webp?d=initials&initials=jd');
    expect(fromInitials.headers['etag']).toBe(fromName.headers['etag']);
    expect(Buffer.compare(fromName.body as Buffer, fromInitials.body as Buffer)).toBe(0);
    const cyrillic = await get(stack.url, `/avatar/11009100001.webp?d=initials&name=${encodeURIComponent('Ольга Петрова')}`);
    expect(cyrillic.headers['etag']).not.toBe(fromName.headers['etag']);
    // Without a name or letters, initials fall back to the silhouette.
    const none = await get(stack.url, '/avatar/11009100001.webp?d=initials');
    expect(none.headers['etag']).toBe((await get(stack.url, '/avatar/11009100001.webp')).headers['etag']);
  });

  it('initials never end in a 500: stacked marks fit, ßß is SS, scripts the font lacks get the silhouette', async () => {
    const silhouette = (await get(stack.url, '/avatar/11009100001.png?size=32')).headers['etag'];
    const stacked = await get(stack.url, `/avatar/11009100001.png?size=32&d=initials&initials=${encodeURIComponent(`A${'\u0301'.repeat(12)}`)}`);
    expect(stacked.status).toBe(200);
    expect(await sharp(stacked.body as Buffer).metadata()).toMatchObject({ width: 32, height: 32 });
    expect(stacked.headers['etag']).not.toBe(silhouette);
    const eszett = await get(stack.url, `/avatar/11009100001.png?size=32&d=initials&initials=${encodeURIComponent('ßß')}`);
    expect(eszett.headers['etag']).toBe((await get(stack.url, '/avatar/11009100001.png?size=32&d=initials&initials=SS')).headers['etag']);
    for (const name of ['राहुल शर्मा', 'สมชาย ใจดี', '李 小龍']) {
      const res = await get(stack.url, `/avatar/11009100001.png?size=32&d=initials&name=${encodeURIComponent(name)}`);
      expect(res.status).toBe(200);
      expect(res.headers['etag']).toBe(silhouette);
    }
  });

  it('d=404 answers 404 like fallback=404; a contact with a picture shows it whatever d says', async () => {
    const missing = await get(stack.url, '/avatar/11009100001.webp?d=404');
    expect(missing.status).toBe(404);
    expect(errorOf(missing).code).toBe('no_avatar');
    stack.green.set('11009100002@c.us', { kind: 'avatar', url: await stack.images.add('d-ignored') });
    for (const d of ['initials&name=Jane', 'blank', '404', 'mp']) {
      const res = await get(stack.url, `/avatar/11009100002.webp?d=${d}`);
      expect(res.status).toBe(200);
      expect(res.headers['x-avatar-status']).toBe('ok');
    }
  });

  it.each([
    ['?d=identicon', 'invalid_placeholder'],
    ['?d=mp&d=blank', 'invalid_query'],
    ['?name=Jane', 'invalid_query'],
    ['?d=blank&initials=JD', 'invalid_query'],
    [`?d=initials&name=${'x'.repeat(65)}`, 'invalid_name'],
  ])('%s is 400 %s', async (query, code) => {
    const res = await get(stack.url, `/avatar/11009100001.webp${query}`);
    expect(res.status).toBe(400);
    expect(errorOf(res).code).toBe(code);
  });
});

describe('initials on a machine without fonts', () => {
  it('are drawn with the font shipped in the package (fontconfig sees no system font)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'no-fonts-'));
    const config = path.join(dir, 'fonts.conf');
    // A fontconfig with no font directories: as on a slim Docker image or a fresh CI machine.
    writeFileSync(config, `<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig><cachedir>${dir}/cache</cachedir></fontconfig>`);
    const fakes = await startFakes();
    fakes.green.set('11009100003@c.us', { kind: 'no-avatar' });
    const service = spawnService({ ...fakeUpstreamEnv(fakes, fakes.prefix), FONTCONFIG_FILE: config, LOG_LEVEL: 'info' });
    try {
      const url = await service.ready();
      const latin = await get(url, '/avatar/11009100003.png?size=128&d=initials&name=Jane%20Doe');
      const cyrillic = await get(url, `/avatar/11009100003.png?size=128&d=initials&name=${encodeURIComponent('Ольга Петрова')}`);
      const blank = await get(url, '/avatar/11009100003.png?size=128&d=blank');
      for (const res of [latin, cyrillic]) {
        expect(res.status).toBe(200);
        expect(await spread(res.body as Buffer)).toBeGreaterThan(10);
      }
      // White letter strokes: a real share of the image is much lighter than the background.
      const lightShare = async (image: Buffer) => {
        const { data } = await sharp(image).greyscale().raw().toBuffer({ resolveWithObject: true });
        return data.filter((v) => v > 200).length / data.length;
      };
      expect(await lightShare(latin.body as Buffer)).toBeGreaterThan(0.04);
      expect(await lightShare(cyrillic.body as Buffer)).toBeGreaterThan(0.04);
      expect(await lightShare(blank.body as Buffer)).toBe(0);
      expect(Buffer.compare(latin.body as Buffer, cyrillic.body as Buffer)).not.toBe(0);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
      await fakes.close();
    }
  });
});

describe('new initials are renders: RENDER_RATE_PER_MIN counts them, cached ones are free', () => {
  it('past the budget a request gets 429 with the silhouette and nothing is drawn', async () => {
    const limited = await startStack({ env: { RENDER_RATE_PER_MIN: '3', TRUST_PROXY: 'true' }, clock: new ManualClock().now });
    try {
      limited.green.set('11009100010@c.us', { kind: 'no-avatar' });
      const from = { 'X-Forwarded-For': '203.0.113.7' };
      const ask = (letters: string) => get(limited.url, `/avatar/11009100010.avif?size=640&d=initials&initials=${letters}`, from);
      const silhouette = (await get(limited.url, '/avatar/11009100010.avif?size=640', from)).headers['etag'];
      for (const letters of ['AB', 'CD', 'EF']) expect((await ask(letters)).status).toBe(200);
      const refused = await ask('GH');
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
      expect(refused.headers['etag']).toBe(silhouette);
      // Drawn before: free, however often.
      for (let i = 0; i < 5; i++) expect((await ask('AB')).status).toBe(200);
      // Another client has a budget of its own.
      expect((await get(limited.url, '/avatar/11009100010.avif?size=640&d=initials&initials=GH', { 'X-Forwarded-For': '203.0.113.8' })).status).toBe(200);
    } finally {
      await limited.close();
    }
  }, 60_000);
});
