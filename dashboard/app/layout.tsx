import type { ReactNode } from 'react';
import './globals.css';

export const metadata = { title: 'ObservAI', description: 'Metrics, logs, traces, anomalies, alerts and on-call for Supabase teams' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
