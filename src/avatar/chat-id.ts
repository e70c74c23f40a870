/**
 * chatId parsing. Accepted forms:
 *  - a phone number, 11 or 12 digits              -> `<digits>@c.us`
 *  - a legacy group id `<digits>-<digits>`        -> `<id>@g.us`
 *  - a full chatId ending in `@c.us` or `@g.us`   (new group ids: `120363043968066561@g.us`)
 */

const PHONE = /^\d{11,12}$/;
const LEGACY_GROUP = /^\d{5,20}-\d{5,20}$/;
const FULL_USER = /^(\d{11,12})@c\.us$/;
const FULL_GROUP = /^(\d{5,20}-\d{5,20}|\d{15,20})@g\.us$/;

export function parseChatId(id: string): string | undefined {
  if (id.length > 64) return undefined;
  if (PHONE.test(id)) return `${id}@c.us`;
  if (LEGACY_GROUP.test(id)) return `${id}@g.us`;
  const lower = id.toLowerCase();
  if (FULL_USER.test(lower) || FULL_GROUP.test(lower)) return lower;
  return undefined;
}
