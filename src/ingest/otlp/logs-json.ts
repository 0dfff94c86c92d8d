import type { DecodedBatch } from '../model.ts';
import { idFromHex, serviceName } from './convert.ts';
import { ItemFault } from './errors.ts';
import { isObject, jAnyValue, jArray, jInt, jKeyValues, jObject, jResource, jScope, jString, jTime, parseJsonBody, requestLevel } from './json-common.ts';
import { type LogContext, buildLog } from './logs.ts';
import { Sink } from './sink.ts';

/** ExportLogsServiceRequest in OTLP/JSON; the same mapping as the protobuf decoder. */

export function decodeLogsJson(body: Uint8Array): DecodedBatch {
  const root = parseJsonBody(body);
  const sink = new Sink();
  requestLevel(() => {
    const resources = jArray(root.resourceLogs, 'resourceLogs');
    for (let i = 0; i < resources.length; i++) resourceLogs(resources[i], sink, `resourceLogs.${i}`);
  });
  return sink.batch;
}

function resourceLogs(v: unknown, sink: Sink, path: string): void {
  const rl = jObject(v, path);
  if (!rl) return;
  const resource = jResource(rl.resource, `${path}.resource`);
  const service = serviceName(resource);
  const scopes = jArray(rl.scopeLogs, `${path}.scopeLogs`);
  for (let i = 0; i < scopes.length; i++) {
    const sPath = `${path}.scopeLogs.${i}`;
    const sl = jObject(scopes[i], sPath);
    if (!sl) continue;
    const scope = jScope(sl.scope, `${sPath}.scope`);
    const ctx: LogContext = { service, resource, scopeName: scope.name, scopeVersion: scope.version };
    const records = jArray(sl.logRecords, `${sPath}.logRecords`);
    for (let j = 0; j < records.length; j++) {
      const index = sink.item();
      try {
        const list = sink.batch.logs;
      list.push(logRecord(records[j], ctx));
      sink.origin(list, list.length - 1, index, `${sPath}.logRecords.${j}`);
      } catch (e) {
        sink.fault(e, index, `${sPath}.logRecords.${j}`);
      }
    }
  }
}

function logRecord(v: unknown, ctx: LogContext): ReturnType<typeof buildLog> {
  if (!isObject(v)) throw new ItemFault('', 'expected a log record object');
  const attributes: Record<string, unknown> = {};
  jKeyValues(v.attributes, 'attributes', attributes, 0, false);
  return buildLog(ctx, {
    timeMs: jTime(v.timeUnixNano, 'timeUnixNano'),
    observedMs: jTime(v.observedTimeUnixNano, 'observedTimeUnixNano'),
    severityNumber: jInt(v.severityNumber, 'severityNumber'),
    severityText: jString(v.severityText, 'severityText'),
    body: jAnyValue(v.body, 'body', 0),
    attributes,
    traceId: idFromHex(v.traceId, 16, 'traceId', 'trace id', false),
    spanId: idFromHex(v.spanId, 8, 'spanId', 'span id', false),
    eventName: jString(v.eventName, 'eventName'),
  });
}
