import { useEffect, useRef } from 'react';
import { useI18n } from '../../i18n';
import { EMOJI_GROUPS } from './emoji';

const COLUMNS = 8;

/** A grid of emoji. Arrow keys move, Enter picks, Escape closes. */
export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const { t } = useI18n();
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('.emoji-cell')?.focus();
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node) && !(e.target as HTMLElement).closest?.('[data-emoji-toggle]')) onClose();
    };
    document.addEventListener('mousedown', onDown, true);
    return () => document.removeEventListener('mousedown', onDown, true);
  }, [onClose]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    const cells = Array.from(ref.current?.querySelectorAll<HTMLElement>('.emoji-cell') ?? []);
    const i = cells.indexOf(document.activeElement as HTMLElement);
    const move = (d: number) => {
      e.preventDefault();
      cells[Math.max(0, Math.min(cells.length - 1, i + d))]?.focus();
    };
    if (e.key === 'ArrowRight') move(1);
    else if (e.key === 'ArrowLeft') move(-1);
    else if (e.key === 'ArrowDown') move(COLUMNS);
    else if (e.key === 'ArrowUp') move(-COLUMNS);
    else if (e.key === 'Escape') {
      e.preventDefault();
      onClose();
    }
  };

  return (
    <div className="emoji-picker" ref={ref} role="dialog" aria-label={t('composer.emoji')} onKeyDown={onKeyDown}>
      {EMOJI_GROUPS.map((g) => (
        <section key={g.id}>
          <h3>{t(g.label)}</h3>
          <div className="emoji-grid" role="group" aria-label={t(g.label)}>
            {g.emoji.map((e, i) => (
              <button key={`${e}${i}`} type="button" className="emoji-cell" onClick={() => onPick(e)} aria-label={e}>
                {e}
              </button>
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}
