// The message-content switch: one renderer per `Content` type. Media messages (images, files,
// voice, video) and assistant cards plug in here as new cases when the protocol gains them;
// anything unknown falls back to a neutral "unsupported" line instead of breaking the view.

import type { Content } from '../../../client';
import { useI18n } from '../../../i18n';
import { Icon } from '../../../ui/Icon';
import { TextContent } from './TextContent';

export interface ContentProps {
  content: Content;
  own: boolean;
  mentionNames?: string[];
}

export function ContentRenderer({ content, own, mentionNames }: ContentProps) {
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
