/**
 * Hardening headers on every response, with COOP/COEP/CORP: the web demo needs cross-origin
 * isolation for threaded WASM. No HSTS: a TLS proxy in front decides about it.
 */
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    crossOriginOpenerPolicy: 'same-origin',
    crossOriginEmbedderPolicy: 'require-corp',
    crossOriginResourcePolicy: 'same-origin',
    strictTransportSecurity: false,
  });
}
