import type { Message } from '../../client';
import type { I18n } from '../../i18n';
import { systemText } from '../chat/systemText';

/** One line about a message for the conversation list and reply quotes. */
export function previewText(m: Message, t: I18n['t'], name: (id: number) => string, me: number): string {
  switch (m.content.type) {
    case 'text':
      return m.content.text.replace(/\s+/g, ' ').trim();
    case 'recalled':
      return m.sender_id === me ? t('message.youRecalled') : t('message.recalled');
    case 'system':
      return systemText(m.content, name, t, me);
    default:
      // Media and other kinds are rendered by later work; until then they read as unsupported.
      return t('message.unsupported');
  }
}
