// The desktop screens' text, in the languages the UI has (until it joins the UI dictionaries).

import type { Language } from '../i18n';

const en = {
  firstRunTitle: 'Welcome to Confab',
  firstRunBody: 'Which Confab server do you use? You can change it later in Settings.',
  server: 'Server address',
  continue: 'Continue',
  desktop: 'Desktop app',
  closeToTray: 'Closing the window keeps Confab running in the tray',
  shortcut: 'Shortcut to show Confab',
  shortcutHint: 'For example CommandOrControl+Shift+K; empty for none.',
  save: 'Save',
  saved: 'Saved',
  restarting: 'Restarting with the new server…',
  dropHere: 'Drop files to attach them',
};

const zh: typeof en = {
  firstRunTitle: '欢迎使用 Confab',
  firstRunBody: '你使用哪个 Confab 服务器？之后可以在设置中更改。',
  server: '服务器地址',
  continue: '继续',
  desktop: '桌面应用',
  closeToTray: '关闭窗口时 Confab 在托盘中继续运行',
  shortcut: '显示 Confab 的快捷键',
  shortcutHint: '例如 CommandOrControl+Shift+K；留空表示不使用。',
  save: '保存',
  saved: '已保存',
  restarting: '正在使用新服务器重新启动…',
  dropHere: '松开以添加附件',
};

export type DesktopText = typeof en;

export function desktopText(lang: Language): DesktopText {
  return lang === 'zh-CN' ? zh : en;
}
