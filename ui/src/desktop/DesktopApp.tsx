// The web app as the desktop shell loads it: the same screens, plus the first-start server
// choice, the desktop binding (notifications, badge, tray, dropped files) and the drop hint.
// Mirrors app/App.tsx; once Shell calls `useDesktop()` itself this only adds the first start.

import { useState } from 'react';
import { I18nProvider, useI18n } from '../i18n';
import { FeedbackProvider } from '../ui/feedback';
import { LoginScreen } from '../features/auth/LoginScreen';
import { SessionProvider, useSession } from '../features/auth/SessionContext';
import { PrefsProvider } from '../features/settings/preferences';
import { NavigationProvider } from '../app/navigation';
import { ServicesProvider } from '../app/services';
import { Shell } from '../app/Shell';
import { FirstRun } from './DesktopSettings';
import { DropOverlay } from './DropOverlay';
import { desktopBoot } from './ipc';
import { useDesktop } from './useDesktop';

function Splash() {
  return (
    <div className="splash" aria-busy="true">
      <span className="spinner" />
    </div>
  );
}

function DesktopBinding() {
  useDesktop();
  return null;
}

function Root() {
  const { client, session } = useSession();
  if (!session) return <LoginScreen />;
  if (!client) return <Splash />;
  return (
    <ServicesProvider client={client} fallback={<Splash />}>
      <NavigationProvider>
        <DesktopBinding />
        <Shell />
        <DropOverlay />
      </NavigationProvider>
    </ServicesProvider>
  );
}

function WithFeedback() {
  const { t } = useI18n();
  const boot = desktopBoot();
  const [firstRun, setFirstRun] = useState(boot?.firstRun ?? false);
  return (
    <FeedbackProvider closeLabel={t('common.close')}>
      {firstRun ? (
        <FirstRun initial={boot?.serverUrl ?? 'http://127.0.0.1:8080'} onDone={() => setFirstRun(false)} />
      ) : (
        <SessionProvider>
          <Root />
        </SessionProvider>
      )}
    </FeedbackProvider>
  );
}

export function DesktopApp() {
  return (
    <PrefsProvider>
      <I18nProvider>
        <WithFeedback />
      </I18nProvider>
    </PrefsProvider>
  );
}
