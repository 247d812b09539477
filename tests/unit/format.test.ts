import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../renderer/src/ui/common/format';

describe('formatDuration', () => {
  it('reads naturally at every scale, never "60 s"', () => {
    expect(formatDuration(420)).toBe('420 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(119_600)).toBe('2 min 0 s');
    expect(formatDuration(307_718)).toBe('5 min 8 s');
  });
});
