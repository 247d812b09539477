import { int } from '../onnx/attrs';
import { GraphBuilder } from '../onnx/builder';
import { DataType } from '../onnx/dtypes';
import type { Model } from '../onnx/model';

/** Image input types fed as float32 through a Cast: float16 and double models, and uint8 pixels (TF exports). */
const INPUT_TYPES = new Set<number>([DataType.FLOAT16, DataType.DOUBLE, DataType.UINT8]);
/** Score types read back as float32. */
const OUTPUT_TYPES = new Set<number>([DataType.FLOAT16, DataType.DOUBLE]);

/**
 * The model with a float32 interface: an image input of float16, double or uint8 becomes a float32 input of the same
 * name cast to the stored type, and a float16 or double output is cast to float32 under its own name. Every lab feeds
 * float32 images and reads float32 scores, so a model converted to float16 whole (its input and output too, what
 * onnxconverter's convert_float_to_float16 gives by default) or one that takes uint8 pixels was refused outright.
 * A uint8 input gets whole 0…255 pixels (its preprocessing is in the graph: topology/inputNorm sees it through the
 * Cast), and the gradient passes the Cast as the identity: ∂L/∂image is then per 0…255 pixel value. `adapted`
 * counts the casts.
 */
export function floatInterface(model: Model): { model: Model; adapted: number } {
  const { graph } = model;
  const inputs = graph.inputs.filter(
    (i) => INPUT_TYPES.has(i.elemType) && !graph.constants.has(i.name) && (i.shape?.length ?? 0) === 4,
  );
  const outputs = graph.outputs.filter((o) => OUTPUT_TYPES.has(o.elemType));
  if (inputs.length === 0 && outputs.length === 0) return { model, adapted: 0 };
  const b = new GraphBuilder(model);
  for (const input of inputs) {
    const stored = b.unique(`${input.name}_stored`);
    b.rewire(input.name, stored);
    b.node('Cast', [input.name], { to: int(input.elemType) }, { outputs: [stored] });
  }
  const cast = new Set(inputs.map((i) => i.name));
  for (const output of outputs) {
    const producer = b.producerOf(output.name);
    // An output no node computes (an initializer, or the input itself) keeps its type: onnxruntime says what it is.
    if (!producer) continue;
    cast.add(output.name);
    const stored = b.unique(`${output.name}_stored`);
    producer.outputs = producer.outputs.map((t) => (t === output.name ? stored : t));
    b.rewire(output.name, stored);
    b.node('Cast', [stored], { to: int(DataType.FLOAT) }, { outputs: [output.name] });
  }
  b.setInputs(graph.inputs.map((i) => (cast.has(i.name) ? { ...i, elemType: DataType.FLOAT } : i)));
  b.setOutputs(graph.outputs.map((o) => (cast.has(o.name) ? { ...o, elemType: DataType.FLOAT } : o)));
  return { model: b.build({ prune: false, name: model.name }), adapted: cast.size };
}
