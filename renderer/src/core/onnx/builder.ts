import { attributes } from './attrs';
import { constantValue } from './decode';
import { DataType } from './dtypes';
import {
  type Attribute,
  type Dim,
  type Graph,
  type Model,
  ModelError,
  type Node,
  type Tensor,
  type ValueInfo,
} from './model';
import { sortTopologically } from './order';

/** Typed values for a new initializer; bytes are stored little-endian, as ONNX's raw_data requires. */
export type TensorValues = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface NodeOptions {
  /** Number of outputs (fresh names) or their exact names; default one fresh output. */
  outputs?: number | string[];
  name?: string;
  domain?: string;
}

/**
 * Edits a model's graph or synthesises a new one: unique names, initializers, nodes, inputs and outputs.
 * `build()` returns a new Model in topological order, optionally pruned of dead nodes and unused weights;
 * the source model is never modified (weights stay shared, zero-copy).
 */
export class GraphBuilder {
  private nodes: Node[];
  private readonly constants: Map<string, Tensor>;
  private initializers: string[];
  private inputs: ValueInfo[];
  private outputs: ValueInfo[];
  private readonly valueInfo: Map<string, ValueInfo>;
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(private readonly base: Model) {
    const g = base.graph;
    this.nodes = g.nodes.map((n) => ({
      ...n,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: new Map(n.attrs),
    }));
    this.constants = new Map(g.constants);
    this.initializers = [...g.initializers];
    this.inputs = [...g.inputs];
    this.outputs = [...g.outputs];
    this.valueInfo = new Map(g.valueInfo);
    for (const n of this.nodes) {
      if (n.name) this.names.add(n.name);
      for (const t of [...n.inputs, ...n.outputs]) if (t) this.names.add(t);
    }
    for (const t of [...this.constants.keys(), ...this.inputs.map((i) => i.name), ...this.outputs.map((o) => o.name)])
      this.names.add(t);
  }

  /** A builder for a brand-new model with the given default-domain opset. */
  static create(options: { name: string; opset: number; producer?: string; irVersion?: number }): GraphBuilder {
    return new GraphBuilder({
      name: options.name,
      irVersion: options.irVersion ?? 8,
      opset: options.opset,
      opsets: new Map([['', options.opset]]),
      producer: options.producer ?? 'skipscope',
      producerVersion: '',
      graph: {
        name: options.name,
        nodes: [],
        inputs: [],
        outputs: [],
        constants: new Map(),
        initializers: [],
        valueInfo: new Map(),
      },
      byteLength: 0,
      domain: '',
      modelVersion: 0,
      docString: '',
      metadata: [],
    });
  }

  get opset(): number {
    return this.base.opset;
  }

  /** Nodes as they stand (edit with the methods below). */
  get graphNodes(): readonly Node[] {
    return this.nodes;
  }

  get graphInputs(): readonly ValueInfo[] {
    return this.inputs;
  }

  get graphOutputs(): readonly ValueInfo[] {
    return this.outputs;
  }

  constant(name: string): Tensor | undefined {
    return this.constants.get(name);
  }

  /** A name no tensor or node of the graph uses yet, from `prefix`. */
  unique(prefix: string): string {
    let name = prefix;
    while (this.names.has(name)) name = `${prefix}_${++this.counter}`;
    this.names.add(name);
    return name;
  }

