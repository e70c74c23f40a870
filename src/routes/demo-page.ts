import { Router } from 'express';
import { parseChatId, requireChatId } from '../avatar/chat-id';
import type { RefreshContact } from './contacts-admin';
import { avatarUrl } from '../client';
import { AppError, badRequest } from '../errors';
import type { PublicIds } from '../ids/public-id';

/**
 * The demo page: each contact as a web app would show it (blur-up from the JSON info, every format and size,
 * srcset), what the service answered (X-Avatar-Status, X-Cache, time), the <img> snippet to copy, and a lookup
 * box. The page's own server signs the URLs it uses, so it works with SIGNING_KEY while the key stays here.
 */

/**
 * What people type: spaces, dashes, dots, parentheses, a leading + or 00 (international prefix) go. A chatId
 * (`120363043968066561@g.us`) is taken as it is.
 */
export function normalizeTyped(input: string): string {
  if (input.includes('@')) return input.trim();
  const compact = input.trim().replace(/[\s\-.()]/g, '');
  if (compact.startsWith('+')) return compact.slice(1);
  if (/^00\d/.test(compact)) return compact.slice(2);
  return compact;
}

const SIZES = [32, 48, 96, 192];
const FORMATS = ['webp', 'avif', 'png', 'jpg'] as const;

interface DemoUrls {
  id: string;
  chatId: string;
  json: string;
  image: string;
  sizes: Record<string, string>;
  formats: Record<string, string>;
}

/** A contact the page shows, with what the demo says it is (`DEMO_CONTACTS=id=label,...`). */
export interface DemoContact {
  id: string;
  label?: string;
}

/** How the page's server makes URLs: signed with the first signing key, opaque ids with ID_KEYS. */
export interface DemoUrlOptions {
  signingKey?: string;
  ids: PublicIds;
}

