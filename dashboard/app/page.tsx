'use client';

import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

/** The root: the metrics explorer (which sends a signed-out visitor to sign in). */
export default function Home() {
  const router = useRouter();
  useEffect(() => router.replace('/metrics/'), [router]);
  return <main id="main"><p>Opening the console…</p></main>;
}
