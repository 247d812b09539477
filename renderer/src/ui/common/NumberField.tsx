import { type InputHTMLAttributes, useEffect, useId, useRef, useState } from 'react';

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'min' | 'max' | 'type'>;

/** A field's text as a number; empty is null. */
const parse = (t: string): number | null => (t.trim() === '' ? null : Number(t));

/**
 * A number input that keeps what is typed. A controlled input that refuses the value on the way ("1" of 16 below a
 * minimum of 2, "0" of 0.25 where only positive numbers count, "-" of −0.5) has React put the old value back, and
 * the next keys land after it: 16 became 326, 0.25 became 0.22925 and −0.5 became 0.5, and were used. Here the text
 * is the input's own; each value that is valid as it stands is applied at once, and on leaving the field an invalid
 * text is clamped into [min, max] when it is a number, else the last applied value comes back.
 */
export function NumberInput(
  props: InputProps & {
    value: number | null;
    min?: number;
    max?: number;
    /** Whole numbers only. */
    integer?: boolean;
    /** A further rule ("greater than 0"). */
    allow?(v: number): boolean;
    /** An empty field stands for null (no value). */
    allowEmpty?: boolean;
    /**
     * `min` is the spinner's start only, not a rule: every number is applied and the caller says what is wrong with
     * it (a depth of 5 is "not 6n+2", which a hard minimum would hide by keeping the last depth).
     */
    softMin?: boolean;
    onValue(v: number | null): void;
  },
) {
  const { value, min, max, integer, allow, allowEmpty, softMin, onValue, onBlur, ...rest } = props;
  const input = useRef<HTMLInputElement>(null);
  const shown = value === null ? '' : String(value);
  const [text, setText] = useState(shown);
  const valid = (t: string): boolean => {
    const v = parse(t);
    if (v === null) return allowEmpty === true;
    return (
      Number.isFinite(v) &&
      (!integer || Number.isInteger(v)) &&
      (min === undefined || softMin || v >= min) &&
      (max === undefined || v <= max) &&
      (allow ? allow(v) : true)
    );
  };
  // A value changed from outside (a preset, a reset, the store's clamping) replaces the text, unless the text already
  // says it ("0.50" is 0.5). A text being typed that is not valid yet ("0" of 0.8 where the value must exceed 0.5)
  // stays while the field has the focus: a value that moves by itself (a clip following a landscape's partial
  // results) overwrote it mid-word.
  const validNow = useRef(valid);
  validNow.current = valid;
  useEffect(() => {
    setText((t) =>
      parse(t) === value || (document.activeElement === input.current && !validNow.current(t)) ? t : shown,
    );
  }, [value, shown]);
  return (
    <input
      {...rest}
      ref={input}
      type="number"
      min={min}
      max={max}
      value={text}
      aria-invalid={!valid(text)}
      onChange={(e) => {
        const t = e.target.value;
        setText(t);
        if (valid(t)) {
          const v = parse(t);
          if (v !== value) onValue(v);
        }
      }}
      onBlur={(e) => {
        if (!valid(text)) {
          const v = parse(text);
          const clamped =
            v !== null && Number.isFinite(v)
              ? Math.min(max ?? Infinity, Math.max(min ?? -Infinity, integer ? Math.round(v) : v))
              : null;
          if (clamped !== null && valid(String(clamped))) {
            setText(String(clamped));
            if (clamped !== value) onValue(clamped);
          } else setText(shown);
        }
        onBlur?.(e);
      }}
    />
  );
}

/** A labelled number input (NumberInput). Whole numbers unless `real`. */
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
  const id = useId();
  return (
    <label htmlFor={id}>
      {props.label}{' '}
      <NumberInput
        id={id}
        value={props.value}
        min={props.min}
        max={props.max}
        integer={!props.real}
        step={props.step}
        disabled={props.disabled}
        onValue={(v) => {
          if (v !== null) props.onChange(v);
        }}
        style={props.width ? { width: props.width } : undefined}
        data-testid={props.testId}
      />
      {props.unit ? ` ${props.unit}` : ''}
    </label>
  );
}
