import { Canvas } from '@react-three/fiber';
import { useCallback, useState } from 'react';
import type { NetworkLayout } from '../core/layout/layout';
import type { ShortcutKind } from '../core/topology/types';
import { Blocks } from './Blocks';
import { Controls } from './Controls';
import { SkipArcs } from './SkipArcs';
import type { Theme } from './theme';

interface Props {
  layout: NetworkLayout;
  shortcuts: ShortcutKind[];
  theme: Theme;
  dropped: readonly number[];
  cutSkips: readonly number[];
  selected: number | null;
  hovered: number | null;
  onHover(index: number | null): void;
  onSelect(index: number | null): void;
  /** Per-block heat-scale positions 0…1 (gradient norms, skip shares), or null for stage colours. */
  overlay?: readonly (number | null)[] | null;
  /** A lit path through the network (true: through the block's branch). */
  path?: readonly boolean[] | null;
}

/** The 3D view: stem, instanced blocks, skip arcs and stage plates. Renders only when something changes. */
export function NetworkScene({
  layout,
  shortcuts,
  theme,
  dropped,
  cutSkips,
  selected,
  hovered,
  onHover,
  onSelect,
  overlay = null,
  path = null,
}: Props) {
  // True once a frame has really drawn the blocks (not merely once the canvas exists): tests wait on it.
  const [drawn, setDrawn] = useState(false);
  const markDrawn = useCallback(() => setDrawn(true), []);
  return (
    <div
      className="scene"
      data-testid="scene"
      data-drawn={drawn ? 'true' : 'false'}
      data-blocks={layout.blockCount}
      data-overlay={overlay ? 'on' : 'off'}
      data-path={path ? path.map((p) => (p ? 1 : 0)).join('') : ''}
    >
      <Canvas
        frameloop="demand"
        camera={{ fov: 40 }}
        gl={{ antialias: true, preserveDrawingBuffer: true }}
        onCreated={(state) => state.gl.setClearColor(theme.background)}
        onPointerMissed={() => onSelect(null)}
      >
        <color attach="background" args={[theme.background]} />
        <ambientLight intensity={0.55} />
        <directionalLight position={[5, 12, 8]} intensity={1.4} />
        <directionalLight position={[-6, 4, -5]} intensity={0.35} />
        <Controls bounds={layout.bounds} />
        <Box values={layout.stem} color={theme.stem} />
        <Box values={layout.head} color={theme.head} />
        <StagePlates layout={layout} theme={theme} />
        <Blocks
          layout={layout}
          theme={theme}
          dropped={dropped}
          selected={selected}
          hovered={hovered}
          onHover={onHover}
          onSelect={onSelect}
          onDrawn={markDrawn}
          overlay={overlay}
          path={path}
        />
        <SkipArcs
          layout={layout}
          shortcuts={shortcuts}
          theme={theme}
          dropped={dropped}
          cutSkips={cutSkips}
          path={path}
        />
      </Canvas>
    </div>
  );
}

function Box({ values, color }: { values: Float32Array; color: string }) {
  return (
    <mesh position={[values[0]!, values[1]!, values[2]!]} scale={[values[3]!, values[4]!, values[5]!]}>
      <boxGeometry />
      <meshStandardMaterial color={color} roughness={0.6} />
    </mesh>
  );
}

/** A floor plate under each stage makes stage boundaries visible from any angle. */
function StagePlates({ layout, theme }: { layout: NetworkLayout; theme: Theme }) {
  const plates = [];
  for (let s = 0; 2 * s < layout.stageBounds.length; s++) {
    const x0 = layout.stageBounds[2 * s]!;
    const x1 = layout.stageBounds[2 * s + 1]!;
    const color = theme.stages[s % theme.stages.length]!;
    plates.push(
      <mesh key={s} position={[(x0 + x1) / 2, -0.03, 0]} scale={[x1 - x0, 0.05, 2.6]}>
        <boxGeometry />
        <meshStandardMaterial color={color} transparent opacity={0.28} />
      </mesh>,
    );
  }
  return <>{plates}</>;
}
