// A windowed list with rows of varying height: only the rows near the viewport are in the
// DOM, each measured with a ResizeObserver. It keeps its place when rows above change height or
// older rows are prepended, and follows new rows while scrolled to the bottom.
//
// The scroll position lives in a ref (read in render), so moving it never needs a chain of
// state updates: a layout change restores the position once, and re-renders once if the rows
// to show changed.

import {
  forwardRef,
  useCallback,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useMemo,
  useReducer,
  useRef,
  type ReactNode,
} from 'react';
import { flushSync } from 'react-dom';
import { HeightIndex } from './windowing';

export interface VirtualListHandle {
  /** Scrolls a row into view; false when no row has that key. */
  scrollToKey(key: string, align?: 'start' | 'center'): boolean;
  scrollToBottom(): void;
  isAtBottom(): boolean;
  focus(): void;
}

export interface VirtualListProps<T extends { key: string }> {
  items: T[];
  estimate: (item: T) => number;
  render: (item: T) => ReactNode;
  /** Start with this row at the top third of the viewport instead of at the bottom. */
  initialKey?: string | null;
  /** Extra pixels rendered above and below the viewport. */
  overscan?: number;
  /** Rows (indices) at least partly in the viewport. */
  onVisibleRange?: (first: number, last: number) => void;
  /** Scrolled near the top: time to load older rows. */
  onNearTop?: () => void;
  onAtBottomChange?: (atBottom: boolean) => void;
  className?: string;
  ariaLabel?: string;
  padding?: number;
}

const BOTTOM_SLACK = 40;

