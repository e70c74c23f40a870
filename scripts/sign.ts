/**
 * `npm run sign -- 11001234567 --size 64 --format webp [--base-url https://avatars.example.com]`
 * Prints a signed avatar URL. The key comes from --key or SIGNING_KEY.
 */
import { Command, InvalidArgumentError } from 'commander';
import { parseChatId } from '../src/avatar/chat-id';
import { parseFormat } from '../src/avatar/variant';
import { signedAvatarPath } from '../src/security/signing';

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
  .option('--fallback-404', 'answer 404 instead of a placeholder')
  .option('--base-url <url>', 'prefix, e.g. https://avatars.example.com', '')
  .option('--key <key>', 'signing key (default: SIGNING_KEY)')
  .action((id: string, options: { size?: number; format?: 'webp'; fallback404?: boolean; baseUrl: string; key?: string }) => {
    const key = options.key ?? process.env.SIGNING_KEY;
    if (!key) return program.error('sign: no key: pass --key or set SIGNING_KEY');
    if (!parseChatId(id)) program.error(`sign: "${id}" is not a phone number, group id or chatId`);
    const path = signedAvatarPath(key, id, { size: options.size, format: options.format, fallback404: options.fallback404 });
    process.stdout.write(`${options.baseUrl.replace(/\/+$/, '')}${path}\n`);
  });

program.parse();
