import { badRequest } from '../errors';

/**
 * chatId parsing. Accepted forms:
 *  - a phone number in E.164 without `+`: 8 to 15 digits, country code first (never 0) -> `<digits>@c.us`
 *  - a legacy group id `<digits>-<digits>`                                              -> `<id>@g.us`
 *  - a full chatId ending in `@c.us`, `@g.us` (new group ids: `120363043968066561@g.us`) or `@lid`
 * Whether a well-formed number exists is Green API's to say (`bad request data`).
 */

const PHONE = /^[1-9]\d{7,14}$/;
const LEGACY_GROUP = /^\d{5,20}-\d{5,20}$/;
const FULL_USER = /^([1-9]\d{7,14})@c\.us$/;
const FULL_GROUP = /^(\d{5,20}-\d{5,20}|\d{15,20})@g\.us$/;
/** WhatsApp's linked ids (`<digits>@lid`), a chatId form Green API names. */
const FULL_LID = /^[1-9]\d{5,20}@lid$/;

/** What an invalid id is told, in one place for every route. */
export const CHAT_ID_RULE =
  'id must be a phone number with its country code (8-15 digits, no leading 0 or +), a group id, or a chatId ending in @c.us, @g.us or @lid';

export function parseChatId(id: string): string | undefined {
  if (id.length > 64) return undefined;
  if (PHONE.test(id)) return `${id}@c.us`;
  if (LEGACY_GROUP.test(id)) return `${id}@g.us`;
  const lower = id.toLowerCase();
  if (FULL_USER.test(lower) || FULL_GROUP.test(lower) || FULL_LID.test(lower)) return lower;
  return undefined;
}

/** The chatId an id names, or `400 invalid_chat_id` with the rule, for every route that takes an id. */
export function requireChatId(id: string): string {
  const chatId = parseChatId(id);
  if (!chatId) throw badRequest('invalid_chat_id', CHAT_ID_RULE);
  return chatId;
}
