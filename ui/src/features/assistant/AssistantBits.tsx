// Pieces of the assistant shown inside chats: the streaming reply with its Stop button, and the
// personal summary card.

import type { AssistantResult } from '../../client';
import { useI18n } from '../../i18n';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { TextContent } from '../chat/content/TextContent';
import type { ReplyDraft } from './assistantState';

/** The language to translate into: the UI's, named so a model understands it. */
export function translationLanguage(locale: string): string {
  return locale === 'zh-CN' ? 'Simplified Chinese (简体中文)' : 'English';
}

export function AssistantDraft({ draft, onStop, group = false }: { draft: ReplyDraft; onStop: () => void; group?: boolean }) {
  const { t } = useI18n();
  return (
    <div className="assistant-draft" data-testid="assistant-draft" aria-live="polite" aria-busy="true">
      <div className={`msg-row peer first last${group ? ' in-group' : ''}`}>
        {group ? (
          <div className="msg-avatar">
            <Avatar id={0} name="" size={34} bot />
          </div>
        ) : null}
        <div className="bubble bot-bubble streaming">
          <div className="sender">
            <span className="bot-name">
              <Icon name="sparkles" size={13} />
              {t('assistant.name')}
              <span className="bot-badge">{t('assistant.botBadge')}</span>
            </span>
          </div>
          <div className="bubble-body">
            {draft.text ? <TextContent text={draft.text} /> : <span className="thinking">{t('assistant.thinking')}</span>}
            <span className="caret" aria-hidden="true" />
          </div>
        </div>
        <button type="button" className="button secondary small stop-button" onClick={onStop} data-testid="assistant-stop">
          <Icon name="stop" size={14} />
          {t('assistant.stop')}
        </button>
      </div>
    </div>
  );
}

export function SummaryCard({ result, pending, onDismiss }: { result: AssistantResult | null; pending: boolean; onDismiss: () => void }) {
  const { t, tn } = useI18n();
  return (
    <div className={`summary-card${result?.failure ? ' failed' : ''}`} role="status" data-testid="summary-card">
      <span className="summary-icon" aria-hidden="true">
        <Icon name="sparkles" size={18} />
      </span>
      <div className="summary-body">
        <div className="summary-title">
          {t('assistant.summaryTitle')}
          {result?.message_count ? <span className="summary-count">{tn('assistant.summaryCount', result.message_count)}</span> : null}
          <span className="summary-private">{t('assistant.onlyYou')}</span>
        </div>
        <div className="summary-text">{pending || !result ? <span className="thinking">{t('assistant.summarizing')}</span> : <TextContent text={result.text} />}</div>
      </div>
      <button type="button" className="icon-button small" onClick={onDismiss} aria-label={t('common.dismiss')} title={t('common.dismiss')} data-testid="summary-dismiss">
        <Icon name="close" size={16} />
      </button>
    </div>
  );
}
