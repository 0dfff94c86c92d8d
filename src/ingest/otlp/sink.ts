import type { DecodedBatch, ItemOrigin } from '../model.ts';
import { ItemFault } from './errors.ts';

/**
 * Collects a decode's output and numbers its items (data points, log records, spans) in request
 * order, from 0 across the whole request. Each decoded item's origin (its index and the path of
 * the OTLP item, e.g. "resourceSpans.0.scopeSpans.1.spans.3") goes to `batch.origins`, so that
 * later checks report problems the same way the decoder does.
 */
export class Sink {
  readonly batch: DecodedBatch & { origins: WeakMap<object, ItemOrigin> } = {
    metrics: [],
    logs: [],
    spans: [],
    errors: [],
    origins: new WeakMap(),
  };
  private nextIndex = 0;

  /** Claims the next item index. */
  item(): number {
    return this.nextIndex++;
  }

  /** Records the origin of the items list[from..] (one OTLP item may yield several, e.g. a summary). */
  origin(list: object[], from: number, index: number, path: string): void {
    const origin: ItemOrigin = { index, field: path };
    for (let i = from; i < list.length; i++) this.batch.origins.set(list[i]!, origin);
  }

  reject(index: number, path: string, field: string, message: string): void {
    this.batch.errors.push({ index, field: field === '' ? path : `${path}.${field}`, message });
  }

  /** Records an ItemFault against the item at `path`; rethrows anything else (a malformed request). */
  fault(e: unknown, index: number, path: string): void {
    if (!(e instanceof ItemFault)) throw e;
    this.reject(index, path, e.field, e.message);
  }
}