function urlsFor(id: string, { signingKey, ids }: DemoUrlOptions): DemoUrls {
  const chatId = requireChatId(id);
  const urlId = ids.opaque ? ids.urlId(chatId) : id;
  const url = (format: (typeof FORMATS)[number] | 'json', size: number) => avatarUrl('', urlId, { format, size, key: signingKey });
  return {
    id,
    chatId,
    json: url('json', 128),
    image: url('webp', 128),
    sizes: Object.fromEntries(SIZES.map((size) => [size, url('webp', size)])),
    formats: Object.fromEntries(FORMATS.map((format) => [format, url(format, 64)])),
  };
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
  *, *::before, *::after { box-sizing: border-box; }
  body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 64rem; padding: 1rem; color: #1f2933; background: #f5f7fa; }
  h1 { font-weight: 650; margin: .5rem 0; } h2 { font-size: 1.05rem; margin: 0; }
  p.lead { color: #52606d; margin-top: 0; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(20rem, 100%), 1fr)); gap: 1rem; }
  .card, .lookup { background: #fff; border-radius: .75rem; padding: 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); min-width: 0; }
  .head { display: flex; gap: 1rem; align-items: center; margin-bottom: .75rem; }
  .blur { width: 96px; height: 96px; flex: none; border-radius: 50%; background: #e4e7eb center / cover no-repeat; overflow: hidden; }
  .blur img { width: 96px; height: 96px; display: block; opacity: 0; transition: opacity .4s; }
  .blur img.loaded { opacity: 1; }
  .id { color: #616e7c; font-size: .8rem; overflow-wrap: anywhere; }
  .facts { font-size: .8rem; color: #3e4c59; margin: .25rem 0 0; }
  .facts b { font-weight: 600; }
  .row { display: flex; flex-wrap: wrap; align-items: flex-end; gap: .6rem; margin: .5rem 0; }
  .row img { border-radius: 50%; background: #e4e7eb; max-width: 100%; height: auto; }
  figure { margin: 0; text-align: center; } figcaption { font-size: .7rem; color: #616e7c; }
  pre { background: #1f2933; color: #f5f7fa; padding: .5rem .75rem; border-radius: .5rem; font-size: .72rem; white-space: pre-wrap; overflow-wrap: anywhere; margin: .5rem 0 0; }
  .lookup { margin-bottom: 1rem; }
  .lookup form { display: flex; flex-wrap: wrap; gap: .5rem; }
  .lookup input { flex: 1 1 12rem; min-width: 0; font-size: 1rem; padding: .5rem .75rem; border: 1px solid #cbd2d9; border-radius: .5rem; }
  .lookup button { font-size: 1rem; padding: .5rem 1rem; border: 0; border-radius: .5rem; background: #2680c2; color: #fff; cursor: pointer; }
  .answer { display: flex; gap: 1rem; align-items: center; margin-top: .75rem; min-height: 1.5rem; }
  .about { font-size: .8rem; color: #52606d; margin: .1rem 0 0; font-style: italic; }
  button.again { font-size: .8rem; padding: .25rem .6rem; border: 1px solid #cbd2d9; border-radius: .5rem; background: #fff; cursor: pointer; }
  .error { color: #ab091e; }
  code { background: #e4e7eb; padding: 0 .25rem; border-radius: .25rem; overflow-wrap: anywhere; }
`;

/** Runs in the browser: fills each card from the service's JSON info and headers, and drives the lookup box. */
const SCRIPT = `
  var CASES = { ok: 'Has a picture', 'no-avatar': 'On WhatsApp, no picture', 'private': 'Picture hidden (privacy settings)',
    'not-on-whatsapp': 'Not on WhatsApp', pending: 'Still looking it up', error: 'Lookup failed', 'rate-limited': 'Too many lookups, retry later' };
  function label(status, chatId) {
    var text = CASES[status] || status;
    return chatId.slice(-5) === '@g.us' && status === 'ok' ? 'A group with a picture' : text;
  }
  function snippet(urls) {
    return '<img src="' + location.origin + urls.sizes['96'] + '"\\n     srcset="' + location.origin + urls.sizes['192'] + ' 2x"\\n     width="96" height="96" alt="">';
  }
  async function show(card, urls) {
    var started = performance.now();
    // Revalidated every time: a real round trip (a 304 once the browser has the picture).
    var response = await fetch(urls.image, { cache: 'no-cache' });
    var ms = Math.round(performance.now() - started);
    var info = await (await fetch(urls.json)).json();
    var status = response.headers.get('X-Avatar-Status');
    card.querySelector('.case').textContent = label(status, urls.chatId);
    card.querySelector('.status').textContent = status;
    card.querySelector('.cache').textContent = response.headers.get('X-Cache');
    card.querySelector('.ms').textContent = ms + ' ms';
    card.querySelector('.color').textContent = info.color;
    card.querySelector('.etag').textContent = response.headers.get('ETag');
    card.dataset.status = status;
    // Blur-up: the JSON's placeholder first, the picture fades in over it.
    var blur = card.querySelector('.blur');
    if (info.placeholder) blur.style.backgroundImage = 'url(' + info.placeholder + ')';
    var img = blur.querySelector('img');
    img.onload = function () { img.classList.add('loaded'); };
    img.srcset = urls.sizes['96'] + ' 1x, ' + urls.sizes['192'] + ' 2x';
    img.src = urls.sizes['96'];
    card.querySelector('pre').textContent = snippet(urls);
  }
  // A new picture under the same URL: the browser keeps the old one for max-age, so each image is fetched past
  // its cache (which that also updates) and shown from the bytes.
  async function reloadImages(card) {
    await Promise.all([...card.querySelectorAll('img[data-src]')].map(async function (img) {
      var blob = await (await fetch(img.dataset.src, { cache: 'reload' })).blob();
      img.removeAttribute('srcset');
      img.src = URL.createObjectURL(blob);
      await img.decode();
    }));
  }
  const pause = function (ms) { return new Promise(function (done) { setTimeout(done, ms); }); };
  async function lookUpAgain(card, urls) {
    var before = card.querySelector('.etag').textContent;
    card.querySelector('.case').textContent = 'Looking up again...';
    var res = await fetch('/demo/refresh?id=' + encodeURIComponent(urls.chatId), { method: 'POST' });
    if (!res.ok) { card.querySelector('.case').textContent = (await res.json()).error.message; return; }
    // The lookup runs in the background: ask (past every cache) until the ETag moves, for 10 s at most.
    var etag = before;
    for (var deadline = Date.now() + 10000; Date.now() < deadline && etag === before; await pause(300)) {
      etag = (await fetch(urls.image, { cache: 'no-store' })).headers.get('ETag');
    }
    // The browser's own copies too (the card's image and JSON): a reload of the page shows the new picture.
    await Promise.all([reloadImages(card), fetch(urls.image, { cache: 'reload' }), fetch(urls.json, { cache: 'reload' })]);
    card.querySelector('.etag').textContent = etag;
    card.querySelector('.case').textContent = etag !== before ? 'Changed its picture: new ETag' : 'Looked up again: no change';
    card.dataset.changed = etag !== before ? 'yes' : 'no';
  }
  document.querySelectorAll('.card').forEach(function (card) {
    var urls = JSON.parse(card.dataset.urls);
    show(card, urls).catch(function (err) { card.querySelector('.case').textContent = 'Could not load: ' + err.message; });
    card.querySelector('.again').addEventListener('click', function () {
      lookUpAgain(card, urls).catch(function (err) { card.querySelector('.case').textContent = 'Could not look up: ' + err.message; });
    });
  });
  var form = document.getElementById('lookup');
  form.addEventListener('submit', async function (event) {
    event.preventDefault();
    var out = document.getElementById('answer');
    var typed = document.getElementById('number').value;
    out.innerHTML = '';
    var res = await fetch('/demo/urls?id=' + encodeURIComponent(typed));
    var body = await res.json();
    if (!res.ok) {
      var error = document.createElement('span');
      error.className = 'error';
      error.id = 'lookup-error';
      error.textContent = body.error.message;
      out.appendChild(error);
      return;
    }
    var img = document.createElement('img');
    img.id = 'result';
    img.width = 96; img.height = 96; img.alt = body.id;
    img.srcset = body.sizes['96'] + ' 1x, ' + body.sizes['192'] + ' 2x';
    img.src = body.sizes['96'];
    var text = document.createElement('span');
    text.id = 'lookup-text';
    text.textContent = 'Looking up ' + body.chatId + '...';
    out.appendChild(img);
    out.appendChild(text);
    var info = await (await fetch(body.json)).json();
    text.textContent = body.chatId + ': ' + label(info.status, body.chatId);
    text.dataset.status = info.status;
  });
`;

export function renderDemoPage(contacts: DemoContact[], options: DemoUrlOptions): string {
  const cards = contacts
    .map(({ id, label }) => {
      const urls = urlsFor(id, options);
      return `<section class="card" data-urls="${escape(JSON.stringify(urls))}">
  <div class="head">
    <div class="blur"><img alt="${escape(id)} 96px" width="96" height="96" data-src="${escape(urls.sizes[96] ?? urls.image)}"></div>
    <div>
      <h2 class="case">Loading...</h2>
      <div class="id">${escape(urls.chatId)}</div>${label ? `\n      <p class="about">${escape(label)}</p>` : ''}
      <p class="facts">X-Avatar-Status <b class="status"></b> · X-Cache <b class="cache"></b> · <b class="ms"></b> · colour <b class="color"></b> · ETag <b class="etag"></b></p>
      <button class="again" type="button">Look up again</button>
    </div>
  </div>
  <div class="row">${SIZES.map((size) => `<figure><img src="${escape(urls.sizes[size]!)}" data-src="${escape(urls.sizes[size]!)}" srcset="${escape(urls.sizes[size]!)} 1x, ${escape(urls.sizes[Math.min(size * 2, 192)] ?? urls.sizes[192]!)} 2x" width="${size}" height="${size}" data-size="${size}" loading="lazy" alt="${escape(id)} webp ${size}px"><figcaption>${size}px</figcaption></figure>`).join('')}</div>
  <div class="row">${FORMATS.map((format) => `<figure><img src="${escape(urls.formats[format]!)}" data-src="${escape(urls.formats[format]!)}" width="64" height="64" data-size="64" loading="lazy" alt="${escape(id)} ${format} 64px"><figcaption>${format}</figcaption></figure>`).join('')}</div>
  <pre></pre>
</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>avatar-cdn demo</title>
<style>${STYLE}</style>
</head>
<body>
<h1>avatar-cdn</h1>
<p class="lead">WhatsApp avatars as stable image URLs: <code>&lt;img src="/avatar/&lt;id&gt;.webp?size=96"&gt;</code>, any size and format, a placeholder when there is no picture, and <code>/avatar/&lt;id&gt;.json</code> for blur-up.</p>
<div class="lookup">
  <form id="lookup">
    <input id="number" autocomplete="off" placeholder="A phone number, e.g. +1 (100) 123-4567" aria-label="phone number">
    <button type="submit">Look up</button>
  </form>
  <div class="answer" id="answer" aria-live="polite"></div>
</div>
<div class="grid">
${cards}
</div>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

export function demoPageRouter(contacts: DemoContact[], options: DemoUrlOptions, refresh: RefreshContact): Router {
  const page = renderDemoPage(contacts, options);
  const router = Router();
  router.get('/', (_req, res) => {
    res
      .set('Content-Security-Policy', "default-src 'none'; img-src 'self' data: blob:; connect-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'none'")
      // Revalidated on every visit: the page changes with the service.
      .set('Cache-Control', 'no-cache')
      .type('html')
      .send(page);
  });
  // The lookup box asks here: the id as typed, normalised, with the URLs to fetch (signed when signing is on).
  // With signing on, only the demo contacts: signing whatever is typed would make this page a signing oracle.
  const demoChatIds = new Set(contacts.map(({ id }) => requireChatId(id)));
  // "Look up again" on a card: a refresh of that demo contact (no other: the page is public).
  router.post('/demo/refresh', async (req, res) => {
    const typed = typeof req.query.id === 'string' ? req.query.id : '';
    const chatId = parseChatId(typed);
    if (!chatId || !demoChatIds.has(chatId)) throw new AppError(403, 'not_a_demo_contact', 'the demo page looks up DEMO_CONTACTS again, no other id');
    await refresh(chatId);
    res.status(202).set('Cache-Control', 'no-store').json({ chatId, refresh: 'queued' });
  });
  router.get('/demo/urls', (req, res) => {
    const typed = typeof req.query.id === 'string' ? req.query.id : '';
    if (!typed.trim()) throw badRequest('invalid_chat_id', 'type a phone number with its country code, e.g. +1 100 123 4567');
    const id = normalizeTyped(typed);
    if (options.signingKey && !demoChatIds.has(requireChatId(id))) {
      throw new AppError(403, 'not_a_demo_contact', 'with signing keys set, the demo page signs URLs for DEMO_CONTACTS only');
    }
    res.set('Cache-Control', 'no-store').json(urlsFor(id, options));
  });
  return router;
}
