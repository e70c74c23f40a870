import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Router } from 'express';
import type { AvatarQueues } from '../queue/queues';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/** The BullMQ dashboard (bull-board); mount it behind adminOnly. */
export function queueDashboard(queues: AvatarQueues): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queues.resolve), new BullMQAdapter(queues.render)], serverAdapter });
  return serverAdapter.getRouter() as Router;
}
