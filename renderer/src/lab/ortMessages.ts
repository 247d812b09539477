import { errorLine } from '../core/text';

/**
 * onnxruntime's error messages (onnxruntime-node's and onnxruntime-web's) in a user's words, for the CLI and the
 * app alike.
 */
/** onnxruntime's error text in a user's words: what is wrong with the model, without its source-file positions. */
export function translateOrtMessage(raw: string): string {
  const custom = /(?:Fatal error: )?([\w.-]*):([\w.-]+)\((-?\d+)\) is not a registered function\/op/.exec(raw);
  if (custom) return `it uses the op ${custom[2]} of domain "${custom[1]}", which onnxruntime does not have`;
  const noOp = /Could not find an implementation for (\w+)\((\d+)\)/.exec(raw);
  if (noOp) return `onnxruntime has no implementation of ${noOp[1]} (opset ${noOp[2]}) for these types`;
  const opset = /Opset (\d+) is under development[\s\S]*?support for domain ([\w.]+) is till opset (\d+)/.exec(raw);
  if (opset)
    return `it uses opset ${opset[1]} of ${opset[2]}, newer than this onnxruntime runs (up to opset ${opset[3]})`;
  // "Got invalid dimensions for input: x for the following indices\n index: 0 Got: 1 Expected: 4\n Please fix …".
  const dims =
    /Got invalid dimensions for input: (\S+) for the following indices\s+((?:index: \d+ Got: \d+ Expected: \d+\s*)+)/.exec(
      raw,
    );
  if (dims) {
    const axes = [...dims[2]!.matchAll(/index: (\d+) Got: (\d+) Expected: (\d+)/g)].map(
      (m) => `axis ${m[1]} is ${m[3]}, fed ${m[2]}`,
    );
    return `its input "${dims[1]}" has a fixed size Skipscope did not feed (${axes.join('; ')})`;
  }
  const missing = /input '([^']*)' is missing in 'feeds'/.exec(raw);
  if (missing) return `it needs the input "${missing[1]}" too; Skipscope feeds only the image`;
  // The last of nested "[ONNXRuntimeError] : 1 : FAIL : …" parts says what is wrong; the rest is how it got there.
  let text = raw.split(/\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/).at(-1)!;
  text = text
    .replace(/^Exception during initialization:\s*/, '')
    .replace(/Load model from .*? failed:\s*/g, '')
    // onnxruntime-web's wrapping of the same messages.
    .replace(/^Can't create a session\. ERROR_CODE: \d+, ERROR_MESSAGE:\s*/, '');
  // Source positions (/onnxruntime_src/…/graph.cc:1555) and the function named after one.
  text = text.replace(/(?:\/[\w.+-]+)*\/?[\w.+-]+\.(?:cc|cpp|h|hpp):\d+\s*(?:[A-Z][a-z]+[A-Z]\w{6,}\s+)?/g, '');
  text = stripSignatures(text).replace(/\S+ was false\.\s*/g, '');
  // A C++ lambda's name and the failed check before the reason: "::<lambda()> adapter_result.status == Failed …".
  text = text.replace(/(?:\S*::)?<lambda\([^)]*\)>\s*(?:[\w.]+\s*==\s*)?/g, '');
  // "In Node, ("/conv1/Conv", Conv, "", -1) : (inputs) -> (outputs) , Error X": the node and X.
  const node = /In Node, \("([^"]*)", ([\w.]+), "([^"]*)", -?\d+\) : .*? , Error (.*)$/.exec(text);
  if (node)
    text = `${text.slice(0, node.index)}node "${node[1]}" (${node[2]}${node[3] ? ` of ${node[3]}` : ''}): ${node[4]}`;
  text = text.replace(/\s+/g, ' ').trim();
  return errorLine(text.length > 0 ? text : raw, 240);
}

/** Removes C++ signatures such as `void onnxruntime::Graph::Init(const std::string&) const [with T = …]`. */
function stripSignatures(text: string): string {
  for (let guard = 0; guard < 20; guard++) {
    const m = /(?:[\w:<>*&,]+ )*?(?:onnxruntime|onnx|std)::[\w:~<>]+\(/.exec(text);
    if (!m) break;
    let depth = 0;
    let i = m.index + m[0].length - 1;
    for (; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) break;
    }
    const rest = text.slice(i + 1);
    const tail = /^(?: const)?(?: \[with [^\]]*\])?\s*/.exec(rest)![0];
    text = text.slice(0, m.index) + rest.slice(tail.length);
  }
  return text;
}
