/**
 * ONNX element types (TensorProto.DataType): the one place their numbers, sizes and runtime names live.
 */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

export type DataTypeId = (typeof DataType)[keyof typeof DataType];

/** Bytes per element in raw little-endian storage; 0 for strings and unknown types. */
export function bytesPerElement(dataType: number): number {
  switch (dataType) {
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.BOOL:
      return 1;
    case DataType.UINT16:
    case DataType.INT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return 2;
    case DataType.FLOAT:
    case DataType.INT32:
    case DataType.UINT32:
      return 4;
    case DataType.INT64:
    case DataType.UINT64:
    case DataType.DOUBLE:
      return 8;
    default:
      return 0;
  }
}

/** Integer (and boolean) element types: values that shape arithmetic can fold. */
export function isIntegral(dataType: number): boolean {
  return (
    dataType === DataType.UINT8 ||
    dataType === DataType.INT8 ||
    dataType === DataType.UINT16 ||
    dataType === DataType.INT16 ||
    dataType === DataType.INT32 ||
    dataType === DataType.INT64 ||
    dataType === DataType.BOOL ||
    dataType === DataType.UINT32 ||
    dataType === DataType.UINT64
  );
}

/** Element type names as onnxruntime (web and node) spells them. */
export type RuntimeType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

const RUNTIME_TYPES: Partial<Record<number, RuntimeType>> = {
  [DataType.FLOAT]: 'float32',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.INT64]: 'int64',
  [DataType.INT32]: 'int32',
  [DataType.INT8]: 'int8',
  [DataType.UINT8]: 'uint8',
  [DataType.BOOL]: 'bool',
};

/** onnxruntime's name for an ONNX element type, or null when Skipscope never feeds or fetches it. */
export function runtimeType(dataType: number): RuntimeType | null {
  return RUNTIME_TYPES[dataType] ?? null;
}

/** Floating-point element types. */
export function isFloatType(dataType: number): boolean {
  return (
    dataType === DataType.FLOAT ||
    dataType === DataType.DOUBLE ||
    dataType === DataType.FLOAT16 ||
    dataType === DataType.BFLOAT16
  );
}
