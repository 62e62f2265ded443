import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeMetricsRequest, decodeTraceRequest } from './otlp-protobuf.js';

/** One OTLP/HTTP export received: the path (`/v1/traces`, `/v1/metrics`), its encoding, its body as JSON. */
export interface ReceivedExport {
  path: string;
  encoding: 'json' | 'protobuf';
  body: unknown;
}

/** A local OTLP/HTTP receiver that accepts JSON and protobuf exports and keeps them. */
export interface OtlpReceiver {
  /** The base endpoint to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  /** The bodies received on `path`, protobuf ones decoded into the JSON shape. */
  received(path: string): unknown[];
  /** Encodings seen on `path`. */
  encodings(path: string): Set<string>;
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
        const path = request.url ?? '';
        const type = String(request.headers['content-type']);
        if (type.startsWith('application/json')) {
          exports.push({ path, encoding: 'json', body: JSON.parse(raw.toString('utf8')) as unknown });
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else if (type.startsWith('application/x-protobuf')) {
          const body = path === '/v1/traces' ? decodeTraceRequest(raw) : decodeMetricsRequest(raw);
          exports.push({ path, encoding: 'protobuf', body });
          // An empty ExportServiceResponse is a zero-length message.
          response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        } else {
          throw new Error(`unexpected content type ${type}`);
        }
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
    encodings: (path) =>
      new Set(exports.filter((entry) => entry.path === path).map((entry) => entry.encoding)),
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
