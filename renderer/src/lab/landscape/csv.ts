/** Landscapes and interpolations as CSV, with their provenance as # comment lines. */
import { metaComments, type ResultMeta } from '../export';
import type { InterpolationResult } from './line';
import type { LandscapeResult } from './plane';

const num = (x: number) => (Number.isFinite(x) ? x.toPrecision(10) : String(x));

/**
 * A landscape as CSV in long format, one row per grid point: alpha,beta,loss,accuracy (α outer, β inner; loss
 * the mean cross-entropy, accuracy the top-1 fraction), after # comment lines with the provenance and settings.
 */
export function landscapeCsv(r: LandscapeResult, meta?: ResultMeta): string {
  const lines = [
    `# skipscope loss landscape: ${r.model}, ${r.images.count} images of ${r.images.set} (sample seed ${r.images.sampleSeed})`,
    ...(meta ? metaComments(meta) : []),
    `# plane theta + alpha*d1 + beta*d2, ${r.settings.grid}x${r.settings.grid} grid over [-${r.settings.range}, ${r.settings.range}]^2; directions: Gaussian from seed ${r.settings.seed}, filter-normalised, biases and norm parameters 0 (${r.directions.perturbedTensors} tensors, ${r.directions.perturbedParameters} of ${r.directions.parameters} parameters moved)`,
    `# centre (the model): loss ${num(r.centre.loss)}, accuracy ${num(r.centre.accuracy)}; loss = mean cross-entropy (natural log), accuracy = top-1 fraction`,
    'alpha,beta,loss,accuracy',
  ];
  for (const [i, alpha] of r.alphas.entries())
    for (const [j, beta] of r.betas.entries())
      lines.push([num(alpha), num(beta), num(r.loss[i]![j]!), num(r.accuracy[i]![j]!)].join(','));
  return `${lines.join('\n')}\n`;
}

/** An interpolation as CSV: t,loss,accuracy per point, after # comment lines. */
export function interpolationCsv(r: InterpolationResult, meta?: ResultMeta): string {
  const lines = [
    `# skipscope interpolation: theta(t) = (1 - t)*theta_A + t*theta_B, A = ${r.models.a}, B = ${r.models.b}; ${r.images.count} images of ${r.images.set} (sample seed ${r.images.sampleSeed})`,
    ...(meta ? metaComments(meta) : []),
    `# ${r.tensors.interpolated} tensors interpolated (${r.tensors.parameters} values, ||theta_B - theta_A|| = ${num(r.tensors.distance)}), ${r.tensors.identical} equal in both`,
    `# A: loss ${num(r.a.loss)}, accuracy ${num(r.a.accuracy)}; B: loss ${num(r.b.loss)}, accuracy ${num(r.b.accuracy)}`,
    't,loss,accuracy',
    ...r.ts.map((t, k) => [num(t), num(r.loss[k]!), num(r.accuracy[k]!)].join(',')),
  ];
  return `${lines.join('\n')}\n`;
}
