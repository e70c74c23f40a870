/**
 * The demo's upstream: the fake Green API and image host from test/fakes, with contacts that cover every
 * case, answering in the three generations of the GetAvatar docs, with pictures that look like profile
 * pictures (DiceBear styles rendered by sharp, deterministic per contact).
 */
import { createAvatar, type Style } from '@dicebear/core';
import * as adventurer from '@dicebear/adventurer';
import * as avataaars from '@dicebear/avataaars';
import * as lorelei from '@dicebear/lorelei';
import * as notionists from '@dicebear/notionists';
import sharp from 'sharp';
import { FakeGreenApi, type GetAvatarBehaviour } from '../test/fakes/green-api';
import { FakeImageHost } from '../test/fakes/image-host';

export const DEMO_INSTANCE = { idInstance: '1101000001', apiToken: 'demo-token-0123456789' };

/** One contact per case; no two share a placeholder colour. */
export const DEMO_CONTACTS = [
  { id: '11001234567', label: 'has a picture' },
  { id: '11005550124', label: 'changes its picture at each lookup' },
  { id: '120363043968066561@g.us', label: 'a group with a picture' },
  { id: '11002345678', label: 'on WhatsApp without a picture' },
  { id: '6591234567', label: 'picture hidden (privacy settings)' },
  { id: '6281234567890', label: 'not on WhatsApp' },
] as const;

/** Someone who writes to the demo instance: the demo sends Green API's notification, so the avatar is warm before a page asks. */
export const DEMO_CHATTING = '11007770001';

/** What Green API posts to the webhook when that contact writes (its documented incomingMessageReceived). */
export function demoNotifications(idInstance: string): object[] {
  const instanceData = { idInstance: Number(idInstance), wid: '11009999999@c.us', typeInstance: 'whatsapp' };
  return [
    { typeWebhook: 'stateInstanceChanged', instanceData, timestamp: Math.floor(Date.now() / 1000), stateInstance: 'authorized' },
    {
      typeWebhook: 'incomingMessageReceived',
      instanceData,
      timestamp: Math.floor(Date.now() / 1000),
      idMessage: 'DEMO0000000000000001',
      senderData: { chatId: `${DEMO_CHATTING}@c.us`, chatName: 'Carol', sender: `${DEMO_CHATTING}@c.us`, senderName: 'Carol' },
      messageData: { typeMessage: 'textMessage', textMessageData: { textMessage: 'Hi!' } },
    },
  ];
}

const BACKGROUNDS = ['b6e3f4', 'c0aede', 'd1d4f9', 'ffd5dc', 'ffdfbf'];

/** A 640 px JPEG of a DiceBear avatar: what a WhatsApp profile picture looks like to the service. */
async function picture(style: Style<object>, seed: string): Promise<Buffer> {
  const svg = createAvatar(style, { seed, size: 640, backgroundColor: BACKGROUNDS }).toString();
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

/** Answers after this long, like a real GetAvatar call (so the first request shows a MISS). */
const LATENCY_MS = 300;

export interface DemoUpstream {
  green: FakeGreenApi;
  images: FakeImageHost;
  close(): Promise<void>;
}

export async function startDemoUpstream(): Promise<DemoUpstream> {
  const green = new FakeGreenApi(DEMO_INSTANCE);
  const images = new FakeImageHost();
  await Promise.all([green.start(), images.start()]);
  const add = async (name: string, style: Style<object>, seed: string) => images.add(name, { bytes: await picture(style, seed) });

  const rules: [string, GetAvatarBehaviour][] = [
    ['11001234567@c.us', { kind: 'avatar', url: await add('alice', adventurer as Style<object>, 'Alice'), generation: 'available' }],
    ['120363043968066561@g.us', { kind: 'avatar', url: await add('team', notionists as Style<object>, 'Team'), generation: 'url-only' }],
    ['11002345678@c.us', { kind: 'no-avatar', generation: 'url-only' }],
    ['6591234567@c.us', { kind: 'hidden', generation: 'available' }],
    ['6281234567890@c.us', { kind: 'not-on-whatsapp', generation: 'exists' }],
    [`${DEMO_CHATTING}@c.us`, { kind: 'avatar', url: await add('carol', adventurer as Style<object>, 'Carol'), generation: 'available' }],
  ];
  for (const [chatId, behaviour] of rules) green.set(chatId, behaviour, LATENCY_MS);

  // A contact that changes its picture at every GetAvatar call: refresh it (POST /v1/avatars/11005550124/refresh)
  // to see a new picture, a new ETag and a change event.
  const changing = '11005550124@c.us';
  const looks = [await add('bob-1', lorelei as Style<object>, 'Bob'), await add('bob-2', avataaars as Style<object>, 'Bob')];
  let look = 0;
  green.set(changing, { kind: 'avatar', url: looks[0]!, generation: 'exists' }, LATENCY_MS);
  green.on('call', (chatId: string) => {
    if (chatId !== changing) return;
    look = (look + 1) % looks.length;
    green.set(changing, { kind: 'avatar', url: looks[look]!, generation: 'exists' }, LATENCY_MS);
  });

  // GetContacts (POST /v1/warm {"source":"contacts"}, npm run warm -- --contacts): the demo contacts and Carol.
  green.setContacts([...DEMO_CONTACTS.map(({ id }) => (id.includes('@') ? id : `${id}@c.us`)), `${DEMO_CHATTING}@c.us`]);

  // Anyone else typed into the lookup box: on WhatsApp without a picture.
  green.setFallback({ kind: 'no-avatar', generation: 'url-only' });
  return {
    green,
    images,
    close: async () => {
      await Promise.all([green.close(), images.close()]);
    },
  };
}
