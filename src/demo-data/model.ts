/**
 * The events the demo sends, in the native ingest format (docs/API.md, "ingest"): plain JSON, so
 * this folder needs nothing of the ingest domain; the ingest validates them as any client's.
 */
export type Tags = Record<string, string>;
export type Attributes = Record<string, string | number | boolean>;

export interface DemoMetric {
  name: string;
  type: 'gauge' | 'counter' | 'histogram';
  value?: number;
  timestamp: number;
  tags: Tags;
  unit?: string;
  temporality?: 'delta';
  histogram?: { count: number; sum: number; min: number | null; max: number | null; bounds: number[]; counts: number[] };
}

export interface DemoLog {
  id: string;
  timestamp: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  service: string;
  message: string;
  attributes: Attributes;
  trace_id?: string;
  span_id?: string;
}

export interface DemoSpan {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  name: string;
  service: string;
  start: number;
  duration: number;
  status: 'unset' | 'ok' | 'error';
  status_message?: string;
  kind: 'internal' | 'server' | 'client' | 'producer';
  attributes: Attributes;
  events?: Array<{ name: string; timestamp: number; attributes: Attributes }>;
}

export interface DemoEvents {
  metrics: DemoMetric[];
  logs: DemoLog[];
  spans: DemoSpan[];
}

export const eventCount = (e: DemoEvents) => e.metrics.length + e.logs.length + e.spans.length;
