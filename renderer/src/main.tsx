import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createHost } from './host';
import { ResultCache } from './lab/cache';
import { sceneBridge } from './scene/bridge';
import { createAssets } from './store/assets';
import { createAppStore, StoreContext } from './store/store';
import { App } from './ui/App';
import { exportReport } from './ui/common/exportReport';
import { ortBase, startAnalyzer, startLabWorker } from './worker/client';
import type { LabResults } from './worker/protocol';
import './ui/styles.css';

async function start(): Promise<void> {
  const host = createHost();
  const lab = startLabWorker();
  const services = {
    host,
    assets: createAssets(host),
    lab,
    analyzer: startAnalyzer(),
    cache: new ResultCache<LabResults>(),
  };
  const store = createAppStore(services);
  // For the benchmark and for diagnosing a user's session from the devtools console; nothing in the app reads it.
  Object.assign(window, { skipscope_debug: { store, services, scene: sceneBridge } });
  const settings = await host.getSettings();
  const params = new URLSearchParams(location.search);
  const requested = params.get('provider');
  const preference = requested === 'wasm' || requested === 'webgpu' ? requested : settings.provider;
  store.setState({ theme: settings.theme, providerPreference: preference });
  await lab.call('configure', { wasmBase: ortBase(), preference });
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <StoreContext.Provider value={{ store, services }}>
        <App />
      </StoreContext.Provider>
    </StrictMode>,
  );
  const state = store.getState;
  await state().refreshModels();
  host.onMenuCommand?.((command) => {
    if (command === 'presentation') state().togglePresentation();
    else {
      const model = state().model;
      if (model) void exportReport(model.analysis, host);
    }
  });
  host.onOpenModel((entry) => {
    void state().openImported(entry);
  });
  const entries = state().entries;
  const initial =
    entries.find((e) => e.id === params.get('model')) ??
    entries.find((e) => e.id === settings.lastModelId) ??
    entries.find((e) => e.isDefault) ??
    entries[0];
  if (initial) await state().openModel(initial.id);
}

void start();
