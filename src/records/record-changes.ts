import { createKeys } from '../avatar/keys';
import type { RedisClient } from '../redis';

/**
 * News that a contact's record changed (a new picture, another status) or was forgotten, on one Redis pub/sub
 * channel, so every API process drops its in-memory copies of that contact's responses. Sent after the record
 * is written and before the change event goes out: whoever reacts to the event gets the new bytes.
 */
export interface RecordChanges {
  /** `at`: when the record was resolved (a change) or forgotten, by the writer's clock. */
  announce(chatId: string, at: number): Promise<void>;
}

export interface RecordChangeListener {
  /** chatId's record changed at `at`. */
  changed(chatId: string, at: number): void;
  /** Whether news can arrive: false from the moment the subscription is lost until it is back. */
  live(live: boolean): void;
}

export function createRecordChanges(redis: RedisClient, keyPrefix: string): RecordChanges {
  const channel = createKeys(keyPrefix).recordChanges;
  return {
    async announce(chatId, at) {
      await redis.publish(channel, `${at} ${chatId}`);
    },
  };
}

/**
 * Listens on a connection of its own (a subscriber can run no other command; the composition root closes it).
 * The listener hears `live(false)` when the connection drops and `live(true)` once it is subscribed again.
 */
export function listenToRecordChanges(subscriber: RedisClient, keyPrefix: string, listener: RecordChangeListener): void {
  const channel = createKeys(keyPrefix).recordChanges;
  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    const space = message.indexOf(' ');
    const at = Number(message.slice(0, space));
    if (space > 0 && Number.isFinite(at)) listener.changed(message.slice(space + 1), at);
  });
  const subscribed = () => subscriber.subscribe(channel).then(() => listener.live(true), () => listener.live(false));
  subscriber.on('ready', () => void subscribed());
  subscriber.on('close', () => listener.live(false));
}
