import { useCallback, useEffect, useState } from 'react';
import { useServices } from '../../app/services';

/**
 * A signed URL for a blob (or its thumbnail), renewed shortly before it expires. `retry`
 * forgets the URL and asks again (after the browser failed to load it, e.g. `url_expired`).
 */
export function useSignedUrl(mediaId: string | null, thumbnail = false): { url: string | null; failed: boolean; retry: () => void } {
  const { media } = useServices();
  const [url, setUrl] = useState<string | null>(() => (mediaId ? media.urls.peek(mediaId, thumbnail) : null));
  const [failed, setFailed] = useState(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!mediaId) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = () => {
      media.urls.get(mediaId, thumbnail).then(
        (u) => {
          if (cancelled) return;
          setUrl(u);
          setFailed(false);
          const renew = media.urls.renewIn(mediaId, thumbnail);
          if (renew != null) timer = setTimeout(load, Math.max(1000, renew + 50));
        },
        () => {
          if (!cancelled) setFailed(true);
        },
      );
    };
    load();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [media, mediaId, thumbnail, attempt]);

  const retry = useCallback(() => {
    if (!mediaId) return;
    media.urls.invalidate(mediaId, thumbnail);
    setAttempt((a) => (a < 3 ? a + 1 : a));
  }, [media, mediaId, thumbnail]);

  return { url, failed, retry };
}
