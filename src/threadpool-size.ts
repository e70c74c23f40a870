/**
 * Imported first by the entry point, before anything uses libuv's threadpool (it starts on first use).
 * sharp, DNS lookups, crypto and fs share that pool, 4 threads by default: renders (bounded by
 * RENDER_CONCURRENCY) must leave threads free for the request path (placeholders, lookups) in a one-process
 * start. An operator's own UV_THREADPOOL_SIZE wins.
 */
process.env.UV_THREADPOOL_SIZE ??= '8';
