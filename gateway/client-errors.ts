/**
 * Requests Node's HTTP parser rejects before any route sees them (headers
 * over 16 KiB, malformed request lines) still get a JSON error body, never a
 * bare reset.
 */
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { statusOf, type ErrorCode } from './error-table.ts';

function respond(socket: Duplex, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const status = statusOf(code);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      respond(socket, 'HeadersTooLarge', 'request headers are larger than 16 KiB');
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      respond(socket, 'RequestTimeout', 'the request took too long to arrive');
    } else {
      respond(socket, 'MalformedRequest', 'the HTTP request could not be parsed');
    }
  });
}
