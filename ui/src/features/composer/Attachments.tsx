// Attaching media in the composer: the uploads in progress (progress, cancel, retry) and
// voice recording (record → preview → send).

import { useCallback, useEffect, useRef, useState } from 'react';
import type { Target } from '../../client';
import { useMedia, useServices } from '../../app/services';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icon';
import { errorCodeText } from '../../ui/errors';
import { useFeedback } from '../../ui/feedback';
import { formatBytes, formatDuration } from '../media/format';
import { AudioPlayer, LocalPreview } from '../media/MediaContent';
import { progressOf } from '../media/uploads';

/** Starts uploads of files (picked, dropped or pasted) to a chat, checking the size limits. */
export function useAttach(target: Target, conversationKey: string, replyTo?: number | null): (files: Iterable<File>) => void {
  const { client, media } = useServices();
  const { t } = useI18n();
  const feedback = useFeedback();
  return useCallback(
    (files: Iterable<File>) => {
      const limits = client.getState().limits;
      for (const f of files) {
        if (f.size === 0) continue;
        const kind = f.type.startsWith('image/') ? 'image' : f.type.startsWith('video/') ? 'video' : f.type.startsWith('audio/') ? 'voice' : 'file';
        const max = limits ? { image: limits.max_image_bytes, video: limits.max_video_bytes, voice: limits.max_voice_bytes, file: limits.max_file_bytes }[kind] : undefined;
        if (max && f.size > max) {
          feedback.toast(t('media.tooLarge', { name: f.name, max: formatBytes(max) }), 'error');
          continue;
        }
        media.add(f, f.name || t('media.pastedName'), target, conversationKey, { replyTo: replyTo ?? null });
      }
    },
    [client, media, target, conversationKey, replyTo, feedback, t],
  );
}

