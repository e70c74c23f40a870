import { Router } from 'express';
import { avatarUrl as clientUrl } from '../client';

const SIZES = [48, 96, 192] as const;
const FORMATS = ['webp', 'avif', 'png', 'jpg'] as const;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const avatarUrl = (id: string, format: string, size: number, signingKey?: string): string =>
  clientUrl('', id, { format: format as 'webp', size, key: signingKey });

function img(id: string, format: string, size: number, signingKey?: string): string {
  const src = escape(avatarUrl(id, format, size, signingKey));
  const src2x = escape(avatarUrl(id, format, Math.min(size * 2, 640), signingKey));
  return `<img src="${src}" srcset="${src} 1x, ${src2x} 2x" width="${size}" height="${size}" data-size="${size}" loading="lazy" alt="${escape(id)} ${format} ${size}px">`;
}

/** A small page showing contacts' avatars at several sizes and formats, and a box to look up a number. */
export function renderDemoPage(contacts: string[], signingKey?: string): string {
  const cards = contacts
    .map(
      (id) => `<section class="card">
  <h2>${escape(id)}</h2>
  <div class="row">${SIZES.map((size) => img(id, 'webp', size, signingKey)).join('')}</div>
  <div class="row formats">${FORMATS.map((format) => `<figure>${img(id, format, 64, signingKey)}<figcaption>${format}</figcaption></figure>`).join('')}</div>
</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>avatar-cdn demo</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1f2933; background: #f5f7fa; }
  h1 { font-weight: 600; } h2 { font-size: 1rem; font-weight: 600; margin: 0 0 .75rem; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1rem; }
  .card, form { background: #fff; border-radius: .75rem; padding: 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
  .row { display: flex; align-items: flex-end; gap: .75rem; margin-bottom: .75rem; }
  img { border-radius: 50%; background: #e4e7eb; }
  figure { margin: 0; text-align: center; } figcaption { font-size: .75rem; color: #616e7c; }
  form { display: flex; gap: .75rem; align-items: center; margin-bottom: 1rem; }
  input { flex: 1; font-size: 1rem; padding: .5rem .75rem; border: 1px solid #cbd2d9; border-radius: .5rem; }
  code { background: #e4e7eb; padding: 0 .25rem; border-radius: .25rem; }
</style>
</head>
<body>
<h1>avatar-cdn</h1>
<p>Each picture is an <code>&lt;img&gt;</code> pointing at <code>/avatar/&lt;id&gt;.&lt;format&gt;?size=N</code>.</p>
<form id="lookup">
  <input id="number" inputmode="numeric" placeholder="Phone number, e.g. 11001234567" aria-label="phone number">
  <img id="result" width="96" height="96" alt="" hidden>
</form>
<div class="grid">
${cards}
</div>
<script>
  document.getElementById('lookup').addEventListener('submit', function (event) {
    event.preventDefault();
    var id = document.getElementById('number').value.replace(/[^0-9@a-z.-]/gi, '');
    var result = document.getElementById('result');
    result.src = '/avatar/' + encodeURIComponent(id) + '.webp?size=96';
    result.hidden = false;
  });
</script>
</body>
</html>
`;
}

export function demoPageRouter(contacts: string[], signingKey?: string): Router {
  const page = renderDemoPage(contacts, signingKey);
  const router = Router();
  router.get('/', (_req, res) => {
    res
      .set('Content-Security-Policy', "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'none'")
      // Revalidated on every visit: the page changes with the service.
      .set('Cache-Control', 'no-cache')
      .type('html')
      .send(page);
  });
  return router;
}
