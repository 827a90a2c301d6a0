// The assistant's place in the app. The assistant itself is later work: this pane says it is
// not configured, and is where its conversation view will live.

import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icon';

export function AssistantSidebar() {
  const { t } = useI18n();
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
                  <span className="conv-title">{t('assistant.name')}</span>
                </span>
                <span className="conv-bottom">
                  <span className="conv-preview">{t('assistant.notConfiguredShort')}</span>
                </span>
              </span>
            </div>
          </li>
        </ul>
      </div>
    </div>
  );
}

export function AssistantPane() {
  const { t } = useI18n();
  return (
    <div className="chat-empty assistant-pane" data-testid="assistant-pane">
      <div className="empty-illustration accent">
        <Icon name="sparkles" size={44} />
      </div>
      <h2>{t('assistant.notConfiguredTitle')}</h2>
      <p>{t('assistant.notConfiguredBody')}</p>
    </div>
  );
}
