/// <reference lib="dom" />
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { describeInBrowser, launchChromium } from '../helpers/browser';
import { startStack, type Stack } from '../helpers/stack';

/** A page on another origin (another loopback port) that uses the service as a web app would. */
async function appOrigin(): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>app</title><canvas id="c" width="64" height="64"></canvas>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://localhost:${(server.address() as AddressInfo).port}`, server };
}

describeInBrowser('CORS from another origin, in Chromium', () => {
  let browser: Browser;
  let app: Awaited<ReturnType<typeof appOrigin>>;
  beforeAll(async () => {
    browser = await launchChromium();
    app = await appOrigin();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => app.server.close(resolve));
  });

  async function fromTheApp(service: string, id: string) {
    const page = await browser.newPage();
    await page.goto(app.url);
    const result = await page.evaluate(
      async ({ service, id }) => {
        const out: Record<string, unknown> = {};
        try {
          const res = await fetch(`${service}/avatar/${id}.json?size=64`);
          out.json = (await res.json()).status;
          out.statusHeader = res.headers.get('X-Avatar-Status');
        } catch (err) {
          out.json = `failed: ${(err as Error).name}`;
        }
        const img = new Image();
        img.crossOrigin = 'anonymous';
        img.src = `${service}/avatar/${id}.png?size=64`;
        try {
          // A crossorigin image that CORS does not allow does not load at all.
          await img.decode();
          const ctx = (document.getElementById('c') as HTMLCanvasElement).getContext('2d')!;
          ctx.drawImage(img, 0, 0);
          out.pixel = [...ctx.getImageData(32, 32, 1, 1).data];
        } catch (err) {
          out.pixel = `failed: ${(err as Error).name}`;
        }
        return out;
      },
      { service, id },
    );
    await page.close();
    return result;
  }

  it('a page on another origin fetches the JSON and reads the image pixels from a canvas', async () => {
    const stack: Stack = await startStack();
    try {
      stack.green.set('11009300001@c.us', { kind: 'avatar', url: await stack.images.add('canvas', { seed: 9 }) });
      const result = await fromTheApp(stack.url, '11009300001');
      expect(result.json).toBe('ok');
      expect(result.statusHeader).toBe('ok');
      expect(Array.isArray(result.pixel) && (result.pixel as number[])[3]).toBe(255);
    } finally {
      await stack.close();
    }
  }, 60_000);

  it('a page on another origin reads the JSON error of a bad request (400, no-store)', async () => {
    const stack: Stack = await startStack();
    try {
      const page = await browser.newPage();
      await page.goto(app.url);
      const result = await page.evaluate(async (service) => {
        const res = await fetch(`${service}/avatar/not-an-id.webp?size=64`);
        return { status: res.status, cacheControl: res.headers.get('Cache-Control'), code: (await res.json()).error.code };
      }, stack.url);
      await page.close();
      expect(result).toEqual({ status: 400, cacheControl: 'no-store', code: 'invalid_chat_id' });
    } finally {
      await stack.close();
    }
  }, 60_000);

  it('with CORS_ORIGINS not listing the page, the browser keeps the JSON and the pixels from it', async () => {
    const stack: Stack = await startStack({ env: { CORS_ORIGINS: 'https://crm.example.com' } });
    try {
      stack.green.set('11009300002@c.us', { kind: 'no-avatar' });
      const result = await fromTheApp(stack.url, '11009300002');
      expect(result.json).toBe('failed: TypeError');
      expect(result.pixel).toBe('failed: EncodingError');
    } finally {
      await stack.close();
    }
  }, 60_000);
});