  /** Adds an initializer with a fresh name from `prefix`; returns the name. */
  initializer(prefix: string, dataType: number, dims: readonly number[], values: TensorValues): string {
    const name = this.unique(prefix);
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) throw new Error(`initializer ${name}: ${values.length} values for dims [${dims}]`);
    const raw = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    this.constants.set(name, {
      name,
      dataType,
      dims: [...dims],
      size,
      raw,
      floatData: null,
      intData: null,
      external: null,
    });
    this.initializers.push(name);
    return name;
  }

  /** A float32 initializer. */
  floats(prefix: string, dims: readonly number[], values: ArrayLike<number>): string {
    return this.initializer(prefix, DataType.FLOAT, dims, Float32Array.from(values));
  }

  /** A 1-D int64 initializer (axes, shapes, pads). */
  int64s(prefix: string, values: readonly number[]): string {
    return this.initializer(prefix, DataType.INT64, [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /** A float32 scalar initializer. */
  scalar(prefix: string, value: number): string {
    return this.initializer(prefix, DataType.FLOAT, [], Float32Array.of(value));
  }

  /** Adds a node; returns its output names. */
  node(
    opType: string,
    inputs: readonly string[],
    attrs: Record<string, Attribute | undefined> = {},
    options: NodeOptions = {},
  ): string[] {
    const outs = options.outputs ?? 1;
    const outputs =
      typeof outs === 'number' ? Array.from({ length: outs }, () => this.unique(opType.toLowerCase())) : outs;
    for (const o of outputs) this.names.add(o);
    const node: Node = {
      index: this.nodes.length,
      name: options.name ?? this.unique(`${opType}_node`),
      opType,
      domain: options.domain ?? '',
      inputs: [...inputs],
      outputs,
      attrs: attributes(attrs),
    };
    this.nodes.push(node);
    return outputs;
  }

  /** Adds a single-output node; returns the output name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attribute | undefined> = {}): string {
    return this.node(opType, inputs, attrs)[0]!;
  }

  /** Declares a graph input (a fresh name from `prefix` unless `exact`). */
  input(prefix: string, elemType: number, shape: Dim[] | null, exact = false): string {
    const name = exact ? prefix : this.unique(prefix);
    this.names.add(name);
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  /** Declares a graph output. */
  output(name: string, elemType: number = DataType.FLOAT, shape: Dim[] | null = null): void {
    this.outputs.push({ name, elemType, shape });
  }

  /** Replaces the graph's outputs. */
  setOutputs(outputs: ValueInfo[]): void {
    this.outputs = [...outputs];
  }

  /** Replaces the graph's inputs. */
  setInputs(inputs: ValueInfo[]): void {
    this.inputs = [...inputs];
  }

  /** Removes the nodes for which `drop` is true. */
  removeNodes(drop: (node: Node) => boolean): void {
    this.nodes = this.nodes.filter((n) => !drop(n));
  }

  /** Makes every consumer node of `from` (except the nodes in `except`) read `to` instead. */
  rewire(from: string, to: string, except: ReadonlySet<Node> = new Set()): void {
    for (const n of this.nodes) {
      if (except.has(n)) continue;
      for (let i = 0; i < n.inputs.length; i++) if (n.inputs[i] === from) n.inputs[i] = to;
    }
  }

  /** The node (as held by this builder) that produces `tensor`, if any. */
  producerOf(tensor: string): Node | undefined {
    return this.nodes.find((n) => n.outputs.includes(tensor));
  }

  /**
   * The finished model: nodes in topological order and re-indexed; with `prune`, nodes whose outputs nobody
   * uses, and initializers and inputs no node reads, are dropped. Throws when a tensor is used but never defined.
   */
  build(options: { prune?: boolean; name?: string } = {}): Model {
    const prune = options.prune ?? true;
    // The sort below works on node.index, so number the kept nodes by position first.
    const nodes = (prune ? liveNodes(this.nodes, this.outputs) : this.nodes).map((n, index) => ({ ...n, index }));
    const used = new Set<string>([...nodes.flatMap((n) => n.inputs), ...this.outputs.map((o) => o.name)]);
    const initializers = prune ? this.initializers.filter((t) => used.has(t)) : this.initializers;
    const constants = new Map<string, Tensor>();
    for (const name of initializers) constants.set(name, this.constants.get(name)!);
    for (const n of nodes) {
      const out = n.outputs[0];
      if (n.opType === 'Constant' && n.domain === '' && out) {
        const t = constantValue(n, out);
        if (t) constants.set(out, t);
      }
    }
    // Pruning drops inputs nothing reads too: a cut-out tail tells this way whether it still needs the image.
    const inputs = this.inputs.filter((i) => !prune || used.has(i.name));
    const producer = new Map<string, number>();
    nodes.forEach((n, i) => {
      for (const o of n.outputs) if (o) producer.set(o, i);
    });
    const defined = (t: string) => !t || producer.has(t) || constants.has(t) || inputs.some((i) => i.name === t);
    for (const n of nodes) {
      const missing = n.inputs.find((t) => !defined(t));
      if (missing !== undefined)
        throw new ModelError(`edited graph: ${n.opType} reads "${missing}", which nothing defines`);
    }
    const missingOut = this.outputs.find((o) => !defined(o.name));
    if (missingOut) throw new ModelError(`edited graph: output "${missingOut.name}" is never computed`);
    const order = sortTopologically(nodes, producer, this.base.name);
    const sorted = order.map((i, index) => ({ ...nodes[i]!, index }));
    const produced = new Set(sorted.flatMap((n) => n.outputs));
    const valueInfo = new Map([...this.valueInfo].filter(([name]) => produced.has(name)));
    const graph: Graph = {
      name: options.name ?? this.base.graph.name,
      nodes: sorted,
      inputs,
      outputs: this.outputs,
      constants,
      initializers,
      valueInfo,
    };
    return { ...this.base, name: options.name ?? this.base.name, graph, byteLength: 0 };
  }
}

/** Nodes that contribute to some graph output (dead-code elimination by walking back from the outputs). */
function liveNodes(nodes: Node[], outputs: ValueInfo[]): Node[] {
  const producer = new Map<string, Node>();
  for (const n of nodes) for (const o of n.outputs) if (o) producer.set(o, n);
  const live = new Set<Node>();
  const stack = outputs.map((o) => o.name);
  while (stack.length) {
    const n = producer.get(stack.pop()!);
    if (!n || live.has(n)) continue;
    live.add(n);
    stack.push(...n.inputs.filter(Boolean));
  }
  return nodes.filter((n) => live.has(n));
}
