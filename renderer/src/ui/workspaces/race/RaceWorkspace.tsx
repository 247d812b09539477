import { useEffect, useRef } from 'react';
import { useApp, useRaces } from '../../../store/store';
import { RaceForm } from './RaceForm';
import { RaceReference } from './RaceReference';
import { RaceView } from './RaceView';

/**
 * The training race: networks from the variants builder trained side by side on the same batches in the lab
 * worker, with live loss, training error, first-layer gradient norm and ‖F(x)‖/‖x‖ per block. It shows the
 * degradation problem when the run shows it, and says so when it does not. The form (RaceForm) above the race on
 * screen (RaceView).
 */
export function RaceWorkspace() {
  const raceId = useApp((s) => s.raceId);
  const race = useRaces().find((r) => r.id === raceId) ?? null;
  // Presenting a race shows the race: its progress, verdict and curves on top, not the form (kept, hidden: its
  // settings stay as they were). Without a race, the form and the reference curves.
  const presenting = useApp((s) => s.presentation) && race !== null;
  const own = useRef<HTMLDivElement>(null);
  // Presenting starts at the top (the race's progress and curves), wherever the page was scrolled to before.
  useEffect(() => {
    if (presenting) own.current?.scrollTo({ top: 0 });
  }, [presenting]);
  return (
    <div className="workspace" data-testid="race-workspace" ref={own}>
      <div hidden={presenting}>
        <RaceForm />
      </div>
      {race && <RaceView race={race} />}
      <RaceReference race={race} />
    </div>
  );
}
