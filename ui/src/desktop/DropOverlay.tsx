// A hint over the window while files are dragged in from the OS.

import { useEffect, useState } from 'react';
import { useI18n } from '../i18n';
import { desktopText } from './strings';
import { DRAG_EVENT, DROP_EVENT } from './useDesktop';

export function DropOverlay() {
  const { lang } = useI18n();
  const [over, setOver] = useState(false);
  useEffect(() => {
    const onDrag = (e: Event) => setOver((e as CustomEvent<'enter' | 'leave'>).detail === 'enter');
    const onDrop = () => setOver(false);
    window.addEventListener(DRAG_EVENT, onDrag);
    window.addEventListener(DROP_EVENT, onDrop);
    return () => {
      window.removeEventListener(DRAG_EVENT, onDrag);
      window.removeEventListener(DROP_EVENT, onDrop);
    };
  }, []);
  if (!over) return null;
  return (
    <div className="modal-backdrop" style={{ position: 'fixed', inset: 0, display: 'grid', placeItems: 'center', zIndex: 1000, pointerEvents: 'none' }}>
      <div className="notice">{desktopText(lang).dropHere}</div>
    </div>
  );
}
