import { I18nProvider, useI18n } from '../i18n';
import { FeedbackProvider } from '../ui/feedback';
import { LoginScreen } from '../features/auth/LoginScreen';
import { SessionProvider, useSession } from '../features/auth/SessionContext';
import { PrefsProvider } from '../features/settings/preferences';
import { NavigationProvider } from './navigation';
import { ServicesProvider } from './services';
import { Shell } from './Shell';

function Splash() {
  return (
    <div className="splash" aria-busy="true">
      <span className="spinner" />
    </div>
  );
}

function Root() {
  const { client, session } = useSession();
  if (!session) return <LoginScreen />;
  if (!client) return <Splash />;
  return (
    <ServicesProvider client={client} fallback={<Splash />}>
      <NavigationProvider>
        <Shell />
      </NavigationProvider>
    </ServicesProvider>
  );
}

function WithFeedback() {
  const { t } = useI18n();
  return (
    <FeedbackProvider closeLabel={t('common.close')}>
      <SessionProvider>
        <Root />
      </SessionProvider>
    </FeedbackProvider>
  );
}

export function App() {
  return (
    <PrefsProvider>
      <I18nProvider>
        <WithFeedback />
      </I18nProvider>
    </PrefsProvider>
  );
}
