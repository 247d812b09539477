import { type ReactNode, useEffect, useRef } from 'react';
import type { BuildOptions } from '../../core/build/resnet';
import { formatValue } from '../../core/text';
import { activationText, SHORTCUT_NAMES, type Topology } from '../../core/topology/types';
import type { ResultCache } from '../../lab/cache';
import { pathLengthDistribution, randomPath } from '../../lab/paths';
import { seededRandom } from '../../lab/stats';
import { type ColorContext, modeValues } from '../../store/colorModes';
import { useApp, useAppStore, useCacheVersion, useServices } from '../../store/store';
import type { AppState, AppStore, OpenModel } from '../../store/types';
import type { LabMethod, LabResults } from '../../worker/protocol';
import { useBoxSize } from '../common/stageInsets';
import { colorContext } from './colorModes';
import { DegradationFigure } from './DegradationFigure';

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

/** What a step may read: the live store, the open model, the result cache. */
interface Ctx {
  state: AppState;
  store: AppStore;
  model: OpenModel;
  /** A result from the cache, typed by the experiment that made it. */
  get<M extends LabMethod>(method: M, key: string | null): LabResults[M] | undefined;
  /** What the colour modes read (store/colorModes.ts): the block values the 3D view shows. */
  colors: ColorContext | null;
}

interface Step {
  title: string;
  /** The idea, in a few sentences. */
  text: string[];
  /** Drives the scene when the step opens. */
  enter(ctx: Ctx): void;
  /**
   * Starts the step's measurement (a cached or running job is not started again); called when the step opens and
   * again when the lab's runtime or the images change, so a tour opened before the model's session is ready still
   * measures.
   */
  measure?(ctx: Ctx): void;
  /** What is measured on this model, live. */
  measured(ctx: Ctx): ReactNode;
  /**
   * A figure the step shows (e.g. training curves) in place of the 3D view, at the size of the stage beside the card
   * (in the card it was drawn at a third of the screen's width, its text at 12 px in presentation).
   */
  figure?(size: { width: number; height: number }): ReactNode;
}

const residual = (t: Topology) => t.kind === 'residual' && t.blocks.length > 0;

/** A block to show a plain identity block with: the second block of the first stage when there is one. */
function exampleBlock(t: Topology): number | null {
  if (!residual(t)) return null;
  const b = t.blocks.find((b) => b.index > 0 && b.shortcut === 'identity' && !b.downsample) ?? t.blocks[0];
  return b?.index ?? null;
}

/** A block in the middle of the last stage, away from downsampling: the lesion example. */
function middleBlock(t: Topology): number | null {
  if (!residual(t)) return null;
  const candidates = t.blocks.filter((b) => !b.downsample && b.shortcut === 'identity');
  return candidates[Math.floor(candidates.length / 2)]?.index ?? null;
}

/**
 * The gradient steps differentiate an image the model gets right but is least sure of: its loss is well above zero,
 * so its gradients are not vanishingly small (an easy image's loss is ~0 and every gradient ~1e-8). Found from the
 * evaluation of the current images; the Run panel shows it.
 */
async function gradientsOnHardImage(ctx: Ctx): Promise<void> {
  const { store } = ctx;
  const step = store.getState().tourStep;
  await store.getState().evaluate();
  // Evaluate can take minutes: a tour ended or moved on meanwhile keeps the user's image.
  if (store.getState().tourStep !== step) return;
  const r = ctx.get('evaluate', store.getState().evaluationKey());
  const pick = r?.leastConfidentCorrect;
  if (pick && store.getState().imageIndex !== pick.index) store.getState().setImageIndex(pick.index);
  await store.getState().computeGradients();
}

/** Which image the gradient step uses, and why. */
function hardImage(ctx: Ctx): string {
  const r = ctx.get('evaluate', ctx.state.evaluationKey());
  const pick = r?.leastConfidentCorrect;
  const g = ctx.get('gradients', ctx.state.gradientKey());
  if (!pick || ctx.state.imageIndex !== pick.index) return '';
  return `Image #${pick.index} of ${r.set.title}, the least confident correct one (p = ${pick.probability.toFixed(3)}${
    g ? `, loss ${g.loss.toFixed(3)}` : ''
  }). `;
}

const INIT_DEPTH = 56;
const initVariants: BuildOptions[] = (['plain', 'resnet'] as const).map((variant) => ({
  variant,
  depth: INIT_DEPTH,
  // The Build lab's default seed: the tour and the lab show the same networks' numbers.
  seed: 0,
}));

