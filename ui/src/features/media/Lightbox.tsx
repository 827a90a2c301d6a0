// Full-size pictures over the app: zoom, next/previous among the conversation's pictures,
// Esc closes and focus returns where it was.

import { useEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icon';
import type { GalleryItem } from './gallery';
import { useSignedUrl } from './useSignedUrl';

export function Lightbox({ items, index, onIndex, onClose }: { items: GalleryItem[]; index: number; onIndex: (i: number) => void; onClose: () => void }) {
  const { t } = useI18n();
  const item = items[index];
  const full = useSignedUrl(item?.mediaId ?? null).url;
  const thumb = useSignedUrl(item?.hasThumbnail ? item.mediaId : null, true).url;
  const [zoom, setZoom] = useState(1);
  const [loaded, setLoaded] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const closeBtn = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    setZoom(1);
    setLoaded(false);
  }, [index]);

  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    closeBtn.current?.focus();
    return () => before?.focus?.();
  }, []);

  const hasPrev = index > 0;
  const hasNext = index < items.length - 1;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
      else if (e.key === 'ArrowLeft' && hasPrev) onIndex(index - 1);
      else if (e.key === 'ArrowRight' && hasNext) onIndex(index + 1);
      else if (e.key === '+' || e.key === '=') setZoom((z) => Math.min(4, z * 1.5));
      else if (e.key === '-') setZoom((z) => Math.max(1, z / 1.5));
      else if (e.key === 'Tab') {
        // Keep focus inside.
        const f = root.current?.querySelectorAll<HTMLElement>('button:not([disabled])');
        if (!f || !f.length) return;
        const first = f[0];
        const last = f[f.length - 1];
        if (e.shiftKey && document.activeElement === first) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && document.activeElement === last) {
          e.preventDefault();
          first.focus();
        }
        return;
      } else return;
      e.preventDefault();
      e.stopPropagation();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [index, hasPrev, hasNext, onIndex, onClose]);

  if (!item) return null;
  const src = full ?? thumb;
  return createPortal(
    <div
      ref={root}
      className="lightbox"
      role="dialog"
      aria-modal="true"
      aria-label={t('media.viewer')}
      data-testid="lightbox"
      onClick={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div className="lightbox-bar">
        <span className="lightbox-count">{t('media.counter', { index: index + 1, count: items.length })}</span>
        <span className="lightbox-tools">
          <button type="button" className="lightbox-button" onClick={() => setZoom((z) => Math.max(1, z / 1.5))} disabled={zoom <= 1} aria-label={t('media.zoomOut')} title={t('media.zoomOut')}>
            <Icon name="zoomOut" size={20} />
          </button>
          <span className="lightbox-zoom" aria-live="polite">{Math.round(zoom * 100)}%</span>
          <button type="button" className="lightbox-button" onClick={() => setZoom((z) => Math.min(4, z * 1.5))} disabled={zoom >= 4} aria-label={t('media.zoomIn')} title={t('media.zoomIn')}>
            <Icon name="zoomIn" size={20} />
          </button>
          {full ? (
            <a className="lightbox-button" href={full} download aria-label={t('media.downloadShort')} title={t('media.downloadShort')}>
              <Icon name="download" size={20} />
            </a>
          ) : null}
          <button ref={closeBtn} type="button" className="lightbox-button" onClick={onClose} aria-label={t('common.close')} title={t('common.close')} data-testid="lightbox-close">
            <Icon name="close" size={22} />
          </button>
        </span>
      </div>
      <div className={`lightbox-stage${zoom > 1 ? ' zoomed' : ''}`} onClick={(e) => e.target === e.currentTarget && onClose()}>
        <div
          className="lightbox-frame"
          style={{
            aspectRatio: `${item.width} / ${item.height}`,
            width: `min(${item.width * zoom}px, ${92 * zoom}vw, calc((100vh - 140px) * ${(item.width / item.height) * zoom}))`,
            background: loaded ? 'transparent' : (item.placeholder ?? '#333'),
          }}
        >
          {src ? (
            <img
              src={src}
              alt=""
              onLoad={(e) => {
                if (e.currentTarget.src === full) setLoaded(true);
              }}
              onClick={() => setZoom((z) => (z > 1 ? 1 : 2))}
              data-testid="lightbox-image"
              className={loaded ? 'loaded' : ''}
            />
          ) : null}
        </div>
      </div>
      {hasPrev ? (
        <button type="button" className="lightbox-nav prev" onClick={() => onIndex(index - 1)} aria-label={t('media.previous')} title={t('media.previous')} data-testid="lightbox-prev">
          <Icon name="chevronLeft" size={28} />
        </button>
      ) : null}
      {hasNext ? (
        <button type="button" className="lightbox-nav next" onClick={() => onIndex(index + 1)} aria-label={t('media.next')} title={t('media.next')} data-testid="lightbox-next">
          <Icon name="chevronRight" size={28} />
        </button>
      ) : null}
    </div>,
    document.body,
  );
}
