/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Response } from 'playwright-core';
import { describeInBrowser, launchChromium } from '../helpers/browser';
import { avatarResponses } from '../helpers/metrics';
import { startStack, type Stack } from '../helpers/stack';

const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts');

const CONTACTS = ['11001234567', '11003456789', '120363043968066561@g.us'];

describeInBrowser('the demo page in a real browser (Chromium)', () => {
  let stack: Stack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startStack({ env: { DEMO_PAGE: 'true', DEMO_CONTACTS: CONTACTS.join(',') } });
    stack.green.set('11001234567@c.us', { kind: 'avatar', url: await stack.images.add('alice', { seed: 3 }) });
    stack.green.set('11003456789@c.us', { kind: 'not-on-whatsapp' });
    stack.green.set('120363043968066561@g.us', { kind: 'avatar', url: await stack.images.add('team', { seed: 5 }) });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('loads every <img> at the asked size, shows a placeholder for a contact not on WhatsApp, and revalidates on reload', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 2000 } });
    const statuses = new Map<string, string>();
    page.on('response', (res: Response) => {
      const url = new URL(res.url());
      if (url.pathname.startsWith('/avatar/')) statuses.set(decodeURIComponent(url.pathname), res.headers()['x-avatar-status'] ?? '');
    });
    await page.goto(`${stack.url}/`);
    // The first visit resolves cold avatars; wait (bounded) until every image is decoded.
    await page.waitForFunction(() => [...document.images].filter((i) => !i.hidden).every((i) => i.complete && i.naturalWidth > 0), undefined, { timeout: 20_000 });
    const images = await page.$$eval('img:not([hidden])', (all) =>
      all.map((i) => ({ alt: (i as HTMLImageElement).alt, naturalWidth: (i as HTMLImageElement).naturalWidth, naturalHeight: (i as HTMLImageElement).naturalHeight, size: Number(i.dataset.size) })),
    );
    expect(images.length).toBe(CONTACTS.length * 7);
    for (const image of images) {
      expect({ alt: image.alt, width: image.naturalWidth, height: image.naturalHeight }).toEqual({ alt: image.alt, width: image.size, height: image.size });
    }
    // Some first answers may be "pending" while cold; once resolved, reload until every image is final.
    await page.reload();
    await page.waitForFunction(() => [...document.images].filter((i) => !i.hidden).every((i) => i.complete && i.naturalWidth > 0));
    expect(statuses.get('/avatar/11003456789.webp')).toBe('not-on-whatsapp');
    expect(statuses.get('/avatar/11001234567.webp')).toBe('ok');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'demo-page.png'), fullPage: true });

    const before = await avatarResponses(stack.url);
    await page.reload();
    await page.waitForFunction(() => [...document.images].filter((i) => !i.hidden).every((i) => i.complete && i.naturalWidth > 0));
    const after = await avatarResponses(stack.url);
    // Every image came from the browser cache or was revalidated with If-None-Match: no full 200 again.
    expect((after['200'] ?? 0) - (before['200'] ?? 0)).toBe(0);

    // The lookup box shows a typed number's avatar.
    await page.fill('#number', '11001234567');
    await page.press('#number', 'Enter');
    await page.waitForFunction(() => {
      const result = document.getElementById('result') as HTMLImageElement;
      return !result.hidden && result.complete && result.naturalWidth === 96;
    });
    await page.close();
  }, 60_000);
});
