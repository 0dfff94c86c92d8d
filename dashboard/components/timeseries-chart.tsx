'use client';

import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatTime } from '../lib/time.ts';

/** Okabe-Ito: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000', '#b8a000'];

export interface ChartSeries {
  label: string;
  points: Array<[number, number | null]>;
}

export interface Band {
  /** [ms, lower, upper] */
  points: Array<[number, number | null, number | null]>;
  label: string;
}

/**
 * A uPlot time-series chart: canvas-drawn, so 10,000 points a series stay smooth. Drag across it to
 * zoom (onZoom gets the new range in ms); `band` draws an expected range behind the series (anomaly
 * detection). A table of the same values is one click away (screen readers, copying, tests).
 */
export function TimeSeriesChart({ series, band, height = 260, onZoom, label }: { series: ChartSeries[]; band?: Band; height?: number; onZoom?(from: number, to: number): void; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;
  const [showTable, setShowTable] = useState(false);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const { data, opts } = build(series, band, el.clientWidth || 800, height, (from, to) => zoom.current?.(from, to));
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth || 800, height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [series, band, height]);

  const points = series.reduce((n, s) => n + s.points.length, 0);
  return (
    <figure className="chart" aria-label={label} style={{ margin: 0 }}>
      <div ref={box} data-testid="chart" data-series={series.length} data-points={points} role="img" aria-label={`${label}: ${series.length} series, ${points} points`} />
      <figcaption className="legend">
        {series.map((s, i) => (
          <span key={s.label}><span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />{s.label}</span>
        ))}
        <button type="button" className="secondary" onClick={() => setShowTable((v) => !v)} aria-expanded={showTable}>{showTable ? 'Hide table' : 'Show as table'}</button>
      </figcaption>
      {showTable ? <ValuesTable series={series} /> : null}
    </figure>
  );
}

function ValuesTable({ series }: { series: ChartSeries[] }) {
  return (
    <div style={{ maxHeight: 300, overflow: 'auto' }} tabIndex={0} role="region" aria-label="Chart values">
      <table data-testid="chart-table">
        <thead><tr><th scope="col">Series</th><th scope="col">Time</th><th scope="col">Value</th></tr></thead>
        <tbody>
          {series.flatMap((s) => s.points.slice(0, 2000).map(([t, v]) => (
            <tr key={`${s.label}:${t}`} data-series={s.label} data-time={t} data-value={v ?? ''}><td>{s.label}</td><td>{formatTime(t)}</td><td>{v === null ? '—' : formatValue(v)}</td></tr>
          )))}
        </tbody>
      </table>
    </div>
  );
}

export function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
  return Number(v.toPrecision(6)).toLocaleString(undefined, { maximumFractionDigits: 4 });
}

/** Series on one x axis (the union of their timestamps, in seconds as uPlot wants), nulls where a series has no point. */
export function alignSeries(series: ChartSeries[], band?: Band): uPlot.AlignedData {
  const xs = new Set<number>();
  for (const s of series) for (const [t] of s.points) xs.add(t);
  if (band) for (const [t] of band.points) xs.add(t);
  const x = [...xs].sort((a, b) => a - b);
  const index = new Map(x.map((t, i) => [t, i]));
  const col = (pts: Array<[number, number | null]>) => {
    const out: Array<number | null> = new Array(x.length).fill(null);
    for (const [t, v] of pts) out[index.get(t)!] = v;
    return out;
  };
  const cols: Array<Array<number | null>> = [];
  if (band) cols.push(col(band.points.map(([t, lo]) => [t, lo])), col(band.points.map(([t, , hi]) => [t, hi])));
  for (const s of series) cols.push(col(s.points));
  return [x.map((t) => t / 1000), ...cols] as uPlot.AlignedData;
}

function build(series: ChartSeries[], band: Band | undefined, width: number, height: number, onZoom: (from: number, to: number) => void) {
  const data = alignSeries(series, band);
  const s: uPlot.Series[] = [{ value: (_u, v) => (v == null ? '' : formatTime(v * 1000)) }];
  const bands: uPlot.Band[] = [];
  if (band) {
    s.push({ label: `${band.label} (low)`, stroke: 'rgba(86,180,233,0.6)', width: 1, points: { show: false } });
    s.push({ label: `${band.label} (high)`, stroke: 'rgba(86,180,233,0.6)', width: 1, points: { show: false } });
    bands.push({ series: [2, 1], fill: 'rgba(86,180,233,0.18)' });
  }
  series.forEach((x, i) => s.push({ label: x.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false, points: { show: x.points.length < 60 }, value: (_u, v) => (v == null ? '—' : formatValue(v)) }));
  const opts: uPlot.Options = {
    width,
    height,
    series: s,
    bands,
    legend: { show: false },
    cursor: { drag: { x: true, y: false, setScale: false } },
    scales: { x: { time: true } },
    axes: [{ stroke: '#57606a', grid: { stroke: '#eaeef2' } }, { stroke: '#57606a', grid: { stroke: '#eaeef2' }, size: 60, values: (_u, vals) => vals.map((v) => formatValue(v)) }],
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width < 3) return;
          const from = u.posToVal(u.select.left, 'x') * 1000;
          const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          if (to > from) onZoom(from, to);
        },
      ],
    },
  };
  return { data, opts };
}