function VirtualListInner<T extends { key: string }>(props: VirtualListProps<T>, ref: React.Ref<VirtualListHandle>) {
  const { items, estimate, render, initialKey, overscan = 800, padding = 8 } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [layoutVersion, bumpLayout] = useReducer((n: number) => n + 1, 0);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const scrollTop = useRef(0);
  const viewportH = useRef(0);
  const stick = useRef(!initialKey);
  const anchor = useRef<{ key: string; delta: number } | null>(null);
  const initialised = useRef(false);
  const rendered = useRef({ start: 0, end: -1 });
  const callbacks = useRef(props);
  callbacks.current = props;

  const index = useMemo(
    () =>
      new HeightIndex(
        items.map((it) => heights.current.get(it.key) ?? estimate(it)),
        padding,
      ),
    [items, estimate, padding],
  );
  const indexByKey = useMemo(() => {
    const m = new Map<string, number>();
    for (let i = 0; i < items.length; i++) m.set(items[i].key, i);
    return m;
  }, [items]);
  const latest = useRef({ index, indexByKey, items });
  latest.current = { index, indexByKey, items };

  const n = items.length;
  const total = index.total + padding;

  const rangeFor = useCallback(
    (top: number, height: number) => {
      if (n === 0) return { start: 0, end: -1 };
      return { start: index.find(Math.max(0, top - overscan)), end: index.find(top + height + overscan) };
    },
    [index, n, overscan],
  );

  const captureAnchor = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const { index: idx, items: its } = latest.current;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
    if (its.length === 0) {
      anchor.current = null;
      return;
    }
    const i = idx.find(el.scrollTop);
    anchor.current = { key: its[i].key, delta: el.scrollTop - idx.offset(i) };
  }, []);

  /** Re-render if the rows around the current scroll position are not the ones in the DOM. */
  const syncRange = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    scrollTop.current = el.scrollTop;
    viewportH.current = el.clientHeight;
    const want = rangeFor(scrollTop.current, viewportH.current);
    const have = rendered.current;
    if (want.start !== have.start || want.end !== have.end) rerender();
    else report();
    // `report` is stable (declared below).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rangeFor]);

  // After a layout change (rows added, removed or measured): put the view back in place.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || n === 0) return;
    if (!initialised.current) {
      initialised.current = true;
      const i = initialKey != null ? indexByKey.get(initialKey) : undefined;
      if (i != null) {
        const target = Math.max(0, index.offset(i) - el.clientHeight / 3);
        el.scrollTop = target;
        anchor.current = { key: items[i].key, delta: el.scrollTop - index.offset(i) };
        stick.current = false;
      } else {
        el.scrollTop = el.scrollHeight;
        stick.current = true;
      }
    } else if (stick.current) {
      const max = el.scrollHeight - el.clientHeight;
      if (Math.abs(el.scrollTop - max) > 1) el.scrollTop = max;
    } else if (anchor.current) {
      const i = indexByKey.get(anchor.current.key);
      if (i != null) {
        const want = index.offset(i) + anchor.current.delta;
        if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
      }
    }
    syncRange();
  }, [index, indexByKey, layoutVersion, n, initialKey, items, syncRange]);

  // Measure rendered rows; a change moves later rows, so re-layout before the next paint.
  const observer = useMemo(
    () =>
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver((entries) => {
            const { index: idx, indexByKey: byKey } = latest.current;
            let changed = false;
            for (const e of entries) {
              const key = (e.target as HTMLElement).dataset.key;
              if (!key) continue;
              const box = e.borderBoxSize?.[0]?.blockSize ?? (e.target as HTMLElement).offsetHeight;
              const h = Math.round(box * 100) / 100;
              if (h <= 0 || heights.current.get(key) === h) continue;
              heights.current.set(key, h);
              const i = byKey.get(key);
              if (i != null && idx.set(i, h) !== 0) changed = true;
            }
            if (changed) flushSync(() => bumpLayout());
          }),
    [],
  );
  useEffect(() => () => observer?.disconnect(), [observer]);

  const measured = useRef(new Map<string, HTMLElement>());
  const measureRef = useCallback(
    (el: HTMLDivElement | null) => {
      if (!el || !observer) return;
      const key = el.dataset.key!;
      const prev = measured.current.get(key);
      if (prev === el) return;
      if (prev) observer.unobserve(prev);
      measured.current.set(key, el);
      observer.observe(el);
    },
    [observer],
  );
  useEffect(() => {
    for (const [key, el] of measured.current) {
      if (!el.isConnected) {
        observer?.unobserve(el);
        measured.current.delete(key);
      }
    }
  });

  // The viewport itself resizing (window, composer growing).
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      if (stick.current) el.scrollTop = el.scrollHeight;
      syncRange();
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [syncRange]);

  const frame = useRef(0);
  const onScroll = useCallback(() => {
    captureAnchor();
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      syncRange();
    });
  }, [captureAnchor, syncRange]);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  // Tell the owner what is visible, only when it changes.
  const reported = useRef({ first: -1, last: -1, atBottom: null as boolean | null, nearTop: false });
  const report = useCallback(() => {
    const el = scroller.current;
    const { index: idx, items: its } = latest.current;
    if (!el || !initialised.current || its.length === 0) return;
    const top = el.scrollTop;
    const first = idx.find(top);
    const last = idx.find(top + el.clientHeight - 1);
    const r = reported.current;
    const cb = callbacks.current;
    if (first !== r.first || last !== r.last) {
      r.first = first;
      r.last = last;
      cb.onVisibleRange?.(first, last);
    }
    const nearTop = top < 600 || idx.total <= el.clientHeight;
    if (nearTop && !r.nearTop) cb.onNearTop?.();
    r.nearTop = nearTop;
    const atBottom = el.scrollHeight - top - el.clientHeight < BOTTOM_SLACK;
    if (atBottom !== r.atBottom) {
      r.atBottom = atBottom;
      cb.onAtBottomChange?.(atBottom);
    }
  }, []);
  useEffect(() => {
    report();
  });
  // Rows prepended while near the top: ask again (the owner ignores it while loading).
  useEffect(() => {
    reported.current.nearTop = false;
  }, [items]);

  useImperativeHandle(
    ref,
    () => ({
      scrollToKey(key, align = 'center') {
        const el = scroller.current;
        const { index: idx, indexByKey: byKey } = latest.current;
        const i = byKey.get(key);
        if (!el || i == null) return false;
        const h = idx.height(i);
        const target = align === 'start' ? idx.offset(i) - 8 : idx.offset(i) - (el.clientHeight - h) / 2;
        el.scrollTop = Math.max(0, target);
        captureAnchor();
        syncRange();
        return true;
      },
      scrollToBottom() {
        const el = scroller.current;
        if (!el) return;
        stick.current = true;
        el.scrollTop = el.scrollHeight;
        syncRange();
      },
      isAtBottom() {
        const el = scroller.current;
        return !!el && el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK;
      },
      focus() {
        scroller.current?.focus();
      },
    }),
    [captureAnchor, syncRange],
  );

  const { start, end } = rangeFor(scrollTop.current, viewportH.current || 800);
  rendered.current = { start, end };
  const visible: ReactNode[] = [];
  for (let i = start; i <= end && i < n; i++) {
    const item = items[i];
    visible.push(
      <div key={item.key} data-key={item.key} ref={measureRef} className="vlist-row" style={{ transform: `translateY(${index.offset(i)}px)` }}>
        {render(item)}
      </div>,
    );
  }

  return (
    <div
      ref={scroller}
      className={`vlist${props.className ? ` ${props.className}` : ''}`}
      onScroll={onScroll}
      tabIndex={0}
      role="log"
      aria-label={props.ariaLabel}
      data-testid="message-list"
    >
      <div className="vlist-inner" style={{ height: total }}>
        {visible}
      </div>
    </div>
  );
}

export const VirtualList = forwardRef(VirtualListInner) as <T extends { key: string }>(
  props: VirtualListProps<T> & { ref?: React.Ref<VirtualListHandle> },
) => ReturnType<typeof VirtualListInner>;
