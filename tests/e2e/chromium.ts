/**
 * How the end-to-end tests start Debian's Chromium (no Playwright browser download works offline).
 * CHROMIUM_PATH overrides the executable. WebGPU comes from SwiftShader here: right answers, not real speed.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Without these, Chromium's background connections are refused by a closed network, many at a time. */
export const QUIET_FLAGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** WebGL2 on llvmpipe for the 3D view on machines without a GPU. */
export const SOFTWARE_GL_FLAGS = ['--use-gl=angle', '--use-angle=gl-egl', '--ignore-gpu-blocklist'];

/** WebGPU (SwiftShader where there is no GPU); leave it out to get a browser without WebGPU. */
export const WEBGPU_FLAG = '--enable-unsafe-webgpu';