export const STEPS: Step[] = [
  {
    title: 'A residual network, end to end',
    text: [
      'The image enters at the stem on the left and the class scores leave at the head on the right. In between, the blocks are grouped into stages; each stage works at one feature-map size, and the first block of a stage usually halves the side and widens the channels.',
      'Every arc over a block is a skip connection: the block’s input travels around the block and is added back to what the block computed.',
    ],
    enter: ({ state }) => {
      state.selectBlock(null);
      state.setColorMode('stage');
      state.lightPath(null);
      state.resetView();
    },
    measured: ({ model }) => {
      const t = model.analysis.topology;
      const kinds = [...new Set(t.blocks.map((b) => SHORTCUT_NAMES[b.shortcut]))].join(', ');
      return t.kind === 'residual'
        ? `${model.name}: ${t.blocks.length} residual blocks in ${t.stages.length} stages, ${t.depth} weighted layers deep, ${(t.params / 1e6).toFixed(2)} M parameters; shortcuts: ${kinds}.`
        : t.denseSkips.length
          ? `${model.name}: a dense network (${t.layers.length} weighted layers; its ${t.denseSkips.length} skips concatenate, none adds).`
          : `${model.name}: a plain network (${t.layers.length} weighted layers, no skips).`;
    },
  },
  {
    title: 'The degradation problem',
    text: [
      'Stacking more plain layers should never hurt in principle: the extra layers could copy their input. In practice, a deeper plain network reaches a higher error on its own training data than a shallower one. The data are the same and the capacity is larger, so this is a failure to optimise, not overfitting.',
      'Residual networks were the fix He et al. found: with skips, their 56- and 110-layer CIFAR networks trained to lower error than the 20-layer one instead of higher. Short runs need not show it yet: see what Skipscope measured.',
    ],
    enter: ({ state }) => {
      state.lightPath(null);
      state.resetView();
    },
    figure: (size) => <DegradationFigure {...size} />,
    measured: () =>
      'Skipscope’s own runs (He et al.’s recipe, 3 epochs on 10,000 CIFAR-10 images; docs/degradation.md): the plain nets get worse with depth; the post-activation ResNets are not yet in He et al.’s order (the deeper, the slower), while pre-activation ResNet-56 ends level with its 20-layer sibling (58.3 % against 58.9 %). Plain-20 and ResNet-20 trained 24 epochs (29.8 % against 23.3 %) are in the model list. The Race lab runs this live.',
  },
  {
    title: 'y = F(x) + x',
    text: [
      'Opened up, a block is a small stack of convolutions, normalisations and activations, F(x). Its result is added to the unchanged input x at the join (the sphere), where the skip lands.',
      'If F outputs zero (for instance when the scale of its last normalisation is zero), the block is exactly the identity. Copying its input, which a stack of plain layers finds hard to learn, is therefore the easiest thing a residual block can do, and learning consists of corrections F(x) to x.',
    ],
    enter: ({ state, model, colors }) => {
      state.lightPath(null);
      const b = exampleBlock(model.analysis.topology);
      if (b !== null) state.flyTo(b);
      state.setColorMode(colors && modeValues('signal', colors) ? 'signal' : 'stage');
    },
    measured: ({ model, colors }) => {
      const b = exampleBlock(model.analysis.topology);
      if (b === null) return 'This network has no residual blocks.';
      const block = model.analysis.topology.blocks[b]!;
      const ratio = colors ? modeValues('signal', colors)?.values[b] : undefined;
      return `Block ${b + 1}: ${block.branchLayers.length} convolutions in F, ${SHORTCUT_NAMES[block.shortcut]} shortcut, ${activationText(block.activation)}.${
        ratio !== null && ratio !== undefined ? ` Measured ‖F(x)‖/‖x‖ = ${formatValue(ratio)}.` : ''
      }`;
    },
  },
  {
    title: 'The gradient highway',
    text: [
      'Differentiating y = F(x) + x gives ∂y/∂x = I + ∂F/∂x. On the way back, the gradient crosses every join twice: once unchanged through the skip (the I) and once through the branch. Even if the branch terms are small, the identity term carries the gradient to the early layers.',
      'The colours show, per block, how the gradient reaching the block’s input splits between the skip and the branch (where a ReLU follows the join, as in post-activation blocks, it gates both parts alike).',
    ],
    enter: ({ state }) => {
      state.selectBlock(null);
      state.lightPath(null);
      state.resetLesion();
      state.resetView();
      state.setColorMode('highway');
    },
    measure: (ctx) => void gradientsOnHardImage(ctx),
    measured: (ctx) => {
      const { colors } = ctx;
      const g = colors ? modeValues('gradient', colors)?.values : undefined;
      const h = colors ? modeValues('highway', colors)?.values.filter((v): v is number => v !== null) : undefined;
      if (!g || !h) return 'finding the least confident correct image, then computing its gradients…';
      const first = g[0];
      const last = g[g.length - 1];
      const mean = h.reduce((a, b) => a + b, 0) / Math.max(1, h.length);
      return `${hardImage(ctx)}‖∂L/∂ output‖ of block 1: ${formatValue(first ?? Number.NaN)}; of the last block: ${formatValue(last ?? Number.NaN)}. Skip ÷ (skip + branch), mean over blocks: ${mean.toFixed(2)}.`;
    },
  },
  {
    title: '2ⁿ paths, binomial lengths',
    text: [
      'Unroll n blocks and every block offers two ways forward: through F or along the skip. A residual network is a collection of 2ⁿ paths of different lengths. A path that takes k branches has length k, and C(n, k) paths do so: the lengths follow Binomial(n, ½), centred on n/2.',
      'The lit path takes half of the branches and skips the others. Most gradient flows through paths much shorter than the network, which is one reason why deep residual networks train at all.',
    ],
    enter: ({ state, model }) => {
      const n = model.analysis.topology.blocks.length;
      state.selectBlock(null);
      state.setColorMode('stage');
      if (n > 0) state.lightPath(randomPath(n, Math.round(n / 2), seededRandom(7)));
      state.resetView();
    },
    measured: ({ model }) => {
      const n = model.analysis.topology.blocks.length;
      if (n === 0) return 'No residual blocks, so there is one path.';
      const p = pathLengthDistribution(n);
      const sd = Math.sqrt(n) / 2;
      let inside = 0;
      for (let k = 0; k <= n; k++) if (Math.abs(k - n / 2) <= 2 * sd) inside += p[k]!;
      const count = n <= 50 ? `= ${2 ** n}` : `≈ 10^${(n * Math.log10(2)).toFixed(1)}`;
      return `n = ${n}: 2ⁿ ${count} paths; mean length ${n / 2}, standard deviation ${sd.toFixed(2)}; ${pct(inside)} of the paths lie within two standard deviations (lengths ${Math.ceil(n / 2 - 2 * sd)}–${Math.floor(n / 2 + 2 * sd)}). The Paths panel measures the gradient per length.`;
    },
  },
  {
    title: 'Remove a block, or cut a skip',
    text: [
      'Removing one block’s branch from a trained residual network leaves the skip in place: the block becomes the identity and only the paths through it are lost, half of them. Accuracy usually drops only a little, except at blocks that downsample.',
      'Cutting a skip instead (−skip in the block list) forces all signal through F, as in a plain network, and removes every path that skipped the block. Try both on the same block.',
      'For the trained contrast, open the recorded plain-20 and ResNet-20 from the model list and run “One block (layer) at a time” on each: the second study is drawn beside the first. In a plain network one removed layer leaves most images near chance.',
    ],
    enter: ({ state, model }) => {
      state.lightPath(null);
      state.resetLesion();
      const b = middleBlock(model.analysis.topology);
      if (b !== null) {
        state.flyTo(b);
        state.toggleDrop(b);
      }
    },
    measure: ({ state }) => void state.evaluate(),
    measured: (ctx) => {
      const b = middleBlock(ctx.model.analysis.topology);
      if (b === null) return 'No residual blocks to remove.';
      const { dropped, cutSkips } = ctx.state;
      const shown = dropped.length === 1 && dropped[0] === b && cutSkips.length === 0;
      const lesion = shown ? ctx.get('lesionEvaluate', ctx.state.lesionKey()) : undefined;
      const intact = ctx.get('evaluate', ctx.state.evaluationKey());
      if (!shown)
        return `Lesion changed by hand (${dropped.length} removed, ${cutSkips.length} skips cut): its accuracy is in the Lesion panel. Intact ${
          intact ? pct(intact.top1.rate) : 'measuring…'
        }.`;
      return `Block ${b + 1}'s branch removed: ${lesion ? `top-1 ${pct(lesion.top1.rate)}` : 'measuring…'}; intact ${
        intact ? pct(intact.top1.rate) : 'measuring…'
      } (${ctx.state.imageSet?.title ?? 'current images'}).`;
    },
  },
  {
    title: 'Plain vs residual gradients at depth',
    text: [
      'In a plain network every layer multiplies the backward signal by its own Jacobian, so the gradient reaching the first layers depends on a long product that can shrink (or grow) with depth. With skips, each block adds an identity term, so the early layers receive the late layers’ gradient directly as well.',
      `The measurement builds a plain and a residual ${INIT_DEPTH}-layer CIFAR network from one seed, sets BatchNorm to the statistics of 32 images (as a first training step normalises) and compares ‖∂L/∂W‖ of the first and last layers on the Run panel’s image. The textbook failure is a vanishing gradient; in a He-initialised net with BatchNorm what can show instead is the mirror image, the first layers’ gradient far larger than the last layers’ (the ratio is measured below). Either way the plain net’s layers would learn at wildly different rates, while the residual net’s stay within a small factor. The Plain vs residual panel also has the unnormalised setting (BatchNorm as the identity), where the picture differs: read each number in its setting.`,
    ],
    enter: ({ state }) => {
      state.resetLesion();
      state.resetView();
    },
    measure: ({ state }) => void state.startInitCompare(initVariants),
    measured: (ctx) => {
      const r = ctx.get('compareAtInit', ctx.state.initKey(initVariants));
      if (!r) return 'building and differentiating both networks…';
      return `${r
        .map(
          (v) =>
            `${v.name}: first layer ${formatValue(v.layers[0] ?? Number.NaN)}, last layer ${formatValue(v.layers[v.layers.length - 1] ?? Number.NaN)} (ratio ${formatValue((v.layers[0] ?? Number.NaN) / (v.layers[v.layers.length - 1] ?? Number.NaN))})`,
        )
        .join(' · ')} (seed ${initVariants[0]!.seed}; the ratio varies from seed to seed: the Build lab takes others).`;
    },
  },
  {
    title: 'Pre- vs post-activation',
    text: [
      'The original block adds first and applies a ReLU after the join, so the skip path still passes through a nonlinearity. The pre-activation block moves normalisation and ReLU into the branch, before the convolutions. Within a stage the skips then chain into a clean identity path, and ∂y/∂x = I + ∂F/∂x holds exactly at every block with an identity shortcut (downsampling blocks transform x on their shortcut).',
      'He et al. (2016) report the largest gains from pre-activation in very deep networks (hundreds of layers). Skipscope’s own recorded runs disagree at 56 layers, early in training: with the same recipe (lr 0.1 from the first step, 3 epochs on 10,000 images), post-activation ResNet-56 stayed near chance (87.3 % training error) while pre-activation ResNet-56 ended level with its 20-layer sibling (58.3 % against 58.9 %). That is why the lecture race uses pre-activation ResNets.',
    ],
    enter: ({ state }) => {
      state.setColorMode('type');
      state.resetView();
    },
    measured: ({ model }) => {
      const t = model.analysis.topology;
      const pre = t.blocks.filter((b) => b.activation === 'pre').length;
      const none = t.blocks.filter((b) => b.activation === 'none').length;
      return t.blocks.length
        ? `This model: ${pre} pre-activation and ${t.blocks.length - pre - none} post-activation blocks${none ? `, ${none} with nothing after the join` : ''} (read from its graph).`
        : 'This model has no residual blocks.';
    },
  },
  {
    title: 'Skips beyond ResNet',
    text: [
      'Transformers wrap every attention and feed-forward sublayer in a residual connection; the running sum is often called the residual stream, and pre-norm placement is the pre-activation idea again.',
      'DenseNet concatenates earlier feature maps instead of adding them; U-Net joins encoder and decoder features of the same resolution across the whole network; highway networks gate the skip with learned weights.',
    ],
    enter: ({ state, model }) => {
      // A transformer's joins are coloured by sublayer: the two skips per layer show.
      state.setColorMode(model.analysis.topology.blocks.some((b) => b.sublayer) ? 'type' : 'stage');
      state.resetView();
    },
    measured: ({ model }) => {
      const t = model.analysis.topology;
      const attention = t.blocks.filter((b) => b.sublayer === 'attention').length;
      if (attention)
        return `This model is one: ${attention} attention and ${t.blocks.filter((b) => b.sublayer === 'mlp').length} MLP sublayers, each a residual join on one stream (coloured by sublayer).`;
      if (t.denseSkips.length)
        return `This model is a DenseNet: ${t.denseSkips.length} concatenation skips, drawn as arcs; none adds, so there is no branch to drop.`;
      return 'Open a ViT, Swin or DenseNet file to see these skips drawn on a real graph.';
    },
  },
];

