import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { Icon, type IconName } from './Icon';

export interface MenuItem {
  id: string;
  label: string;
  icon?: IconName;
  danger?: boolean;
  disabled?: boolean;
  onSelect: () => void;
}

/**
 * A popup menu at a point (a context menu, or below a button). Arrow keys move, Enter picks,
 * Escape or a click outside closes; focus goes back to where it came from.
 */
export function Menu({
  items,
  x,
  y,
  onClose,
  label,
  align = 'start',
}: {
  items: MenuItem[];
  x: number;
  y: number;
  onClose: () => void;
  label: string;
  align?: 'start' | 'end';
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState({ left: x, top: y });
  const returnTo = useRef<Element | null>(typeof document !== 'undefined' ? document.activeElement : null);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const r = el.getBoundingClientRect();
    let left = align === 'end' ? x - r.width : x;
    let top = y;
    if (left + r.width > window.innerWidth - 8) left = window.innerWidth - r.width - 8;
    if (top + r.height > window.innerHeight - 8) top = Math.max(8, y - r.height);
    setPos({ left: Math.max(8, left), top: Math.max(8, top) });
    el.querySelector<HTMLElement>('[role="menuitem"]:not([aria-disabled="true"])')?.focus();
  }, [x, y, align]);

  useEffect(() => {
    const back = returnTo.current;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    const onScroll = () => onClose();
    document.addEventListener('mousedown', onDown, true);
    window.addEventListener('resize', onScroll);
    window.addEventListener('blur', onScroll);
    return () => {
      document.removeEventListener('mousedown', onDown, true);
      window.removeEventListener('resize', onScroll);
      window.removeEventListener('blur', onScroll);
      if (back instanceof HTMLElement && document.contains(back)) back.focus();
    };
  }, [onClose]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    const nodes = Array.from(ref.current?.querySelectorAll<HTMLElement>('[role="menuitem"]:not([aria-disabled="true"])') ?? []);
    const i = nodes.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      nodes[(i + 1) % nodes.length]?.focus();
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      nodes[(i - 1 + nodes.length) % nodes.length]?.focus();
    } else if (e.key === 'Home') {
      e.preventDefault();
      nodes[0]?.focus();
    } else if (e.key === 'End') {
      e.preventDefault();
      nodes[nodes.length - 1]?.focus();
    } else if (e.key === 'Escape' || e.key === 'Tab') {
      e.preventDefault();
      onClose();
    }
  };

  return createPortal(
    <div ref={ref} className="menu" role="menu" aria-label={label} style={pos} onKeyDown={onKeyDown}>
      {items.map((item) => (
        <button
          key={item.id}
          type="button"
          role="menuitem"
          className={`menu-item${item.danger ? ' danger' : ''}`}
          aria-disabled={item.disabled || undefined}
          data-menu-id={item.id}
          onClick={() => {
            if (item.disabled) return;
            onClose();
            item.onSelect();
          }}
        >
          {item.icon ? <Icon name={item.icon} size={18} /> : <span className="menu-icon-space" />}
          <span>{item.label}</span>
        </button>
      ))}
    </div>,
    document.body,
  );
}

/** A button that opens a menu below itself. */
export function MenuButton({
  items,
  label,
  children,
  className = 'icon-button',
  align = 'end',
  testId,
}: {
  items: MenuItem[];
  label: string;
  children: ReactNode;
  className?: string;
  align?: 'start' | 'end';
  testId?: string;
}) {
  const [at, setAt] = useState<{ x: number; y: number } | null>(null);
  const btn = useRef<HTMLButtonElement>(null);
  return (
    <>
      <button
        ref={btn}
        type="button"
        className={className}
        aria-label={label}
        title={label}
        aria-haspopup="menu"
        aria-expanded={at ? true : false}
        data-testid={testId}
        onClick={() => {
          const r = btn.current!.getBoundingClientRect();
          setAt(at ? null : { x: align === 'end' ? r.right : r.left, y: r.bottom + 4 });
        }}
      >
        {children}
      </button>
      {at ? <Menu items={items} x={at.x} y={at.y} align={align} label={label} onClose={() => setAt(null)} /> : null}
    </>
  );
}
