import { AppError, badRequest } from '../errors';
import { CHAT_ID_RULE, parseChatId } from '../avatar/chat-id';
import { isOpaqueId, type OpaqueIds } from './opaque-id';

/**
 * How public avatar URLs name contacts: plain ids (a number, a group id, a chatId) and, with ID_KEYS, opaque
 * `p-<token>` ids. Decoded in the parse phase, so everything after it sees a chatId.
 */
export interface PublicIds {
  /**
   * The chatId a URL's id names; undefined when it is not an id at all (the caller says why). A token no key
   * made is `404 unknown_id`; a plain id where only opaque ones are taken is `400 opaque_id_required`.
   */
  read(id: string): string | undefined;
  /** The id the URLs the service hands out carry: opaque with ID_KEYS, else digits for a number, the chatId otherwise. */
  urlId(chatId: string): string;
  /** Whether URL ids can be opaque (ID_KEYS is set). */
  readonly opaque: boolean;
}

export interface PublicIdOptions {
  opaqueIds?: OpaqueIds;
  /** PUBLIC_IDS=opaque: plain ids are refused in public URLs. */
  opaqueOnly: boolean;
}

const plainUrlId = (chatId: string) => (chatId.endsWith('@c.us') ? chatId.slice(0, -'@c.us'.length) : chatId);

const unknownId = () =>
  new AppError(404, 'unknown_id', 'this opaque id was not made with one of the service\'s ID_KEYS from a normalised chatId (e.g. 11001234567@c.us)');

export function createPublicIds({ opaqueIds, opaqueOnly }: PublicIdOptions): PublicIds {
  return {
    opaque: opaqueIds !== undefined,
    read(id) {
      if (opaqueIds && isOpaqueId(id)) {
        const chatId = opaqueIds.decode(id);
        // A token made from an id the service would have normalised differently names no URL it hands out.
        if (chatId === undefined || parseChatId(chatId) !== chatId) throw unknownId();
        return chatId;
      }
      const chatId = parseChatId(id);
      if (chatId && opaqueOnly) {
        throw badRequest('opaque_id_required', 'this service takes opaque ids only (p-<token>, see docs/signed-urls-and-opaque-ids.md): a phone number must not appear in a public URL');
      }
      return chatId;
    },
    urlId: (chatId) => (opaqueIds ? opaqueIds.encode(chatId) : plainUrlId(chatId)),
  };
}

/** The chatId a URL's id names, or `400 invalid_chat_id` with the rule. */
export function requirePublicId(ids: PublicIds, id: string): string {
  const chatId = ids.read(id);
  if (!chatId) throw badRequest('invalid_chat_id', CHAT_ID_RULE);
  return chatId;
}
