import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  body: string;
  signature: string;
  eventId: string;
  answered: number;
}

export interface WebhookReceiver {
  url: string;
  deliveries: Delivery[];
  close(): Promise<void>;
}

/** A change-event webhook receiver on loopback that fails the first `failures` deliveries with HTTP 500. */
export async function startWebhookReceiver(failures = 0): Promise<WebhookReceiver> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const answered = deliveries.length < failures ? 500 : 204;
      deliveries.push({ body, signature: String(req.headers['x-avatar-signature']), eventId: String(req.headers['x-avatar-event-id']), answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/avatars`,
    deliveries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
