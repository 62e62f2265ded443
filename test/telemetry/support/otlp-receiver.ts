import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One OTLP/HTTP export received: the path (`/v1/traces`, `/v1/metrics`) and its JSON body. */
export interface ReceivedExport {
  path: string;
  body: unknown;
}

/** A local OTLP/HTTP receiver that accepts JSON exports and keeps them. */
export interface OtlpReceiver {
  /** The base endpoint to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  received(path: string): unknown[];
  close(): Promise<void>;
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: ReceivedExport[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        let raw = Buffer.concat(chunks);
        if (request.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
        if (!String(request.headers['content-type']).startsWith('application/json')) {
          throw new Error(`expected JSON, got ${request.headers['content-type']}`);
        }
        exports.push({ path: request.url ?? '', body: JSON.parse(raw.toString('utf8')) as unknown });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (error) {
        response.writeHead(400).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('receiver has no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    received: (path) => exports.filter((entry) => entry.path === path).map((entry) => entry.body),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
