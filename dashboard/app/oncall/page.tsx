'use client';

import { Console } from '../../components/console.tsx';
import { OncallOverview } from '../../components/oncall/oncall-overview.tsx';

export default function OncallPage() {
  return <Console title="On-call"><OncallOverview /></Console>;
}
