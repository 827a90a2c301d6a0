import type { Message } from '../../client';
import type { I18n } from '../../i18n';
import { systemText } from '../chat/systemText';
import { formatDuration } from '../media/format';

/** One line about a message for the conversation list and reply quotes. */
export function previewText(m: Message, t: I18n['t'], name: (id: number) => string, me: number): string {
  switch (m.content.type) {
    case 'text':
      return m.content.text.replace(/\s+/g, ' ').trim();
    case 'recalled':
      return m.sender_id === me ? t('message.youRecalled') : t('message.recalled');
    case 'system':
      return systemText(m.content, name, t, me);
    case 'image':
      return t('preview.image');
    case 'video':
      return t('preview.video');
    case 'voice':
      return m.content.duration_ms != null ? t('preview.voiceDuration', { duration: formatDuration(m.content.duration_ms) }) : t('preview.voice');
    case 'file':
      return t('preview.file', { name: m.content.name });
    case 'assistant':
      return m.content.text.replace(/\s+/g, ' ').trim();
    default:
      return t('message.unsupported');
  }
}
