'use client';

import { AnomaliesView } from '../../components/anomalies/anomalies-view.tsx';
import { Console } from '../../components/console.tsx';

export default function AnomaliesPage() {
  return <Console title="Anomalies"><AnomaliesView /></Console>;
}
