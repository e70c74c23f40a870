import { initialsOf } from '../../src/avatar/request';
import { canDrawLetters } from '../../src/avatar/placeholder';

describe('initialsOf', () => {
  it.each([
    ['Jane Doe', undefined, 'JD'],
    ['Ольга Петрова', undefined, 'ОП'],
    ['madonna', undefined, 'M'],
    ['Jean-Luc Picard', undefined, 'JP'],
    ['  ana   maría  lópez ', undefined, 'AL'],
    ['😀 Bob', undefined, 'B'],
    ['李 小龍', undefined, '李小'],
    ['Ölçer Ünal', undefined, 'ÖÜ'],
    ['   ', undefined, ''],
    [undefined, 'jd', 'JD'],
    [undefined, 'ψω!', 'ΨΩ'],
    [undefined, 'abc', 'AB'],
    ['Jane Doe', 'x', 'X'],
    // Counted after case mapping; at most two combining marks a letter.
    [undefined, 'ßß', 'SS'],
    ['ßa ßb', undefined, 'SS'],
    [undefined, `A${'\u0301'.repeat(12)}`, 'A\u0301\u0301'],
  ])('name=%j initials=%j -> %j', (name, initials, expected) => expect(initialsOf(name, initials)).toBe(expected));
});

describe('canDrawLetters', () => {
  it.each([['JD', true], ['ОП', true], ['ΨΩ', true], ['Աբ', true], ['אב', true], ['42', true], ['É', true], ['李小', false], ['कख', false], ['กข', false]])(
    '%j -> %s (the shipped font has the glyphs)',
    (letters, drawable) => expect(canDrawLetters(letters)).toBe(drawable),
  );
});
