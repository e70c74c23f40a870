/// <reference lib="dom" />
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { Redis } from 'ioredis';
import { describeInBrowser, launchChromium } from '../helpers/browser';
import { avatarResponses } from '../helpers/metrics';
import { freePort } from '../helpers/redis-server';
import { deletePrefix, REDIS_URL } from '../helpers/stack';

const ROOT = path.resolve(__dirname, '../..');
const ARTIFACTS = path.resolve(ROOT, 'test-artifacts');

/** What each demo contact's card must say, from the status the service answered. */
const EXPECTED: Record<string, [status: string, label: string]> = {
  '11001234567@c.us': ['ok', 'Has a picture'],
  '11005550124@c.us': ['ok', 'Has a picture'],
  '120363043968066561@g.us': ['ok', 'A group with a picture'],
  '11002345678@c.us': ['no-avatar', 'On WhatsApp, no picture'],
  '6591234567@c.us': ['private', 'Picture hidden (privacy settings)'],
  '6281234567890@c.us': ['not-on-whatsapp', 'Not on WhatsApp'],
};

/** `npm run demo` as a newcomer runs it (the script itself, on a free port, under a key prefix of its own). */
async function startDemo(env: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess; prefix: string }> {
  const port = await freePort();
  const prefix = `demo-test-${randomBytes(3).toString('hex')}`;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/demo.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', REDIS_URL, PORT: String(port), KEY_PREFIX: prefix, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ctrl+C to stop.')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`demo exited (${code}): ${out}`)));
  });
  return { url: `http://localhost:${port}`, child, prefix };
}

async function stopDemo(demo: { child: ChildProcess; prefix: string }): Promise<void> {
  const exited = new Promise((resolve) => demo.child.once('exit', resolve));
  demo.child.kill('SIGTERM');
  await exited;
  const redis = new Redis(REDIS_URL);
  await deletePrefix(redis, demo.prefix);
  await redis.quit();
}

