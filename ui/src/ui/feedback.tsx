// App-wide feedback: toasts, and promise-based confirm and prompt dialogs.

import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';
import { Modal } from './Modal';

interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error' | 'success';
}

export interface ConfirmOptions {
  title: string;
  body?: ReactNode;
  confirmLabel: string;
  cancelLabel: string;
  danger?: boolean;
}

export interface PromptOptions {
  title: string;
  label: string;
  initial?: string;
  placeholder?: string;
  confirmLabel: string;
  cancelLabel: string;
  multiline?: boolean;
  maxLength?: number;
  /** Allow confirming an empty value (e.g. to clear a remark). */
  allowEmpty?: boolean;
}

interface Feedback {
  toast(text: string, kind?: Toast['kind']): void;
  confirm(o: ConfirmOptions): Promise<boolean>;
  prompt(o: PromptOptions): Promise<string | null>;
}

const Ctx = createContext<Feedback | null>(null);

type Dialog =
  | { kind: 'confirm'; o: ConfirmOptions; resolve: (v: boolean) => void }
  | { kind: 'prompt'; o: PromptOptions; resolve: (v: string | null) => void };

export function FeedbackProvider({ children, closeLabel }: { children: ReactNode; closeLabel: string }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const nextId = useRef(1);

  const toast = useCallback((text: string, kind: Toast['kind'] = 'info') => {
    const id = nextId.current++;
    setToasts((t) => [...t.slice(-3), { id, text, kind }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 6000 : 3500);
  }, []);
  const confirm = useCallback((o: ConfirmOptions) => new Promise<boolean>((resolve) => setDialog({ kind: 'confirm', o, resolve })), []);
  const prompt = useCallback((o: PromptOptions) => new Promise<string | null>((resolve) => setDialog({ kind: 'prompt', o, resolve })), []);
  const value = useMemo(() => ({ toast, confirm, prompt }), [toast, confirm, prompt]);

  return (
    <Ctx.Provider value={value}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} className={`toast toast-${t.kind}`}>
            {t.text}
          </div>
        ))}
      </div>
      {dialog?.kind === 'confirm' ? (
        <ConfirmDialog
          o={dialog.o}
          closeLabel={closeLabel}
          done={(v) => {
            dialog.resolve(v);
            setDialog(null);
          }}
        />
      ) : null}
      {dialog?.kind === 'prompt' ? (
        <PromptDialog
          o={dialog.o}
          closeLabel={closeLabel}
          done={(v) => {
            dialog.resolve(v);
            setDialog(null);
          }}
        />
      ) : null}
    </Ctx.Provider>
  );
}

function ConfirmDialog({ o, done, closeLabel }: { o: ConfirmOptions; done: (v: boolean) => void; closeLabel: string }) {
  return (
    <Modal
      title={o.title}
      onClose={() => done(false)}
      closeLabel={closeLabel}
      width={400}
      footer={
        <>
          <button type="button" className="button secondary" onClick={() => done(false)}>
            {o.cancelLabel}
          </button>
          <button type="button" className={`button ${o.danger ? 'danger' : 'primary'}`} onClick={() => done(true)} autoFocus data-testid="confirm-ok">
            {o.confirmLabel}
          </button>
        </>
      }
    >
      {o.body ? <div className="confirm-body">{o.body}</div> : null}
    </Modal>
  );
}

function PromptDialog({ o, done, closeLabel }: { o: PromptOptions; done: (v: string | null) => void; closeLabel: string }) {
  const [value, setValue] = useState(o.initial ?? '');
  const ok = o.allowEmpty || value.trim().length > 0;
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (ok) done(value.trim());
  };
  return (
    <Modal title={o.title} onClose={() => done(null)} closeLabel={closeLabel} width={420}>
      <form onSubmit={submit} className="form">
        <label className="field">
          <span className="field-label">{o.label}</span>
          {o.multiline ? (
            <textarea
              value={value}
              onChange={(e) => setValue(e.target.value)}
              placeholder={o.placeholder}
              maxLength={o.maxLength}
              rows={4}
              autoFocus
              data-testid="prompt-input"
            />
          ) : (
            <input
              value={value}
              onChange={(e) => setValue(e.target.value)}
              placeholder={o.placeholder}
              maxLength={o.maxLength}
              autoFocus
              data-testid="prompt-input"
            />
          )}
        </label>
        <div className="modal-footer inline">
          <button type="button" className="button secondary" onClick={() => done(null)}>
            {o.cancelLabel}
          </button>
          <button type="submit" className="button primary" disabled={!ok} data-testid="prompt-ok">
            {o.confirmLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function useFeedback(): Feedback {
  const v = useContext(Ctx);
  if (!v) throw new Error('useFeedback outside FeedbackProvider');
  return v;
}
