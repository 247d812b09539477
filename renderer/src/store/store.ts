import { create } from 'zustand';
import { createModelSlice, type ModelSlice } from './modelSlice';
import { createRunSlice, type RunSlice } from './runSlice';
import { createViewSlice, type ViewSlice } from './viewSlice';

/** One store, typed slices (zustand slices pattern). Tensors and models stay in `registry`. */
export type AppState = ModelSlice & RunSlice & ViewSlice;

export const useApp = create<AppState>()((...a) => ({
  ...createModelSlice(...a),
  ...createRunSlice(...a),
  ...createViewSlice(...a),
}));
