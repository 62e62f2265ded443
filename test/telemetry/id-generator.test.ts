import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { BasicTracerProvider, RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createPresetIdGenerator, withPresetIds } from '../../src/telemetry/id-generator.js';

const PRESET = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) };

describe('the preset id generator', () => {
  it('hands out the preset ids inside withPresetIds and random ones elsewhere', () => {
    const ids = createPresetIdGenerator();
    expect(withPresetIds(PRESET, () => [ids.generateTraceId(), ids.generateSpanId()])).toEqual([
      PRESET.traceId,
      PRESET.spanId,
    ]);
    const outside = [ids.generateTraceId(), ids.generateSpanId()];
    expect(outside[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(outside[1]).toMatch(/^[0-9a-f]{16}$/);
    expect(outside).not.toEqual([PRESET.traceId, PRESET.spanId]);
    expect(ids.generateSpanId()).not.toBe(outside[1]);
  });

  it('restores the outer preset after a nested one and after a throw', () => {
    const ids = createPresetIdGenerator();
    const inner = { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16) };
    withPresetIds(PRESET, () => {
      expect(withPresetIds(inner, () => ids.generateSpanId())).toBe(inner.spanId);
      expect(ids.generateSpanId()).toBe(PRESET.spanId);
      expect(() =>
        withPresetIds(inner, () => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(ids.generateSpanId()).toBe(PRESET.spanId);
    });
    expect(ids.generateSpanId()).not.toBe(PRESET.spanId);
  });

  it('falls back to the generator it wraps', () => {
    const ids = createPresetIdGenerator({
      generateTraceId: () => 'e'.repeat(32),
      generateSpanId: () => 'f'.repeat(16),
    });
    expect([ids.generateTraceId(), ids.generateSpanId()]).toEqual(['e'.repeat(32), 'f'.repeat(16)]);
  });

  it('lets an SDK tracer start a root span, or a child of a remote parent, under preset ids', () => {
    const tracer = new BasicTracerProvider({
      idGenerator: createPresetIdGenerator(new RandomIdGenerator()),
    }).getTracer('t');
    const root = withPresetIds(PRESET, () => tracer.startSpan('root', {}, ROOT_CONTEXT));
    expect(root.spanContext()).toMatchObject({ traceId: PRESET.traceId, spanId: PRESET.spanId });
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: PRESET.traceId,
      spanId: '1'.repeat(16),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    const child = withPresetIds(PRESET, () => tracer.startSpan('child', {}, parent));
    expect(child.spanContext()).toMatchObject({ traceId: PRESET.traceId, spanId: PRESET.spanId });
    root.end();
    child.end();
  });
});