export function UploadTray({ conversationKey }: { conversationKey: string }) {
  const { t } = useI18n();
  const media = useMedia();
  const items = media.uploads(conversationKey);
  if (!items.length) return null;
  return (
    <ul className="upload-tray" aria-label={t('media.uploads')} data-testid="upload-tray">
      {items.map((u) => {
        const pct = Math.round(progressOf(u) * 100);
        const failed = u.status === 'failed';
        return (
          <li key={u.id} className={`upload-item${failed ? ' failed' : ''}`} data-testid="upload-item" data-status={u.status}>
            {u.previewUrl ? (
              <LocalPreview src={u.previewUrl} />
            ) : (
              <span className="upload-icon" aria-hidden="true">
                <Icon name={u.kind === 'voice' ? 'mic' : u.kind === 'image' ? 'image' : 'file'} size={22} />
              </span>
            )}
            <span className="upload-body">
              <span className="upload-name" title={u.name}>
                {u.name}
              </span>
              {failed ? (
                <span className="upload-error" role="alert">
                  {errorCodeText(t, u.error)}
                </span>
              ) : (
                <>
                  <span
                    className="upload-progress"
                    role="progressbar"
                    aria-label={t('media.uploading', { name: u.name })}
                    aria-valuemin={0}
                    aria-valuemax={100}
                    aria-valuenow={pct}
                  >
                    <span style={{ width: `${pct}%` }} />
                  </span>
                  <span className="upload-meta">
                    {u.status === 'sending' ? t('status.sending') : `${formatBytes(u.loaded)} / ${formatBytes(u.size)} · ${pct}%`}
                  </span>
                </>
              )}
            </span>
            {failed ? (
              <button type="button" className="icon-button small" onClick={() => media.retry(u.id)} aria-label={t('media.retryUpload', { name: u.name })} title={t('common.retry')} data-testid="upload-retry">
                <Icon name="refresh" size={17} />
              </button>
            ) : null}
            <button type="button" className="icon-button small" onClick={() => media.cancel(u.id)} aria-label={t('media.cancelUpload', { name: u.name })} title={t('common.cancel')} data-testid="upload-cancel">
              <Icon name="close" size={17} />
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function pickMime(): string | undefined {
  if (typeof MediaRecorder === 'undefined') return undefined;
  for (const m of ['audio/ogg;codecs=opus', 'audio/webm;codecs=opus', 'audio/webm', 'audio/mp4']) {
    if (MediaRecorder.isTypeSupported?.(m)) return m;
  }
  return undefined;
}

export function canRecord(): boolean {
  return typeof MediaRecorder !== 'undefined' && !!navigator.mediaDevices?.getUserMedia;
}

/** Records a voice message: recording (with a timer) → preview with play/discard → send. */
export function VoiceRecorder({ onSend, onClose }: { onSend: (blob: Blob, durationMs: number) => void; onClose: () => void }) {
  const { t } = useI18n();
  const feedback = useFeedback();
  const [phase, setPhase] = useState<'starting' | 'recording' | 'preview'>('starting');
  const [elapsed, setElapsed] = useState(0);
  const [clip, setClip] = useState<{ blob: Blob; url: string; ms: number } | null>(null);
  const rec = useRef<MediaRecorder | null>(null);
  const started = useRef(0);
  const discarded = useRef(false);

  useEffect(() => {
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setInterval> | null = null;
    let cancelled = false;
    navigator.mediaDevices
      .getUserMedia({ audio: true })
      .then((s) => {
        if (cancelled) {
          s.getTracks().forEach((tr) => tr.stop());
          return;
        }
        stream = s;
        const mime = pickMime();
        const r = new MediaRecorder(s, mime ? { mimeType: mime } : undefined);
        const chunks: Blob[] = [];
        r.ondataavailable = (e) => e.data.size && chunks.push(e.data);
        r.onstop = () => {
          s.getTracks().forEach((tr) => tr.stop());
          if (timer) clearInterval(timer);
          if (discarded.current) return;
          const blob = new Blob(chunks, { type: (r.mimeType || mime || 'audio/webm').split(';')[0] });
          setClip({ blob, url: URL.createObjectURL(blob), ms: Date.now() - started.current });
          setPhase('preview');
        };
        rec.current = r;
        started.current = Date.now();
        r.start(250);
        setPhase('recording');
        timer = setInterval(() => setElapsed(Date.now() - started.current), 200);
      })
      .catch(() => {
        feedback.toast(t('media.micDenied'), 'error');
        onClose();
      });
    return () => {
      cancelled = true;
      discarded.current = true;
      if (timer) clearInterval(timer);
      if (rec.current && rec.current.state !== 'inactive') rec.current.stop();
      stream?.getTracks().forEach((tr) => tr.stop());
    };
    // Once per recorder.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => () => {
    if (clip) URL.revokeObjectURL(clip.url);
  }, [clip]);

  const discard = () => {
    discarded.current = true;
    if (rec.current && rec.current.state !== 'inactive') rec.current.stop();
    onClose();
  };

  return (
    <div className="voice-recorder" role="group" aria-label={t('media.voiceMessage')} data-testid="voice-recorder">
      <button type="button" className="icon-button" onClick={discard} aria-label={t('media.discardRecording')} title={t('media.discardRecording')}>
        <Icon name="trash" size={20} />
      </button>
      {phase === 'preview' && clip ? (
        <div className="voice-preview">
          <AudioPlayer src={clip.url} durationMs={clip.ms} />
        </div>
      ) : (
        <div className="voice-live" aria-live="polite">
          <span className={`rec-dot${phase === 'recording' ? ' on' : ''}`} aria-hidden="true" />
          <span className="rec-label">{phase === 'recording' ? t('media.recording') : t('common.pleaseWait')}</span>
          <span className="rec-time">{formatDuration(elapsed)}</span>
        </div>
      )}
      {phase === 'preview' && clip ? (
        <button type="button" className="send-button" onClick={() => onSend(clip.blob, clip.ms)} aria-label={t('media.sendRecording')} title={t('media.sendRecording')} data-testid="send-recording">
          <Icon name="send" size={20} />
        </button>
      ) : (
        <button
          type="button"
          className="send-button rec-stop"
          onClick={() => rec.current?.state === 'recording' && rec.current.stop()}
          disabled={phase !== 'recording'}
          aria-label={t('media.stopRecording')}
          title={t('media.stopRecording')}
        >
          <Icon name="stop" size={18} />
        </button>
      )}
    </div>
  );
}
