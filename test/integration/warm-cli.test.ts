import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/redis-server';
import { startStack, type Stack } from '../helpers/stack';

const ADMIN = 'admin-token-0123456789abcdef';
const ROOT = path.resolve(__dirname, '../..');

function runWarm(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'scripts/warm.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack({ env: { ADMIN_TOKEN: ADMIN, JOB_ATTEMPTS: '1' } });
  dir = await mkdtemp(path.join(tmpdir(), 'warm-'));
});
afterAll(() => stack.close());

describe('npm run warm', () => {
  it('warms a file of ids to completion and prints a summary; exit code 0', async () => {
    const url = await stack.images.add('cli-face');
    stack.green.set('11005000000@c.us', { kind: 'avatar', url });
    stack.green.set('11005000001@c.us', { kind: 'no-avatar' });
    const file = path.join(dir, 'contacts.txt');
    await writeFile(file, ['# my contacts', ...Array.from({ length: 40 }, (_, i) => String(11005000000 + i)), '11005000000'].join('\n'));
    const run = await runWarm(['--file', file, '--url', stack.url, '--interval', '50'], { ADMIN_TOKEN: ADMIN });
    expect(run.code).toBe(0);
    // The progress bar goes to stderr; the summary to stdout.
    expect(run.stderr).toMatch(/warming \[.*\] 100% \| 40\/40 \| ETA/);
    // ids read, accepted, duplicates, invalid, with avatar, no avatar, private, not on WhatsApp, failed
    expect(run.stdout.replace(/\s+/g, ' ')).toMatch(/│ 41 │ 40 │ 1 │ 0 │ 1 │ 1 │ 0 │ 38 │ 0 │/);
    expect(stack.green.calls).toHaveLength(40);
  });

  it('--contacts warms the instance\'s address book (one GetContacts call)', async () => {
    stack.green.setContacts(['11005300000@c.us', '11005300001@c.us', '120363000000053000@g.us']);
    const calls = stack.green.contactsCalls;
    const run = await runWarm(['--contacts', '--url', stack.url, '--token', ADMIN, '--interval', '50', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 3, accepted: 3, failed: 0, exitCode: 0 });
    expect(stack.green.contactsCalls).toBe(calls + 1);
    for (const id of ['11005300000@c.us', '11005300001@c.us', '120363000000053000@g.us']) expect(stack.green.callsFor(id)).toBe(1);
  });

  it('exits 1 and names what went wrong when ids fail or are invalid', async () => {
    stack.green.set('11005100000@c.us', { kind: 'http', status: 500 });
    const file = path.join(dir, 'bad.txt');
    await writeFile(file, '11005100000\nnot-a-number\n');
    const run = await runWarm(['--file', file, '--url', stack.url, '--token', ADMIN, '--interval', '50']);
    expect(run.code).toBe(1);
    expect(run.stdout.replace(/\s+/g, ' ')).toMatch(/│ 2 │ 1 │ 0 │ 1 │ 0 │ 0 │ 0 │ 0 │ 1 │/);
    expect(run.stdout).toContain('invalid: not-a-number (invalid_chat_id)');
  });

  it('--json prints the summary alone on stdout, as JSON', async () => {
    stack.green.set('11005200000@c.us', { kind: 'hidden', generation: 'available' });
    const file = path.join(dir, 'json.txt');
    await writeFile(file, '11005200000\nnope\n');
    const run = await runWarm(['--file', file, '--url', stack.url, '--token', ADMIN, '--interval', '50', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      read: 2, accepted: 1, duplicates: 0, invalid: 1, withAvatar: 0, noAvatar: 0, private: 1, notOnWhatsapp: 0, failed: 0,
      invalidIds: [{ id: 'nope', error: 'invalid_chat_id' }],
      exitCode: 1,
    });
  });

  it('names the URL and the cause when the service cannot be reached; exit 2', async () => {
    const run = await runWarm(['--file', '/dev/null', '--url', 'http://127.0.0.1:9', '--token', ADMIN]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('warm: no ids to warm (one per line)\n');
    const file = path.join(dir, 'one.txt');
    await writeFile(file, '11005300000\n');
    const closed = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await runWarm(['--file', file, '--url', closed, '--token', ADMIN]);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toBe(`warm: connection refused to ${closed}\n`);
    expect(unreachable.stdout).toBe('');
  });

  it('exits 2 on a usage error (1 is kept for ids that failed)', async () => {
    const run = await runWarm(['--no-such-option']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--no-such-option'");
  });

  it('says what is missing without a token', async () => {
    const run = await runWarm(['--file', '/dev/null', '--url', stack.url], { ADMIN_TOKEN: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('warm: no admin token: pass --token or set ADMIN_TOKEN\n');
  });
});
