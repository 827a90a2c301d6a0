// The message-content switch: one renderer per `Content` type (text, media, assistant replies);
// anything unknown falls back to a neutral "unsupported" line instead of breaking the view.

import type { Content } from '../../../client';
import { useI18n } from '../../../i18n';
import { Icon } from '../../../ui/Icon';
import { FileContent, ImageContent, VideoContent, VoiceContent } from '../../media/MediaContent';
import { TextContent } from './TextContent';

export interface ContentProps {
  content: Content;
  own: boolean;
  mentionNames?: string[];
  /** The message's seq (for the lightbox's order); absent for pending messages. */
  seq?: number;
}

export function ContentRenderer({ content, own, mentionNames, seq }: ContentProps) {
  const { t } = useI18n();
  switch (content.type) {
    case 'text':
      return <TextContent text={content.text} mentionNames={mentionNames} />;
    case 'recalled':
      return (
        <span className="recalled" data-testid="recalled">
          <Icon name="undo" size={15} />
          {own ? t('message.youRecalled') : t('message.recalled')}
        </span>
      );
    case 'system':
      // System events render as centred lines by the list, never as bubbles.
      return null;
    case 'image':
      return <ImageContent content={content} seq={seq} />;
    case 'video':
      return <VideoContent content={content} />;
    case 'voice':
      return <VoiceContent content={content} own={own} />;
    case 'file':
      return <FileContent content={content} />;
    case 'assistant':
      return (
        <span className={`assistant-content status-${content.status}`} data-testid="assistant-reply" data-status={content.status}>
          <TextContent text={content.text} mentionNames={mentionNames} />
          {content.status !== 'complete' ? (
            <span className={`assistant-status ${content.status}`}>
              <Icon name={content.status === 'failed' ? 'alert' : 'stop'} size={13} />
              {content.status === 'failed' ? t('assistant.statusFailed') : t('assistant.statusStopped')}
            </span>
          ) : null}
        </span>
      );
    default:
      return <UnsupportedContent />;
  }
}

export function UnsupportedContent() {
  const { t } = useI18n();
  return (
    <span className="unsupported">
      <Icon name="info" size={15} />
      {t('message.unsupported')}
    </span>
  );
}
