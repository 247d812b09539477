/**
 * The op registry: everything Skipscope knows about an ONNX op lives in its family's file.
 * Shape inference, topology detection, parameter and MAC counts read it; adding an op is one entry.
 */
import { activationOps } from './activation';
import { convOps } from './conv';
import { elementwiseOps } from './elementwise';
import { gemmOps } from './gemm';
import { layoutOps } from './layout';
import { normOps } from './norm';
import { poolOps } from './pool';
import { reduceOps } from './reduce';
import { softmaxOps } from './softmax';
import type { OpDef, OpRole } from './types';

const registry: ReadonlyMap<string, OpDef> = new Map(
  Object.entries({
    ...convOps,
    ...gemmOps,
    ...activationOps,
    ...normOps,
    ...poolOps,
    ...elementwiseOps,
    ...reduceOps,
    ...softmaxOps,
    ...layoutOps,
  }),
);

/** The definition of a default-domain ONNX op, or undefined for ops Skipscope does not know. */
export function opDef(opType: string, domain = ''): OpDef | undefined {
  return domain === '' || domain === 'ai.onnx' ? registry.get(opType) : undefined;
}

/** The op's role, or null for an unknown op. */
export function opRole(opType: string, domain = ''): OpRole | null {
  return opDef(opType, domain)?.role ?? null;
}

/** Every op type the registry defines. */
export function knownOps(): string[] {
  return [...registry.keys()];
}

export type { Folded, OpDef, OpRole, Shape, ShapeContext } from './types';
export { product } from './types';
