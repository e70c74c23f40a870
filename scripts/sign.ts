/**
 * `npm run -s sign -- 11001234567 --size 64 --format webp [--d initials --name "Jane Doe"] [--expires-in 3600 | --exp 1893456000]
 *   [--base-url https://avatars.example.com]`
 * Prints a signed avatar URL. The key comes from --key, or the first of SIGNING_KEYS, or SIGNING_KEY. With
 * --id-key or ID_KEYS, the URL names the contact by its opaque id (p-<token>) instead of its number.
 */
import { Command, InvalidArgumentError } from 'commander';
import { parseChatId } from '../src/avatar/chat-id';
import { parseFormat } from '../src/avatar/variant';
import { avatarUrl, type AvatarUrlOptions } from '../src/client';

const wholeSeconds = (v: string) => {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new InvalidArgumentError('a whole number of seconds');
  return Number(v);
};

interface SignOptions {
  size?: number;
  format?: AvatarUrlOptions['format'];
  d?: AvatarUrlOptions['d'];
  name?: string;
  initials?: string;
  fallback404?: boolean;
  expiresIn?: number;
  exp?: number;
  baseUrl: string;
  key?: string;
  idKey?: string;
}

const program = new Command('sign')
  .description('print a signed avatar URL')
  .argument('<id>', 'phone number, group id or chatId')
  .option('--size <n>', 'size in pixels (1-640)', (v) => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 640) throw new InvalidArgumentError('an integer from 1 to 640');
    return Number(v);
  })
  .option('--format <format>', 'webp, avif, png, jpg, jpeg, or json for the JSON info (default: from the Accept header)', (v) => {
    if (v !== 'json' && !parseFormat(v)) throw new InvalidArgumentError('webp, avif, png, jpg, jpeg or json');
    return v;
  })
  .option('--d <style>', 'placeholder: mp, initials, blank or 404', (v) => {
    if (!['mp', 'initials', 'blank', '404'].includes(v)) throw new InvalidArgumentError('mp, initials, blank or 404');
    return v;
  })
  .option('--name <name>', 'with --d initials: the name to take the initials from')
  .option('--initials <letters>', 'with --d initials: the letters themselves')
  .option('--fallback-404', 'answer 404 instead of a placeholder (d=404)')
  .option('--expires-in <seconds>', 'the URL stops working after this many seconds (exp)', wholeSeconds)
  .option('--exp <unix-seconds>', 'the URL stops working at this Unix time (exp)', wholeSeconds)
  .option('--base-url <url>', 'prefix, e.g. https://avatars.example.com', '')
  .option('--key <key>', 'signing key (default: the first of SIGNING_KEYS, or SIGNING_KEY)')
  .option('--id-key <key>', 'id key: the URL carries an opaque id (default: the first of ID_KEYS, if set)')
  .action((id: string, options: SignOptions) => {
    const key = options.key ?? process.env.SIGNING_KEYS?.split(',')[0]?.trim() ?? process.env.SIGNING_KEY;
    if (!key) return program.error('sign: no key: pass --key or set SIGNING_KEYS or SIGNING_KEY (the service\'s own)');
    if (!parseChatId(id)) program.error(`sign: "${id}" is not a phone number, group id or chatId`);
    if (options.exp !== undefined && options.expiresIn !== undefined) program.error('sign: give --exp or --expires-in, not both');
    if ((options.name !== undefined || options.initials !== undefined) && options.d !== 'initials') program.error('sign: --name and --initials go with --d initials');
    const exp = options.exp ?? (options.expiresIn ? Math.floor(Date.now() / 1000) + options.expiresIn : undefined);
    const idKey = options.idKey ?? (process.env.ID_KEYS?.split(',')[0]?.trim() || undefined);
    const d = options.fallback404 ? '404' : options.d;
    const url = avatarUrl(options.baseUrl, id, { size: options.size, format: options.format, d, name: options.name, initials: options.initials, key, idKey, exp });
    process.stdout.write(`${url}\n`);
  });

program.parse();
