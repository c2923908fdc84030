/**
 * The Node HTTP server's own limits, set deliberately (Node's defaults are for a generic server),
 * and malformed HTTP answered as problem JSON instead of Node's bare 400/431. Why each value is
 * what it is: serve/README.md, "Timeouts".
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, ProblemError } from './problem.ts';

export interface HttpTimeouts {
  /** Time to receive a request's headers, from its first byte. */
  headersTimeoutMs: number;
  /** Time to receive a whole request, headers and body. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /**
   * How often Node checks the headers and request timeouts (its `connectionsCheckingInterval`,
   * a server option, default 30 s): a timeout fires up to this much late.
   */
  checkIntervalMs: number;
}

export const HTTP_TIMEOUTS: Readonly<HttpTimeouts> = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 65_000,
  checkIntervalMs: 2_000,
};

/** The raw HTTP answer for a request Node's parser refused (no app runs for it). */
export function clientErrorResponse(code: string | undefined): string {
  const [status, detail]: [number, string] =
    code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'the request headers are larger than the server accepts (16 KiB)']
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request was not received in time']
        : [400, `malformed HTTP request${code ? ` (${code})` : ''}`];
  const problem = new ProblemError(status as 400, detail, { code: status === 400 ? 'E_BAD_REQUEST' : status === 431 ? 'E_HEADERS_TOO_LARGE' : 'E_REQUEST_TIMEOUT' });
  const body = JSON.stringify(problem.body);
  return (
    `HTTP/1.1 ${status} ${problem.body.title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Sets the timeouts (checkIntervalMs goes to the server's constructor) and answers clientError as a problem. */
export function hardenHttpServer(server: Server, timeouts: Omit<HttpTimeouts, 'checkIntervalMs'> = HTTP_TIMEOUTS): void {
  server.headersTimeout = timeouts.headersTimeoutMs;
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A reset connection or one whose answer has begun cannot take an answer.
    const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
    if (error.code === 'ECONNRESET' || !socket.writable || started) {
      socket.destroy();
      return;
    }
    // Written, then the connection is closed for good: a half-closed socket would keep the
    // request's body stream (and its body-budget reservation) open until the client hangs up.
    socket.end(clientErrorResponse(error.code), () => socket.destroy());
  });
}
