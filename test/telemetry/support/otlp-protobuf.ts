/**
 * A minimal decoder of OTLP protobuf export requests (traces and metrics, opentelemetry-proto
 * v1), for the test receiver: it turns them into the shape of their OTLP JSON encoding (ids as
 * hex, attributes as {key, value: {stringValue | intValue | boolValue | doubleValue}}), so the
 * tests read both encodings the same way. Only the fields the tests look at are decoded.
 */

type Field = { wire: number; value: bigint | Buffer };

/** Splits one message into its fields, by field number, in order. */
function fields(buffer: Buffer): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let offset = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[offset++];
      if (byte === undefined) throw new Error('protobuf: truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (offset < buffer.length) {
    const tag = Number(varint());
    const wire = tag & 7;
    let value: bigint | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 1) value = buffer.subarray(offset, (offset += 8));
    else if (wire === 5) value = buffer.subarray(offset, (offset += 4));
    else if (wire === 2) {
      const length = Number(varint());
      value = buffer.subarray(offset, (offset += length));
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
    const list = out.get(tag >>> 3) ?? [];
    list.push({ wire, value });
    out.set(tag >>> 3, list);
  }
  return out;
}

const bytesOf = (message: Map<number, Field[]>, field: number): Buffer[] =>
  (message.get(field) ?? []).map((entry) => entry.value as Buffer);
const firstBytes = (message: Map<number, Field[]>, field: number): Buffer | undefined =>
  bytesOf(message, field)[0];
const text = (message: Map<number, Field[]>, field: number): string =>
  firstBytes(message, field)?.toString('utf8') ?? '';
const hex = (message: Map<number, Field[]>, field: number): string =>
  firstBytes(message, field)?.toString('hex') ?? '';
const varintOf = (message: Map<number, Field[]>, field: number): bigint | undefined =>
  message.get(field)?.[0]?.value as bigint | undefined;

function anyValue(buffer: Buffer): Record<string, unknown> {
  const value = fields(buffer);
  if (value.has(1)) return { stringValue: text(value, 1) };
  if (value.has(2)) return { boolValue: varintOf(value, 2) === 1n };
  if (value.has(3)) return { intValue: Number(BigInt.asIntN(64, varintOf(value, 3)!)) };
  if (value.has(4)) return { doubleValue: firstBytes(value, 4)!.readDoubleLE(0) };
  return {};
}

function attributes(message: Map<number, Field[]>, field: number): Array<{ key: string; value: unknown }> {
  return bytesOf(message, field).map((buffer) => {
    const keyValue = fields(buffer);
    const value = firstBytes(keyValue, 2);
    return { key: text(keyValue, 1), value: value ? anyValue(value) : {} };
  });
}

const resource = (buffer: Buffer | undefined) => ({
  attributes: buffer ? attributes(fields(buffer), 1) : [],
});

/** ExportTraceServiceRequest → its JSON shape. */
export function decodeTraceRequest(body: Buffer): unknown {
  return {
    resourceSpans: bytesOf(fields(body), 1).map((buffer) => {
      const resourceSpans = fields(buffer);
      return {
        resource: resource(firstBytes(resourceSpans, 1)),
        scopeSpans: bytesOf(resourceSpans, 2).map((scopeBuffer) => ({
          spans: bytesOf(fields(scopeBuffer), 2).map((spanBuffer) => {
            const span = fields(spanBuffer);
            const status = firstBytes(span, 15);
            return {
              traceId: hex(span, 1),
              spanId: hex(span, 2),
              parentSpanId: hex(span, 4),
              name: text(span, 5),
              attributes: attributes(span, 9),
              events: bytesOf(span, 11).map((event) => ({ name: text(fields(event), 2) })),
              status: { code: status ? Number(varintOf(fields(status), 3) ?? 0n) : 0 },
            };
          }),
        })),
      };
    }),
  };
}

function numberPoint(buffer: Buffer): Record<string, unknown> {
  const point = fields(buffer);
  const asDouble = firstBytes(point, 4);
  const asInt = firstBytes(point, 6);
  return {
    attributes: attributes(point, 7),
    ...(asDouble ? { asDouble: asDouble.readDoubleLE(0) } : {}),
    ...(asInt ? { asInt: Number(asInt.readBigInt64LE(0)) } : {}),
  };
}

function histogramPoint(buffer: Buffer): Record<string, unknown> {
  const point = fields(buffer);
  return { attributes: attributes(point, 9), count: Number(firstBytes(point, 4)?.readBigUInt64LE(0) ?? 0n) };
}

/** ExportMetricsServiceRequest → its JSON shape (gauges, sums and histograms). */
export function decodeMetricsRequest(body: Buffer): unknown {
  return {
    resourceMetrics: bytesOf(fields(body), 1).map((buffer) => {
      const resourceMetrics = fields(buffer);
      return {
        resource: resource(firstBytes(resourceMetrics, 1)),
        scopeMetrics: bytesOf(resourceMetrics, 2).map((scopeBuffer) => ({
          metrics: bytesOf(fields(scopeBuffer), 2).map((metricBuffer) => {
            const metric = fields(metricBuffer);
            const points = (field: number, decode: (b: Buffer) => Record<string, unknown>) => {
              const data = firstBytes(metric, field);
              return data ? { dataPoints: bytesOf(fields(data), 1).map(decode) } : undefined;
            };
            return {
              name: text(metric, 1),
              gauge: points(5, numberPoint),
              sum: points(7, numberPoint),
              histogram: points(9, histogramPoint),
            };
          }),
        })),
      };
    }),
  };
}