/** Every card filled from the service's answers, and every image decoded. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll<HTMLElement>('.card')].every((c) => c.dataset.status && c.dataset.status !== 'pending') &&
      [...document.images].every((i) => i.complete && i.naturalWidth > 0),
    undefined,
    { timeout: 30_000 },
  );
}

async function lookUp(page: Page, typed: string, submit: 'Enter' | 'button'): Promise<void> {
  await page.fill('#number', typed);
  if (submit === 'Enter') await page.press('#number', 'Enter');
  else await page.click('.lookup button');
}

describeInBrowser('the demo page in a real browser (Chromium), as `npm run demo` serves it', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('labels every case with the status the service answered, shows every size and format, and looks up what people type', async () => {
    const demo = await startDemo();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${demo.url}/`);
      await settled(page);
      const cards = await page.$$eval('.card', (all) =>
        all.map((c) => ({
          chatId: c.querySelector('.id')!.textContent!,
          label: c.querySelector('.case')!.textContent!,
          status: c.querySelector('.status')!.textContent!,
          cache: c.querySelector('.cache')!.textContent!,
          ms: c.querySelector('.ms')!.textContent!,
          blur: (c.querySelector('.blur') as HTMLElement).style.backgroundImage,
          snippet: c.querySelector('pre')!.textContent!,
        })),
      );
      expect(cards.map((c) => c.chatId).sort()).toEqual(Object.keys(EXPECTED).sort());
      for (const card of cards) {
        const [status, label] = EXPECTED[card.chatId]!;
        expect({ chatId: card.chatId, status: card.status, label: card.label }).toEqual({ chatId: card.chatId, status, label });
        expect(card.cache).toMatch(/^(HIT|MISS|STALE)$/);
        expect(card.ms).toMatch(/^\d+ ms$/);
        // Blur-up from the JSON's placeholder, and the snippet to copy.
        expect(card.blur).toContain('data:image/png;base64,');
        expect(card.snippet).toContain(`<img src="${demo.url}/avatar/`);
      }
      // Every image at the size it asks for, in every format.
      const images = await page.$$eval('img[data-size]', (all) => all.map((i) => ({ size: Number((i as HTMLElement).dataset.size), width: (i as HTMLImageElement).naturalWidth })));
      expect(images.length).toBe(cards.length * 8);
      for (const image of images) expect(image.width).toBe(image.size);

      // The lookup box: what people type, with Enter or the button; an error in words.
      await lookUp(page, '+1 (100) 123-4567', 'Enter');
      await page.waitForFunction(() => (document.getElementById('lookup-text') as HTMLElement | null)?.dataset.status === 'ok');
      expect(await page.textContent('#lookup-text')).toBe('11001234567@c.us: Has a picture');
      expect(await page.$eval('#result', (i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth)).toBe(96);
      await lookUp(page, '0065 9123 4567', 'button');
      await page.waitForFunction(() => (document.getElementById('lookup-text') as HTMLElement | null)?.dataset.status === 'private');
      expect(await page.textContent('#lookup-text')).toBe('6591234567@c.us: Picture hidden (privacy settings)');
      await lookUp(page, 'hello', 'button');
      await page.waitForSelector('#lookup-error');
      expect(await page.textContent('#lookup-error')).toMatch(/phone number with its country code/);

      // The changing contact is labelled as such; "Look up again" shows its new picture and ETag, no hard reload.
      const changing = page.locator('.card', { hasText: '11005550124@c.us' });
      expect(await changing.locator('.about').textContent()).toBe('changes its picture at each lookup');
      const etagBefore = await changing.locator('.etag').textContent();
      const browserCopy = () => page.evaluate(async (url) => (await fetch(url)).headers.get('ETag'), `${demo.url}/avatar/11005550124.webp?size=96`);
      const copyBefore = await browserCopy();
      await changing.locator('button.again').click();
      await page.waitForFunction(() => [...document.querySelectorAll<HTMLElement>('.card')].some((c) => c.dataset.changed), undefined, { timeout: 15_000 });
      expect(await changing.getAttribute('data-changed')).toBe('yes');
      expect(await changing.locator('.case').textContent()).toBe('Changed its picture: new ETag');
      const etagAfter = await changing.locator('.etag').textContent();
      expect(etagAfter).not.toBe(etagBefore);
      // Shown from the new bytes (a 96 px picture; naturalWidth would still carry the old srcset's density).
      const shown = await changing.locator('.blur img').evaluate(async (i) => ({ src: (i as HTMLImageElement).src, width: (await createImageBitmap(i as HTMLImageElement)).width }));
      expect(shown.src.startsWith('blob:')).toBe(true);
      expect(shown.width).toBe(96);
      // The browser's own copy is the new one too.
      expect(await browserCopy()).not.toBe(copyBefore);

      // A reload revalidates: no image is sent in full again.
      const before = await avatarResponses(demo.url);
      await page.reload();
      await settled(page);
      const after = await avatarResponses(demo.url);
      expect((after['200'] ?? 0) - (before['200'] ?? 0)).toBe(0);

      // On a 390 px phone screen nothing overflows.
      await page.setViewportSize({ width: 390, height: 844 });
      const widest = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, ...[...document.querySelectorAll('.card, .lookup, pre')].map((e) => e.getBoundingClientRect().right)));
      expect(widest).toBeLessThanOrEqual(390);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'demo-page-390.png'), fullPage: true });
      await page.setViewportSize({ width: 1200, height: 900 });
      await page.screenshot({ path: path.join(ARTIFACTS, 'demo-page.png'), fullPage: true });
      await page.close();
    } finally {
      await stopDemo(demo);
    }
  }, 90_000);

  it('works with SIGNING_KEY set: the page signs its URLs, the key never reaches the browser', async () => {
    const key = 'demo-signing-key-0123456789';
    const demo = await startDemo({ SIGNING_KEY: key });
    try {
      const page = await browser.newPage();
      const seen: string[] = [];
      page.on('response', (res) => seen.push(res.url()));
      await page.goto(`${demo.url}/`);
      await settled(page);
      expect(await page.$$eval('.card .case', (all) => all.map((e) => e.textContent))).not.toContain('Could not load');
      await lookUp(page, '+1 100 123 4567', 'Enter');
      await page.waitForFunction(() => (document.getElementById('lookup-text') as HTMLElement | null)?.dataset.status === 'ok');
      expect(seen.filter((u) => u.includes('/avatar/')).every((u) => u.includes('sig='))).toBe(true);
      expect(await page.content()).not.toContain(key);
      await page.close();
    } finally {
      await stopDemo(demo);
    }
  }, 90_000);
});
