// Renderers for media messages: pictures (placeholder colour, then the thumbnail; a click
// opens the lightbox), inline video, a voice/audio player and file cards.

import { useEffect, useRef, useState } from 'react';
import type { Content } from '../../client';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icon';
import { fitBox, formatBytes, formatDuration } from './format';
import { useGallery } from './gallery';
import { useSignedUrl } from './useSignedUrl';

type Of<T extends Content['type']> = Extract<Content, { type: T }>;

export function ImageContent({ content, seq }: { content: Of<'image'>; seq?: number }) {
  const { t } = useI18n();
  const gallery = useGallery();
  const hasThumb = !!content.thumbnail;
  const { url, retry } = useSignedUrl(content.media.id, hasThumb);
  const [loaded, setLoaded] = useState(false);
  const box = fitBox(content.width, content.height);
  const open = () => gallery?.open(content.media.id, seq ?? 0);
  return (
    <button
      type="button"
      className={`media-image${loaded ? ' loaded' : ''}`}
      style={{ width: box.width, height: box.height, background: content.placeholder ?? undefined }}
      onClick={open}
      disabled={!gallery}
      aria-label={t('media.openImage', { width: content.width, height: content.height })}
      data-testid="media-image"
    >
      {url ? (
        <img src={url} alt="" width={box.width} height={box.height} draggable={false} onLoad={() => setLoaded(true)} onError={retry} data-testid="media-thumbnail" />
      ) : null}
    </button>
  );
}

export function VideoContent({ content }: { content: Of<'video'> }) {
  const { t } = useI18n();
  const { url } = useSignedUrl(content.media.id);
  const poster = useSignedUrl(content.poster ? content.media.id : null, true).url;
  const box = fitBox(content.width ?? content.poster?.width ?? 16, content.height ?? content.poster?.height ?? 9, 360, 320);
  return (
    <div className="media-video" style={{ width: box.width }}>
      <video
        src={url ?? undefined}
        poster={poster ?? undefined}
        controls
        preload="metadata"
        playsInline
        style={{ width: box.width, height: box.height }}
        aria-label={t('media.video')}
        data-testid="media-video"
      />
      {content.duration_ms != null ? <span className="media-badge">{formatDuration(content.duration_ms)}</span> : null}
    </div>
  );
}

export function VoiceContent({ content, own }: { content: Of<'voice'>; own: boolean }) {
  return <AudioPlayer mediaId={content.media.id} durationMs={content.duration_ms} own={own} />;
}

/** Play/pause, a seekable progress bar and the time: for voice messages and previews. */
export function AudioPlayer({ mediaId, src, durationMs, own }: { mediaId?: string; src?: string; durationMs: number | null; own?: boolean }) {
  const { t } = useI18n();
  const signed = useSignedUrl(mediaId ?? null).url;
  const audio = useRef<HTMLAudioElement>(null);
  const [playing, setPlaying] = useState(false);
  const [pos, setPos] = useState(0);
  const [dur, setDur] = useState<number | null>(durationMs);
  const total = dur ?? durationMs ?? 0;
  const toggle = () => {
    const a = audio.current;
    if (!a) return;
    if (a.paused) void a.play().catch(() => setPlaying(false));
    else a.pause();
  };
  const seek = (frac: number) => {
    const a = audio.current;
    if (!a || !total) return;
    a.currentTime = (frac * total) / 1000;
    setPos(frac * total);
  };
  const frac = total ? Math.min(1, pos / total) : 0;
  return (
    <div className={`audio-player${own ? ' own' : ''}`} data-testid="audio-player">
      <audio
        ref={audio}
        src={src ?? signed ?? undefined}
        preload="metadata"
        onPlay={() => setPlaying(true)}
        onPause={() => setPlaying(false)}
        onEnded={() => {
          setPlaying(false);
          setPos(0);
        }}
        onTimeUpdate={(e) => setPos(e.currentTarget.currentTime * 1000)}
        onLoadedMetadata={(e) => {
          const d = e.currentTarget.duration;
          if (isFinite(d) && d > 0) setDur(d * 1000);
        }}
      />
      <button type="button" className="audio-toggle" onClick={toggle} aria-label={playing ? t('media.pause') : t('media.play')} disabled={!src && !signed}>
        <Icon name={playing ? 'pause' : 'play'} size={16} />
      </button>
      <div
        className="audio-track"
        role="slider"
        tabIndex={0}
        aria-label={t('media.position')}
        aria-valuemin={0}
        aria-valuemax={Math.round(total / 1000)}
        aria-valuenow={Math.round(pos / 1000)}
        aria-valuetext={`${formatDuration(pos)} / ${formatDuration(total)}`}
        onClick={(e) => {
          const r = e.currentTarget.getBoundingClientRect();
          seek((e.clientX - r.left) / r.width);
        }}
        onKeyDown={(e) => {
          if (!total) return;
          if (e.key === 'ArrowRight') seek(Math.min(1, frac + 5000 / total));
          else if (e.key === 'ArrowLeft') seek(Math.max(0, frac - 5000 / total));
          else return;
          e.preventDefault();
        }}
      >
        <span className="audio-fill" style={{ width: `${frac * 100}%` }} />
      </div>
      <span className="audio-time">{playing || pos > 0 ? formatDuration(pos) : formatDuration(total)}</span>
    </div>
  );
}

export function FileContent({ content }: { content: Of<'file'> }) {
  const { t } = useI18n();
  const { url } = useSignedUrl(content.media.id);
  const ext = /\.([a-z0-9]{1,5})$/i.exec(content.name)?.[1]?.toUpperCase();
  return (
    <div className="media-file" data-testid="media-file">
      <span className="media-file-icon" aria-hidden="true">
        <Icon name="file" size={22} />
        {ext ? <span className="media-file-ext">{ext}</span> : null}
      </span>
      <span className="media-file-body">
        <span className="media-file-name" title={content.name}>
          {content.name}
        </span>
        <span className="media-file-size">{formatBytes(content.media.size)}</span>
      </span>
      <a
        className={`icon-button small media-download${url ? '' : ' disabled'}`}
        href={url ?? undefined}
        download={content.name}
        aria-label={t('media.download', { name: content.name })}
        title={t('media.downloadShort')}
        aria-disabled={!url}
      >
        <Icon name="download" size={18} />
      </a>
    </div>
  );
}

/** A local picture (before its upload finished). */
export function LocalPreview({ src }: { src: string }) {
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  useEffect(() => setSize(null), [src]);
  const box = size ? fitBox(size.w, size.h, 64, 64) : { width: 64, height: 64 };
  return <img className="upload-thumb" src={src} alt="" style={box} onLoad={(e) => setSize({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight })} />;
}
