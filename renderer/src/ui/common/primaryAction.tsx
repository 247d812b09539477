import { useEffect, useRef } from 'react';
import { useApp } from '../../store/store';

/**
 * Offers the open lab's main action (the panel's own Evaluate, Run, Compute… button) to the stage: presenting, the
 * side panel is hidden, so the stage shows it as a button and Enter starts it (App.tsx). A panel calls this beside
 * its button, with the button's own text and enabled state, so the two never disagree. `active` false withdraws
 * it (a panel shown in several labs offers its action in one of them only). A panel the user closed (ui/common/
 * Panel) has no body, so it offers none: presenting keeps the user's choice rather than bring its charts back.
 */
export function usePrimaryAction(
  active: boolean,
  label: string,
  enabled: boolean,
  run: () => void,
  done = false,
): void {
  const owner = useRef<symbol>(Symbol('primary action')).current;
  const latest = useRef(run);
  latest.current = run;
  const set = useApp((s) => s.setPrimaryAction);
  const clear = useApp((s) => s.clearPrimaryAction);
  useEffect(() => {
    if (active) set({ owner, label, enabled, done, run: () => latest.current() });
    else clear(owner);
  }, [active, label, enabled, done, owner, set, clear]);
  useEffect(() => () => clear(owner), [owner, clear]);
}

/** The main action on the stage, presenting: the button the hidden panel would show, and Enter. */
export function StageAction({ floating }: { floating: boolean }) {
  const action = useApp((s) => s.primaryAction);
  if (!action) return null;
  return (
    <button
      type="button"
      className={`stage-action${floating ? ' floating' : ''}${action.done && !action.enabled ? ' done' : ''}`}
      disabled={!action.enabled}
      onClick={() => action.run()}
      title={action.enabled ? `${action.label} (Enter)` : action.label}
      data-testid="stage-action"
    >
      {action.enabled && <span aria-hidden="true">▶ </span>}
      {action.label}
      {action.enabled && <kbd>Enter</kbd>}
    </button>
  );
}
