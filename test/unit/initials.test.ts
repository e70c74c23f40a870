import { initialsOf } from '../../src/avatar/request';

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
  ])('name=%j initials=%j -> %j', (name, initials, expected) => expect(initialsOf(name, initials)).toBe(expected));
});
