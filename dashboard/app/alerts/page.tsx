'use client';

import { AlertsView } from '../../components/alerts/alerts-view.tsx';
import { Console } from '../../components/console.tsx';

export default function AlertsPage() {
  return <Console title="Alerts"><AlertsView /></Console>;
}
