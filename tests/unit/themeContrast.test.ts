import { describe, expect, it } from 'vitest';
import { contrastRatio, themes } from '../../renderer/src/scene/theme';
import { PALETTES } from '../../renderer/src/ui/network/DegradationFigure';

/**
 * Colours fixed per theme, checked against that theme's background (WCAG contrast): lines in a chart need 3:1 to be
 * told from the background on a projector. The tour figure's curves had 1.5:1 on the light theme's white.
 */
describe('per-theme colours against their background', () => {
  it("the tour figure's curves, every kind and depth, at least 3:1", () => {
    for (const [name, palette] of Object.entries(PALETTES)) {
      const background = themes[name as keyof typeof themes].background;
      for (const [kind, colours] of Object.entries(palette))
        for (const colour of colours)
          expect(contrastRatio(colour, background), `${name} ${kind} ${colour}`).toBeGreaterThanOrEqual(3);
    }
  });

  it('skip arcs, identity and transformed, at least 3:1', () => {
    for (const theme of Object.values(themes)) {
      expect(contrastRatio(theme.skip, theme.background), `${theme.name} skip`).toBeGreaterThanOrEqual(3);
      expect(contrastRatio(theme.skipProjection, theme.background), `${theme.name} shortcut`).toBeGreaterThanOrEqual(3);
    }
  });
});
