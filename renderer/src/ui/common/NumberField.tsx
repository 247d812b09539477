/**
 * A labelled number input. Whole numbers unless `real`. With a `max`, a typed value outside [min, max] is clamped
 * into it; without one, a value below `min` is left unapplied (the user may still be typing it).
 */
export function NumberField(props: {
  label: string;
  value: number;
  min: number;
  max?: number;
  step?: number;
  real?: boolean;
  unit?: string;
  disabled?: boolean;
  /** CSS width of the input, e.g. "6em". */
  width?: string;
  onChange(v: number): void;
  testId?: string;
}) {
  const { min, max } = props;
  return (
    <label>
      {props.label}{' '}
      <input
        type="number"
        value={props.value}
        min={min}
        max={max}
        step={props.step}
        disabled={props.disabled}
        onChange={(e) => {
          const n = Number(e.target.value);
          if (!Number.isFinite(n)) return;
          const v = props.real ? n : Math.trunc(n);
          if (max !== undefined) props.onChange(Math.max(min, Math.min(max, v)));
          else if (v >= min) props.onChange(v);
        }}
        style={props.width ? { width: props.width } : undefined}
        data-testid={props.testId}
      />
      {props.unit ? ` ${props.unit}` : ''}
    </label>
  );
}