/** The guided tour: steps a lecturer clicks through; each drives the scene and shows live numbers. */
export function Tour({ model }: { model: OpenModel }) {
  const step = useApp((s) => s.tourStep);
  const setStep = useApp((s) => s.setTourStep);
  const state = useApp((s) => s);
  const store = useAppStore();
  const { cache } = useServices();
  useCacheVersion();
  const current = step === null ? null : STEPS[Math.min(step, STEPS.length - 1)];
  // Steps can be linked: #tour=4 opens step 4 (from slides, say); the address follows the open step.
  useEffect(() => {
    const follow = () => {
      const m = /^#tour=(\d+)$/.exec(window.location.hash);
      if (m) setStep(Math.min(STEPS.length, Math.max(1, Number(m[1]))) - 1);
    };
    follow();
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, [setStep]);
  useEffect(() => {
    const want = step === null ? '' : `#tour=${step + 1}`;
    if (window.location.hash === want) return;
    if (step === null && !/^#tour=/.test(window.location.hash)) return;
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}${want}`);
  }, [step]);
  useEffect(() => {
    if (step === null) return;
    const s = STEPS[step];
    const state = store.getState();
    // Each step starts from a clean scene: no lit path, no lesion, no block opened, coloured by stage (the steps
    // that need one of these set it again). Stepping back once kept the later step's colours and opened block, and
    // an opened block's op labels floated over the overview of the steps after it.
    state.lightPath(null);
    if (state.dropped.length || state.cutSkips.length) state.resetLesion();
    if (state.selectedBlock !== null) state.selectBlock(null);
    if (state.colorMode !== 'stage') state.setColorMode('stage');
    s?.enter(tourContext(store, model, cache));
  }, [step, store, model, cache]);
  const touring = step !== null;
  // The gradient step shows the least confident correct image in the Run panel; when the tour ends, the image the
  // user had comes back (unless they chose another meanwhile).
  useEffect(() => {
    if (!touring) return;
    const before = store.getState().imageIndex;
    return () => {
      const s = store.getState();
      const picked = cache.get('evaluate', s.evaluationKey())?.leastConfidentCorrect?.index;
      if (s.imageIndex !== before && s.imageIndex === picked) s.setImageIndex(before);
    };
  }, [touring, store, cache]);
  const runtime = useApp((s) => s.runtime);
  const imageSet = useApp((s) => s.imageSet);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runtime and imageSet are the triggers (read via the store)
  useEffect(() => {
    if (step === null) return;
    STEPS[step]?.measure?.(tourContext(store, model, cache));
  }, [step, store, model, cache, runtime, imageSet]);
  if (step === null || !current) return null;
  const ctx: Ctx = { ...tourContext(store, model, cache), state };
  return (
    <>
      {current.figure && <StageFigure figure={current.figure} />}
      <section className="tour" aria-label="Guided tour" data-testid="tour" data-step={step}>
        <header>
          <span className="muted">
            {step + 1} / {STEPS.length}
          </span>{' '}
          <strong>{current.title}</strong>
        </header>
        {/* The explanation scrolls on its own: the measurement and the buttons stay in view. */}
        <div className="tour-text" data-testid="tour-text">
          {current.text.map((p) => (
            <p key={p.slice(0, 24)}>{p}</p>
          ))}
        </div>
        <p className="tour-measured" data-testid="tour-measured">
          <strong>Measured:</strong> {current.measured(ctx)}
        </p>
        <div className="row">
          <button type="button" disabled={step === 0} onClick={() => setStep(step - 1)} data-testid="tour-prev">
            Back
          </button>
          {step < STEPS.length - 1 ? (
            <button type="button" onClick={() => setStep(step + 1)} data-testid="tour-next">
              Next
            </button>
          ) : (
            <button type="button" onClick={() => setStep(null)} data-testid="tour-end">
              End tour
            </button>
          )}
          <button type="button" onClick={() => setStep(null)} aria-label="Close the tour">
            ×
          </button>
        </div>
      </section>
    </>
  );
}

/** A step's figure over the stage beside the card, drawn at the size it is given there. */
function StageFigure({ figure }: { figure: NonNullable<Step['figure']> }) {
  const own = useRef<HTMLDivElement>(null);
  const size = useBoxSize(own);
  return (
    <div className="tour-stage-figure" ref={own} data-testid="tour-stage-figure">
      {size && figure(size)}
    </div>
  );
}

function tourContext(store: AppStore, model: OpenModel, cache: ResultCache<LabResults>): Ctx {
  const state = store.getState();
  return { state, store, model, get: (method, key) => cache.get(method, key), colors: colorContext(state, cache) };
}
