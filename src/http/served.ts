import type { AvatarResponse } from '../avatar/response';
import type { Metrics } from '../metrics';

/** Counts a placeholder (or 404) served instead of a picture, by its X-Avatar-Status, wherever it is sent from. */
export function countServed(metrics: Metrics, response: AvatarResponse): void {
  const status = response.headers['x-avatar-status'];
  if (status && status !== 'ok') metrics.placeholders.inc({ status });
}
