'use client';

import { useCallback, useEffect, useState } from 'react';

/**
 * The page's state mirrored in the query string (links can be shared and reloaded). Read once on
 * mount (a static export has no server to read it), written with history.replaceState.
 */
export function useUrlState(): [URLSearchParams | undefined, (update: (p: URLSearchParams) => void) => void] {
  const [params, setParams] = useState<URLSearchParams>();
  useEffect(() => setParams(new URLSearchParams(window.location.search)), []);
  const update = useCallback((fn: (p: URLSearchParams) => void) => {
    const next = new URLSearchParams(window.location.search);
    fn(next);
    const q = next.toString();
    window.history.replaceState(null, '', `${window.location.pathname}${q ? `?${q}` : ''}`);
    setParams(next);
  }, []);
  return [params, update];
}
