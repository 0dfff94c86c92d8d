'use client';

import { useEffect, useRef, useState, type PointerEvent } from 'react';
import { formatTime } from '../../lib/time.ts';
import { LEVEL_COLORS, LEVELS, type Level } from './query-syntax.ts';
import { stepText, tickTime } from './format.ts';

export interface HistogramData {
  step: number;
  from: number;
  to: number;
  total: number;
  totals: Record<string, number>;
  buckets: Array<{ start: number; total: number; counts: Record<string, number> }>;
}

const HEIGHT = 110;
const AXIS = 18;

/**
 * Log lines per level over time as stacked bars (GET /logs/histogram), drawn in SVG: a bucket per
 * bar, levels stacked quiet to loud. Drag across it to select a range (onZoom gets it in ms, as the
 * metrics chart does); the values, each bucket with a zoom button, are one click away as a table
 * (keyboard, screen readers, tests). Clicking a level in the legend filters by it.
 */
export function LevelHistogram({ data, onZoom, onLevel }: { data: HistogramData; onZoom(from: number, to: number): void; onLevel(level: Level): void }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  const [drag, setDrag] = useState<{ x0: number; x1: number }>();
  const [hover, setHover] = useState<number>();
  const [showTable, setShowTable] = useState(false);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(200, el.clientWidth));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const stepMs = data.step * 1000;
  const start = data.buckets[0]?.start ?? data.from;
  const end = data.buckets.length ? data.buckets[data.buckets.length - 1]!.start + stepMs : data.to;
  const span = Math.max(1, end - start);
  const x = (t: number) => ((t - start) / span) * width;
  const t = (px: number) => start + (Math.min(Math.max(px, 0), width) / width) * span;
  const max = Math.max(1, ...data.buckets.map((b) => b.total));
  const plotH = HEIGHT - AXIS;
  const barW = Math.max(1, (stepMs / span) * width - (width / data.buckets.length > 6 ? 1.5 : 0));

  const local = (e: PointerEvent<SVGRectElement>) => e.clientX - e.currentTarget.getBoundingClientRect().left;
  const onDown = (e: PointerEvent<SVGRectElement>) => {
    e.currentTarget.setPointerCapture(e.pointerId);
    const px = local(e);
    setDrag({ x0: px, x1: px });
  };
  const onMove = (e: PointerEvent<SVGRectElement>) => {
    const px = local(e);
    if (drag) setDrag({ ...drag, x1: px });
    const i = Math.floor((t(px) - start) / stepMs);
    setHover(i >= 0 && i < data.buckets.length ? i : undefined);
  };
  const onUp = () => {
    if (drag && Math.abs(drag.x1 - drag.x0) >= 3) {
      const a = t(Math.min(drag.x0, drag.x1));
      const b = t(Math.max(drag.x0, drag.x1));
      onZoom(Math.max(a, data.from), Math.min(b, data.to));
    }
    setDrag(undefined);
  };

  const ticks = Array.from({ length: 5 }, (_, i) => start + (span * (i + 0.5)) / 5);
  const hovered = hover === undefined ? undefined : data.buckets[hover];
  return (
    <figure className="log-histogram" aria-label="Log lines per level over time">
      <div className="log-histogram-readout" aria-hidden="true">
        {hovered ? (
          <>
            <strong>{formatTime(hovered.start)}</strong> · {hovered.total.toLocaleString()} lines
            {LEVELS.filter((l) => hovered.counts[l]).map((l) => <span key={l}> · <span className="swatch" style={{ background: LEVEL_COLORS[l] }} />{l} {hovered.counts[l]!.toLocaleString()}</span>)}
          </>
        ) : (
          <span className="muted">{data.total.toLocaleString()} lines, a bar every {stepText(data.step)}. Drag across the bars to zoom.</span>
        )}
      </div>
      <div ref={box} className="log-histogram-plot">
        <svg width={width} height={HEIGHT} role="img" data-testid="histogram" data-total={data.total} data-buckets={data.buckets.length}
          aria-label={`Log lines per level: ${data.total} lines in ${data.buckets.length} buckets of ${stepText(data.step)}`}>
          <line x1={0} x2={width} y1={plotH + 0.5} y2={plotH + 0.5} stroke="#d0d7de" />
          <line x1={0} x2={width} y1={14.5} y2={14.5} stroke="#eaeef2" strokeDasharray="3 3" />
          <text x={4} y={11} className="axis">{max.toLocaleString()} {max === 1 ? 'line' : 'lines'}</text>
          {data.buckets.map((b) => {
            let y = plotH;
            return (
              <g key={b.start}>
                {LEVELS.filter((l) => b.counts[l]).map((l) => {
                  const h = Math.max(1, (b.counts[l]! / max) * (plotH - 14));
                  y -= h;
                  return <rect key={l} x={x(b.start)} y={y} width={barW} height={h} fill={LEVEL_COLORS[l]} />;
                })}
              </g>
            );
          })}
          {ticks.map((tk) => <text key={tk} x={x(tk)} y={HEIGHT - 4} textAnchor="middle" className="axis">{tickTime(tk, span)}</text>)}
          {drag ? <rect x={Math.min(drag.x0, drag.x1)} y={0} width={Math.abs(drag.x1 - drag.x0)} height={plotH} className="brush" /> : null}
          <rect data-testid="histogram-brush" x={0} y={0} width={width} height={plotH} fill="transparent" style={{ cursor: 'crosshair', touchAction: 'none' }}
            onPointerDown={onDown} onPointerMove={onMove} onPointerUp={onUp} onPointerCancel={() => setDrag(undefined)} onPointerLeave={() => !drag && setHover(undefined)} />
        </svg>
      </div>
      <figcaption className="legend">
        {LEVELS.map((l) => (
          <button key={l} type="button" className="level-key" onClick={() => onLevel(l)} title={`Show ${l} lines only`}>
            <span className="swatch" style={{ background: LEVEL_COLORS[l] }} />{l} <span className="muted" data-testid={`total-${l}`}>{(data.totals[l] ?? 0).toLocaleString()}</span>
          </button>
        ))}
        <button type="button" className="secondary" onClick={() => setShowTable((v) => !v)} aria-expanded={showTable}>{showTable ? 'Hide table' : 'Show as table'}</button>
      </figcaption>
      {showTable ? (
        <div className="lt-scroll" style={{ maxHeight: 260 }} tabIndex={0} role="region" aria-label="Histogram values">
          <table data-testid="histogram-table">
            <thead><tr><th scope="col">Bucket start</th>{LEVELS.map((l) => <th scope="col" key={l}>{l}</th>)}<th scope="col">Total</th><th scope="col"><span className="sr-only">Zoom</span></th></tr></thead>
            <tbody>
              {data.buckets.map((b) => (
                <tr key={b.start} data-start={b.start} data-total={b.total}>
                  <td>{formatTime(b.start)}</td>
                  {LEVELS.map((l) => <td key={l}>{b.counts[l] ?? 0}</td>)}
                  <td>{b.total}</td>
                  <td><button type="button" className="secondary small" onClick={() => onZoom(b.start, b.start + stepMs)} aria-label={`Zoom to ${formatTime(b.start)}`}>Zoom</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </figure>
  );
}
