import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createHost } from './host';
import { configureRuntime } from './runtime/session';
import { registry } from './store/registry';
import { useApp } from './store/store';
import { App } from './ui/App';
import { exportReport } from './ui/exportReport';
import './ui/styles.css';

async function start(): Promise<void> {
  const host = createHost();
  registry.host = host;
  // ORT's glue and .wasm are served from ./ort/ beside the app (scripts/viteStaticFiles.ts).
  configureRuntime({ wasmBase: new URL('ort/', document.baseURI).href });
  const settings = await host.getSettings();
  const params = new URLSearchParams(location.search);
  const provider = params.get('provider');
  useApp.setState({
    hostKind: host.kind,
    theme: settings.theme,
    providerPreference: provider === 'wasm' || provider === 'webgpu' ? provider : settings.provider,
  });
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
  await useApp.getState().refreshModels();
  host.onMenuCommand?.((command) => {
    if (command === 'presentation') useApp.getState().togglePresentation();
    else void exportReport();
  });
  host.onOpenModel((entry) => {
    void useApp
      .getState()
      .refreshModels()
      .then(() => useApp.getState().openModel(entry.id));
  });
  const entries = useApp.getState().entries;
  const requested = params.get('model');
  const initial =
    entries.find((e) => e.id === requested) ??
    entries.find((e) => e.id === settings.lastModelId) ??
    entries.find((e) => e.isDefault) ??
    entries[0];
  if (initial) await useApp.getState().openModel(initial.id);
}

void start();
