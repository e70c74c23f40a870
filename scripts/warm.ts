/**
 * `npm run -s warm -- --file contacts.txt [--url http://localhost:3000] [--token ADMIN_TOKEN] [--force] [--json]`
 * `npm run -s warm -- --contacts [idInstance]`: the instances' own address books (Green API's GetContacts).
 * Pre-loads avatars for a contact list (one id per line; stdin when no --file) through a running service,
 * with a live progress bar and ETA (on stderr), then a summary on stdout: a table, or JSON with --json
 * (`-s` keeps npm's own banner out of stdout).
 * Exit code 0 when every id was warmed, 1 if any id failed or was invalid, 2 if the warm could not run
 * (a usage error, the service unreachable or refusing).
 */
import { readFile } from 'node:fs/promises';
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { Command, type CommanderError } from 'commander';
import { reasonOf } from '../src/outage-log';
import type { BatchStatus } from '../src/warm/batches';

const MAX_IDS_PER_CALL = 10_000;

interface WarmAnswer {
  batchId?: string;
  accepted: number;
  duplicates: number;
  invalid: { id: string; error: string }[];
}


async function readIds(file: string | undefined): Promise<string[]> {
  let text: string;
  if (file && file !== '-') {
    text = await readFile(file, 'utf8');
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

async function call<T>(url: string, token: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } });
  } catch (err) {
    // fetch says only "fetch failed"; the reason is in its cause.
    const cause = ((err as { cause?: Error }).cause ?? err) as Error;
    throw new Error(`${reasonOf(cause)} to ${new URL(url).origin}`);
  }
  const body = (await res.json().catch(() => ({}))) as T & { error?: { message: string } };
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: HTTP ${res.status} ${body.error?.message ?? ''}`.trim());
  return body;
}

const sum = (statuses: BatchStatus[], field: keyof BatchStatus) => statuses.reduce((n, s) => n + s[field], 0);

type Options = { file?: string; contacts?: string | true; url: string; token?: string; force?: boolean; json?: boolean; interval: string };

/** The service's answers to the warm calls: one per 10,000 ids, or one for the address books. */
async function startWarm(base: string, token: string, options: Options): Promise<WarmAnswer[]> {
  const post = (body: object) =>
    call<WarmAnswer>(`${base}/v1/warm`, token, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...body, force: options.force === true }) });
  if (options.contacts !== undefined) {
    if (options.file) throw new Error('give --file or --contacts, not both');
    return [await post({ source: 'contacts', ...(options.contacts === true ? {} : { instance: options.contacts }) })];
  }
  const ids = await readIds(options.file);
  if (ids.length === 0) throw new Error('no ids to warm (one per line)');
  const answers: WarmAnswer[] = [];
  for (let i = 0; i < ids.length; i += MAX_IDS_PER_CALL) answers.push(await post({ chatIds: ids.slice(i, i + MAX_IDS_PER_CALL) }));
  return answers;
}

async function main(options: Options): Promise<number> {
  const token = options.token ?? process.env.ADMIN_TOKEN;
  if (!token) throw new Error('no admin token: pass --token or set ADMIN_TOKEN');
  const base = options.url.replace(/\/+$/, '');
  const answers = await startWarm(base, token, options);
  const batchIds = answers.flatMap((a) => (a.batchId ? [a.batchId] : []));
  const accepted = answers.reduce((n, a) => n + a.accepted, 0);
  const invalid = answers.flatMap((a) => a.invalid);

  const bar = new SingleBar(
    { format: 'warming [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | failed {failed}', noTTYOutput: true, notTTYSchedule: 2000 },
    Presets.shades_classic,
  );
  bar.start(accepted, 0, { failed: 0 });
  let statuses: BatchStatus[] = [];
  for (;;) {
    statuses = await Promise.all(batchIds.map((id) => call<BatchStatus>(`${base}/v1/warm/${id}`, token)));
    bar.update(sum(statuses, 'done'), { failed: sum(statuses, 'failed') });
    if (sum(statuses, 'pending') === 0) break;
    await new Promise((resolve) => setTimeout(resolve, Number(options.interval)));
  }
  bar.stop();

  const duplicates = answers.reduce((n, a) => n + a.duplicates, 0);
  const summary = {
    read: accepted + duplicates + invalid.length,
    accepted,
    duplicates,
    invalid: invalid.length,
    withAvatar: sum(statuses, 'withAvatar'),
    noAvatar: sum(statuses, 'noAvatar'),
    private: sum(statuses, 'private'),
    notOnWhatsapp: sum(statuses, 'notOnWhatsapp'),
    failed: sum(statuses, 'failed'),
  };
  const exitCode = summary.failed > 0 || invalid.length > 0 ? 1 : 0;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...summary, invalidIds: invalid, exitCode })}\n`);
    return exitCode;
  }
  // Colours only for a terminal, so logs and pipes stay plain.
  const style = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };
  const table = new Table({ ...style, head: ['ids read', 'accepted', 'duplicates', 'invalid', 'with avatar', 'no avatar', 'private', 'not on WhatsApp', 'failed'] });
  table.push(Object.values(summary));
  process.stdout.write(`${table.toString()}\n`);
  for (const bad of invalid.slice(0, 20)) process.stdout.write(`invalid: ${bad.id} (${bad.error})\n`);
  if (invalid.length > 20) process.stdout.write(`... and ${invalid.length - 20} more invalid ids\n`);
  return exitCode;
}

new Command('warm')
  .description('pre-load avatars for a list of contacts through a running avatar-cdn')
  .option('--file <path>', 'one id per line (default: stdin)')
  .option('--contacts [idInstance]', "the instances' own address books (GetContacts), or one instance's")
  .option('--url <url>', 'the service', process.env.AVATAR_CDN_URL ?? 'http://localhost:3000')
  .option('--token <token>', 'admin token (default: ADMIN_TOKEN)')
  .option('--force', 'ask Green API again even for fresh answers')
  .option('--interval <ms>', 'progress poll interval', '500')
  .option('--json', 'print the summary as JSON')
  // Usage errors exit 2: 1 means an id failed or was invalid.
  .exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  })
  .action(async (options) => {
    try {
      process.exitCode = await main(options);
    } catch (err) {
      process.stderr.write(`warm: ${(err as Error).message}\n`);
      process.exitCode = 2;
    }
  })
  .parse();
