/**
 * Requests Node's HTTP parser rejects before any route sees them (headers
 * over 16 KiB, malformed request lines) still get a JSON error body, never a
 * bare reset.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

const bodyFor = (code: string, message: string) => JSON.stringify({ error: { code, message } });

function respond(socket: Duplex, status: string, code: string, message: string): void {
  const body = bodyFor(code, message);
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      respond(socket, '431 Request Header Fields Too Large', 'HeadersTooLarge', 'request headers are larger than 16 KiB');
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      respond(socket, '408 Request Timeout', 'RequestTimeout', 'the request took too long to arrive');
    } else {
      respond(socket, '400 Bad Request', 'MalformedRequest', 'the HTTP request could not be parsed');
    }
  });
}
