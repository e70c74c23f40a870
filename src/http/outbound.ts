import axios, { type AxiosInstance } from 'axios';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { LookupFunction } from 'node:net';

/**
 * An HTTP client for calls the service makes (GetAvatar, source downloads): one keep-alive connection pool,
 * no per-call proxy lookup in the environment, and optionally its own DNS resolution (a guard).
 */
export function outboundHttp(lookup?: LookupFunction): AxiosInstance {
  return axios.create({ httpAgent: new HttpAgent({ keepAlive: true, lookup }), httpsAgent: new HttpsAgent({ keepAlive: true, lookup }), proxy: false });
}
