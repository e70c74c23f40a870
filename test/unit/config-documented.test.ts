import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES } from '../../src/config';

const read = (file: string) => readFileSync(path.resolve(__dirname, '../..', file), 'utf8');

describe('configuration documentation', () => {
  const table = read('docs/configuration.md');
  const example = read('.env.example');

  it.each(CONFIG_VARIABLES)('%s is in docs/configuration.md and .env.example', (name) => {
    expect(table).toContain(`\`${name}\``);
    expect(example).toMatch(new RegExp(`^${name}=`, 'm'));
  });
});
