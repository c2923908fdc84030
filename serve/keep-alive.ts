/**
 * Keep-alive safety for answers sent before the request body was read (a 400 from the query, a 415
 * from the Content-Type, a 413, a 503 from admission, a 404/405): such an answer carries
 * `Connection: close`, so the client sends its next request on a fresh connection. Without it,
 * @hono/node-server drains the unread body for at most 500 ms and then destroys the socket, and a
 * next request already sent on that keep-alive connection dies without an answer.
 *
 * A body counts as read when Node has received all of it (`incoming.complete`), whether or not the
 * handler looked at it; a request without a body never needs the close.
 */
import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';

/** The Node request under @hono/node-server (undefined under `app.request()` in tests). */
export function nodeIncoming(env: unknown): IncomingMessage | undefined {
  return (env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

function hasBody(headers: Headers): boolean {
  const length = headers.get('content-length');
  return headers.has('transfer-encoding') || (length !== null && length.trim() !== '0');
}

export function closeOnUnreadBody(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const incoming = nodeIncoming(c.env);
    if (!incoming || incoming.complete || !hasBody(c.req.raw.headers)) return;
    c.res.headers.set('Connection', 'close');
  };
}
