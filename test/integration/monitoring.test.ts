import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { startStack } from '../helpers/stack';
import { get } from '../helpers/http';

const DEPLOY = path.resolve(__dirname, '../../deploy');
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
const havePromtool = spawnSync(PROMTOOL, ['--version']).status === 0;
// .ci/run installs Debian's prometheus package (promtool); elsewhere, without it, say so and skip.
const describeWithPromtool = havePromtool || process.env.CI ? describe : describe.skip;
if (!havePromtool && !process.env.CI) console.warn('monitoring tests skipped: promtool is not installed (apt-get install -y prometheus)');

const promtool = (args: string[], cwd: string) => execFileSync(PROMTOOL, args, { cwd, encoding: 'utf8' });

const alertsFile = path.join(DEPLOY, 'prometheus/alerts.yml');
const dashboard = JSON.parse(readFileSync(path.join(DEPLOY, 'grafana/avatar-cdn.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
const dashboardExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

/** The metric names an expression reads (ours all start with avatar_; `up` is Prometheus's own). */
const metricNames = (text: string) => [...text.matchAll(/\b(avatar_[a-z0-9_]+)/g)].map((m) => m[1]!);

describeWithPromtool('alerts and dashboard, checked by promtool', () => {
  it('the alerting rules are valid and each alert passes its unit test', () => {
    expect(promtool(['check', 'rules', 'alerts.yml'], path.dirname(alertsFile))).toContain('SUCCESS: 8 rules found');
    expect(promtool(['test', 'rules', 'alerts.test.yml'], path.dirname(alertsFile))).toContain('SUCCESS');
  });

  it('every dashboard query is valid PromQL', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-'));
    const rules = ['groups:', '  - name: dashboard', '    rules:', ...dashboardExprs.flatMap((expr, i) => [`      - record: dashboard:panel_${i}`, `        expr: ${JSON.stringify(expr)}`])];
    writeFileSync(path.join(dir, 'rules.yml'), `${rules.join('\n')}\n`);
    expect(promtool(['check', 'rules', 'rules.yml'], dir)).toContain(`SUCCESS: ${dashboardExprs.length} rules found`);
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining(['Avatar requests/s by X-Cache', 'Hit ratio', 'GetAvatar calls/s by outcome', 'Queue depth', 'Placeholders/s by status', 'Renders/s by format']),
    );
  });
});

describe('alerts and dashboard read only metrics the service exports', () => {
  it('every metric name in the rules and the dashboard appears in a running service /metrics', async () => {
    const stack = await startStack();
    try {
      stack.green.set('11006400001@c.us', { kind: 'avatar', url: await stack.images.add('monitored') });
      await get(stack.url, '/avatar/11006400001.webp');
      await get(stack.url, '/avatar/11006400001.png?size=64');
      const text = (await request(stack.url).get('/metrics')).text;
      const exported = new Set<string>();
      for (const line of text.split('\n')) {
        const typed = /^# TYPE (\S+) (\w+)/.exec(line);
        if (typed) {
          exported.add(typed[1]!);
          if (typed[2] === 'histogram') for (const suffix of ['_bucket', '_count', '_sum']) exported.add(`${typed[1]}${suffix}`);
        }
      }
      const used = new Set([...metricNames(readFileSync(alertsFile, 'utf8')), ...dashboardExprs.flatMap(metricNames)]);
      expect(used.size).toBeGreaterThan(10);
      expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});
