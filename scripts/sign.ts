/**
 * `npm run sign -- 11001234567 --size 64 --format webp [--expires-in 3600] [--base-url https://avatars.example.com]`
 * Prints a signed avatar URL. The key comes from --key, or the first of SIGNING_KEYS, or SIGNING_KEY. With
 * --id-key or ID_KEYS, the URL names the contact by its opaque id (p-<token>) instead of its number.
 */
import { Command, InvalidArgumentError } from 'commander';
import { parseChatId } from '../src/avatar/chat-id';
import { parseFormat } from '../src/avatar/variant';
import { avatarUrl } from '../src/client';

const program = new Command('sign')
  .description('print a signed avatar URL')
  .argument('<id>', 'phone number, group id or chatId')
  .option('--size <n>', 'size in pixels (1-640)', (v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 640) throw new InvalidArgumentError('an integer from 1 to 640');
    return Number(v);
  })
  .option('--format <format>', 'webp, avif, png, jpg or jpeg (default: from the Accept header)', (v) => {
    if (!parseFormat(v)) throw new InvalidArgumentError('webp, avif, png, jpg or jpeg');
    return v;
  })
  .option('--fallback-404', 'answer 404 instead of a placeholder (d=404)')
  .option('--expires-in <seconds>', 'the URL stops working after this many seconds (exp)', (v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('a whole number of seconds');
    return Number(v);
  })
  .option('--base-url <url>', 'prefix, e.g. https://avatars.example.com', '')
  .option('--key <key>', 'signing key (default: the first of SIGNING_KEYS, or SIGNING_KEY)')
  .option('--id-key <key>', 'id key: the URL carries an opaque id (default: the first of ID_KEYS, if set)')
  .action((id: string, options: { size?: number; format?: 'webp'; fallback404?: boolean; expiresIn?: number; baseUrl: string; key?: string; idKey?: string }) => {
    const key = options.key ?? process.env.SIGNING_KEYS?.split(',')[0]?.trim() ?? process.env.SIGNING_KEY;
    if (!key) return program.error('sign: no key: pass --key or set SIGNING_KEYS or SIGNING_KEY');
    if (!parseChatId(id)) program.error(`sign: "${id}" is not a phone number, group id or chatId`);
    const exp = options.expiresIn ? Math.floor(Date.now() / 1000) + options.expiresIn : undefined;
    const idKey = options.idKey ?? (process.env.ID_KEYS?.split(',')[0]?.trim() || undefined);
    process.stdout.write(`${avatarUrl(options.baseUrl, id, { size: options.size, format: options.format, d: options.fallback404 ? '404' : undefined, key, idKey, exp })}\n`);
  });

program.parse();
