import type { ReactNode } from 'react';
import { useApp } from '../../store/store';

/**
 * A side panel with a heading that closes and opens it. A closed panel unmounts its body (its charts and
 * effects stop); what it measured stays in the result cache, so the 3D colours and the tour keep reading it.
 */
export function Panel({
  id,
  title,
  testId,
  children,
}: {
  /** Stable id: the open/closed state is kept by it for the session. */
  id: string;
  title: string;
  testId: string;
  children: ReactNode;
}) {
  const closed = useApp((s) => s.closedPanels.includes(id));
  const toggle = useApp((s) => s.togglePanel);
  const heading = `${id}-h`;
  return (
    <section className="panel" aria-labelledby={heading} data-testid={testId} data-open={closed ? 'no' : 'yes'}>
      <h2 id={heading}>
        <button
          type="button"
          className="panel-toggle"
          aria-expanded={!closed}
          onClick={() => toggle(id)}
          data-testid={`${testId}-toggle`}
        >
          <span aria-hidden="true">{closed ? '▸' : '▾'}</span> {title}
        </button>
      </h2>
      {!closed && children}
    </section>
  );
}
