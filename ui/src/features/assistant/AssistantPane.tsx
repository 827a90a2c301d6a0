// The assistant's place in the app: its status in the sidebar and, when the server has one
// configured, the direct chat with the assistant bot (replies stream in; Stop ends one).

import { useEffect } from 'react';
import { useAssistant, useChat } from '../../app/services';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icon';
import { ChatView } from '../chat/ChatView';
import { Composer } from '../composer/Composer';

function useBotChat(botId: number | null): number | null {
  return useChat((s) => {
    if (botId == null) return null;
    for (const c of Object.values(s.conversations)) if (c.summary.kind === 'direct' && c.summary.peer?.id === botId) return c.summary.id;
    return null;
  });
}

export function AssistantSidebar() {
  const { t } = useI18n();
  const assistant = useAssistant();
  const status = assistant.status;
  const configured = !!status?.configured;
  return (
    <div className="sidebar-inner">
      <header className="sidebar-header">
        <h1 className="sidebar-title">{t('nav.assistant')}</h1>
      </header>
      <div className="sidebar-scroll">
        <ul className="conv-list">
          <li>
            <div className="conv-item active static">
              <span className="avatar assistant-avatar" style={{ width: 44, height: 44 }} aria-hidden="true">
                <Icon name="sparkles" size={22} />
              </span>
              <span className="conv-body">
                <span className="conv-top">
                  <span className="conv-title">{status?.bot?.display_name ?? t('assistant.name')}</span>
                </span>
                <span className="conv-bottom">
                  <span className="conv-preview" data-testid="assistant-state">
                    {status == null ? t('common.loading') : configured ? (status.model ? t('assistant.readyModel', { model: status.model }) : t('assistant.ready')) : t('assistant.notConfiguredShort')}
                  </span>
                </span>
              </span>
            </div>
          </li>
        </ul>
        {configured ? (
          <div className="assistant-tips">
            <h2>{t('assistant.tipsTitle')}</h2>
            <ul>
              <li>
                <Icon name="chat" size={16} />
                {t('assistant.tipAsk')}
              </li>
              <li>
                <Icon name="list" size={16} />
                {t('assistant.tipSummarize')}
              </li>
              <li>
                <Icon name="languages" size={16} />
                {t('assistant.tipTranslate')}
              </li>
              <li>
                <Icon name="at" size={16} />
                {t('assistant.tipGroups')}
              </li>
            </ul>
          </div>
        ) : null}
      </div>
    </div>
  );
}

export function AssistantPane() {
  const { t } = useI18n();
  const assistant = useAssistant();
  const status = assistant.status;
  const botId = assistant.botId;
  const chatId = useBotChat(botId);

  useEffect(() => {
    if (!status) void assistant.loadStatus();
  }, [assistant, status]);

  if (status == null) {
    return (
      <div className="chat-empty" data-testid="assistant-pane">
        <span className="spinner" aria-label={t('common.loading')} />
      </div>
    );
  }
  if (!status.configured || botId == null) {
    return (
      <div className="chat-empty assistant-pane" data-testid="assistant-pane" data-configured="false">
        <div className="empty-illustration accent">
          <Icon name="sparkles" size={44} />
        </div>
        <h2>{t('assistant.notConfiguredTitle')}</h2>
        <p>{t('assistant.notConfiguredBody')}</p>
      </div>
    );
  }
  if (chatId != null) {
    return (
      <div className="assistant-chat" data-testid="assistant-pane" data-configured="true">
        <ChatView key={chatId} conversationId={chatId} assistantView />
      </div>
    );
  }
  const name = status.bot?.display_name ?? t('assistant.name');
  return (
    <section className="chat assistant-chat" aria-label={name} data-testid="assistant-pane" data-configured="true">
      <header className="chat-header">
        <div className="chat-header-main static">
          <span className="avatar assistant-avatar" style={{ width: 40, height: 40 }} aria-hidden="true">
            <Icon name="sparkles" size={20} />
          </span>
          <span className="chat-header-text">
            <span className="chat-title">{name}</span>
            <span className="chat-subtitle">{status.model ?? ''}</span>
          </span>
        </div>
      </header>
      <div className="chat-body">
        <div className="chat-empty">
          <div className="empty-illustration accent">
            <Icon name="sparkles" size={40} />
          </div>
          <h2>{t('assistant.introTitle')}</h2>
          <p>{t('assistant.introBody')}</p>
        </div>
      </div>
      <Composer
        target={{ user: botId }}
        draftKey={`u${botId}`}
        conversationId={null}
        members={null}
        canMentionAll={false}
        replyTo={null}
        onCancelReply={() => {}}
        onSent={() => {}}
      />
    </section>
  );
}
