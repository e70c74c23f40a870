import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express, Router } from 'express';
import type { AvatarQueues } from '../queue/queues';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/** The BullMQ dashboard (bull-board); mount it behind adminOnly. */
export function queueDashboard(queues: AvatarQueues): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({ queues: [queues.resolve, queues.render, queues.maintenance].map((q) => new BullMQAdapter(q)), serverAdapter });
  // bull-board runs its own Express app: it must not advertise Express either.
  const app = serverAdapter.getRouter() as Express;
  app.disable('x-powered-by');
  return app as unknown as Router;
}
