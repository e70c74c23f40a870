import type { ServedRecord, VariantName } from '../avatar/store';

/**
 * What work a request asked for (a contact resolved, a variant rendered) ended with: what it produced, or how
 * the wait for it ended without that. One vocabulary from the worker to the response, whichever adapter did it.
 *  - `finished`: done, but nothing handed over (a background job; a job of an older worker): read it.
 *  - `failed`: its attempt failed (an upstream error, a bad picture).
 *  - `timeout`: not done within the request's wait.
 *  - `backlog`: the queue was too long to add to; nothing was started.
 */
export type WaitOutcome = 'finished' | 'failed' | 'timeout' | 'backlog';

/** A variant rendered (and stored): its bytes, which the waiting requests serve without reading them back. */
export interface Rendered {
  bytes: Buffer;
}

/**
 * A contact resolved (and stored): the record written, and the default thumbnail when this process rendered
 * one, which the waiting requests serve without reading them back. A job hands over the record only
 * (`R` = ServedRecord); the pipeline that wrote it has all of it.
 */
export interface Resolved<R extends ServedRecord = ServedRecord> {
  record: R;
  thumbnail?: VariantName & { bytes: Buffer };
}

export type ResolveOutcome = WaitOutcome | Resolved;
export type RenderOutcome = WaitOutcome | Rendered;
