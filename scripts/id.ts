/**
 * `npm run -s id -- 11001234567 [--key <key>]`: prints the opaque URL path of an id (`/avatar/p-<token>`).
 * `npm run -s id -- --decode p-<token>`: prints the chatId an opaque id stands for (what a log line names).
 * The key comes from --key or the first of ID_KEYS; --decode tries every key of ID_KEYS (or --key).
 */
import { Command } from 'commander';
import { opaqueIdOf } from '../src/client';
import { createOpaqueIds } from '../src/ids/opaque-id';

const keysFromEnv = () => process.env.ID_KEYS?.split(',').map((k) => k.trim()).filter(Boolean) ?? [];

const program = new Command('id')
  .description('print the opaque URL path of a phone number, group id or chatId (or, with --decode, the chatId of an opaque id)')
  .argument('<id>', 'phone number, group id or chatId (with --decode: an opaque id p-<token>)')
  .option('--key <key>', 'id key of at least 32 characters (default: the first of ID_KEYS)')
  .option('--decode', 'read an opaque id back to its chatId')
  .action((id: string, options: { key?: string; decode?: boolean }) => {
    const keys = options.key ? [options.key] : keysFromEnv();
    if (keys.length === 0) return program.error('id: no key: pass --key or set ID_KEYS');
    if (keys.some((key) => key.length < 32)) return program.error('id: keys are at least 32 characters');
    if (options.decode) {
      const chatId = createOpaqueIds(keys).decode(id);
      if (!chatId) return program.error(`id: "${id.slice(0, 100)}" was not made with ${keys.length > 1 ? 'any of these keys' : 'this key'}`);
      return void process.stdout.write(`${chatId}\n`);
    }
    try {
      process.stdout.write(`/avatar/${opaqueIdOf(keys[0]!, id)}\n`);
    } catch (err) {
      program.error(`id: ${(err as Error).message}`);
    }
  });

program.parse();
