import { describe, expect, it } from 'vitest';
import { errorLine, oneLine } from '../../renderer/src/core/text';
import { translateOrtMessage } from '../../renderer/src/lab/ortMessages';

/** onnxruntime-node 1.30's refusal of a model stamped opset 99, as it wrote it. */
const OPSET_99 =
  '/onnxruntime_src/onnxruntime/core/graph/model_load_utils.h:46 void onnxruntime::model_load_utils::ValidateOpsetForDomain(const std::unordered_map<std::__cxx11::basic_string<char>, int>&, const onnxruntime::logging::Logger&, bool, const std::string&, int) ONNX Runtime only *guarantees* support for models stamped with official released onnx opset versions. Opset 99 is under development and support for this is limited. The operator schemas and or other functionality may change before next ONNX release and in this case ONNX Runtime will not guarantee backward compatibility. Current official support for domain ai.onnx is till opset 26.';

describe("onnxruntime's messages in a user's words", () => {
  it('an opset newer than the runtime: which one, and the newest it runs (node and web wording)', () => {
    const said = 'it uses opset 99 of ai.onnx, newer than this onnxruntime runs (up to opset 26)';
    expect(translateOrtMessage(OPSET_99)).toBe(said);
    // onnxruntime-web wraps the same text (its build path in place of /onnxruntime_src/).
    const web = `Can't create a session. ERROR_CODE: 1, ERROR_MESSAGE: ${OPSET_99.replace('/onnxruntime_src', '/mnt/azure_nvme_temp/_work/1/s')}`;
    expect(translateOrtMessage(web)).toBe(said);
  });

  it('other messages lose the web wrapper and the C++ source positions', () => {
    const web =
      "Can't create a session. ERROR_CODE: 1, ERROR_MESSAGE: /mnt/azure_nvme_temp/_work/1/s/onnxruntime/core/graph/graph.cc:1555 void onnxruntime::Graph::InitializeStateFromModelFileGraphProto() This is an invalid model. Duplicate definition of name (x).";
    expect(translateOrtMessage(web)).toBe('This is an invalid model. Duplicate definition of name (x).');
  });

  it('a fixed input size says which axis and what it takes (its first line alone said neither)', () => {
    const raw =
      'Got invalid dimensions for input: input for the following indices\n index: 0 Got: 1 Expected: 4\n Please fix either the inputs/outputs or the model.';
    expect(translateOrtMessage(raw)).toBe(
      'its input "input" has a fixed size Skipscope did not feed (axis 0 is 4, fed 1)',
    );
  });

  it('bidirectional controls from a file never reorder a message', () => {
    expect(oneLine('node "abc\u202Edef" is bad')).toBe('node "abcdef" is bad');
    expect(errorLine(new Error('x\u2066y\u2069 z'))).toBe('xy z');
  });

  it('line and paragraph separators are breaks too; a cut keeps surrogate pairs whole', () => {
    expect(oneLine('a\u2028b\u2029c')).toBe('a b c');
    expect(oneLine('ab\u{1F600}cd', 4)).toBe('ab…');
    expect(oneLine('abc\u{1F600}d', 5)).toBe('abc…');
  });
});
