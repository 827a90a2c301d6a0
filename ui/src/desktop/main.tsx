// The desktop entry (index.html beside this file), built by vite.config.ts here into
// ui/dist/src/desktop/. The shell loads it when present, else the plain web entry.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { loadSession, saveSession } from '../features/auth/session';
import { desktopServerUrl } from './ipc';
import { DesktopApp } from './DesktopApp';
import '../styles/app.css';

// The desktop's server setting wins over what the page remembered; a session on another
// server cannot be used here (the CSP allows only the configured server).
const server = desktopServerUrl();
if (server) {
  try {
    localStorage.setItem('confab.server', server);
  } catch {
    // Storage unavailable: the sign-in screen starts from the page's default.
  }
  const s = loadSession();
  if (s && s.serverUrl !== server) saveSession(null);
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <DesktopApp />
  </StrictMode>,
);
