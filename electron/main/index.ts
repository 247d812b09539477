/**
 * App lifecycle: one instance, one locked-down window on `skipscope://app/`, the model library owned
 * here. Models given on the command line, by the OS (file association, macOS open-file) or by a second
 * instance are imported into the library and handed to the page.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog, Menu, session, shell } from 'electron';
import { summarizeModel } from '../../renderer/src/core/summary';
import { errorLine } from '../../renderer/src/core/text';
import { APP_ORIGIN } from '../contract';
import { createCatalog } from './catalog';
import { createHandlers, registerIpc } from './ipc';
import { openLibrary } from './library';
import { buildMenu } from './menu';
import { createOpener, modelPathsFromArgv, type Opener, sendMenuCommand } from './opener';
import { registerAppScheme, serveAppProtocol } from './protocol';
import { applyDevCsp, hardenWebContents, restrictPermissions, secureWebPreferences } from './security';
import { openSettings } from './settings';

/** Set by `electron-vite dev`; never honoured in a packaged build. */
const devServer = !app.isPackaged ? (process.env.ELECTRON_RENDERER_URL ?? null) : null;
/** Bundled models/ and assets/: beside the app when packaged (extraResources), the repository root in dev. */
const resourcesDir = app.isPackaged ? process.resourcesPath : fileURLToPath(new URL('../../', import.meta.url));
const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));
const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));

// One data folder for dev and packaged builds (Electron would otherwise derive it from package.json's name).
// Tests, and users who want a portable library, point it elsewhere. Must precede the single-instance lock.
app.setPath('userData', process.env.SKIPSCOPE_USER_DATA_DIR || join(app.getPath('appData'), 'Skipscope'));
registerAppScheme({ dev: devServer !== null });

let mainWindow: BrowserWindow | null = null;
let opener: Opener | null = null;
/** Paths that arrived before the library was open (argv, early macOS open-file events). */
const pendingPaths: string[] = modelPathsFromArgv(process.argv, process.cwd());

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('open-file', (event, path) => {
    event.preventDefault();
    openOrQueue(path);
  });
  app.on('second-instance', (_event, argv, cwd) => {
    focusWindow();
    for (const path of modelPathsFromArgv(argv, cwd)) openOrQueue(path);
  });
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, devServer));
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  // Never a silent start without a window: whatever fails is said in a dialog before the app quits.
  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => {
      console.error('Skipscope could not start:', error);
      dialog.showErrorBox('Skipscope could not start', errorLine(error) || 'Unknown error');
      app.exit(1);
    });
}

async function start(): Promise<void> {
  const dataDir = app.getPath('userData');
  // Never rejects: a damaged library folder is set aside and a new one started (report.notice says so), and
  // with no usable folder at all the library is empty and refuses imports; the window opens either way.
  const library = await openLibrary({ dataDir, inspect: summarizeModel });
  logRepairs(library.report);
  const settings = await openSettings(dataDir);
  const catalog = await createCatalog({
    modelsDir: join(resourcesDir, 'models'),
    assetsDir: join(resourcesDir, 'assets'),
    library,
  });
  const refreshMenu = () =>
    Menu.setApplicationMenu(
      buildMenu({
        dev: !app.isPackaged,
        recent: library.recent(10),
        actions: {
          open: () => void opener?.openFromDialog(),
          openRecent: (id) => void opener?.openRecent(id),
          send: (command) => sendMenuCommand(mainWindow, command),
          showLibraryFolder: () => void shell.openPath(library.dir),
        },
      }),
    );
  opener = createOpener({ library, getWindow: () => mainWindow, onChanged: refreshMenu });

  restrictPermissions(session.defaultSession, devServer);
  if (devServer) applyDevCsp(session.defaultSession, devServer);
  serveAppProtocol({
    rendererDir,
    catalog,
    devOrigins: devServer ? [new URL(devServer).origin] : [],
    onModelRead: (id) => {
      if (library.get(id)) void library.touch(id).then(refreshMenu, () => undefined);
    },
  });
  registerIpc(
    createHandlers({ catalog, library, settings, opener, getWindow: () => mainWindow, onChanged: refreshMenu }),
    devServer,
  );
  refreshMenu();
  createWindow();
  showNotice(library.report.notice);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  for (const path of pendingPaths.splice(0)) void opener.openPath(path);
}

function createWindow(): void {
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'Skipscope',
    backgroundColor: '#0f1115',
    webPreferences: secureWebPreferences(preloadPath),
  });
  mainWindow = window;
  window.once('ready-to-show', () => window.show());
  // A reload or crash recovery starts a new page that has not subscribed yet: queue opens until it does.
  window.webContents.on('did-start-navigation', (details) => {
    if (details.isMainFrame && !details.isSameDocument) opener?.markNotReady();
  });
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
    opener?.markNotReady();
  });
  void window.loadURL(devServer ?? `${APP_ORIGIN}/index.html`);
}

/** Tells the user, once the window shows, what opening the library had to do (set a folder aside, …). */
function showNotice(notice: string | null): void {
  const window = mainWindow;
  if (!notice || !window) return;
  window.once('ready-to-show', () => {
    void dialog.showMessageBox(window, { type: 'warning', message: 'The model library needed repair', detail: notice });
  });
}

function openOrQueue(path: string): void {
  if (opener) void opener.openPath(path);
  else pendingPaths.push(path);
}

function focusWindow(): void {
  if (!mainWindow) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
}

function logRepairs(report: Awaited<ReturnType<typeof openLibrary>>['report']): void {
  const { index, adopted, dropped, rejected, cleaned, notice } = report;
  if (notice) console.warn(`Library: ${notice}`);
  // A missing index with nothing to adopt is simply a first start.
  if (index !== 'corrupt' && adopted.length + dropped.length + rejected.length + cleaned.length === 0) return;
  console.warn(
    `Library repaired: index ${index}, ${adopted.length} re-adopted, ${dropped.length} dropped, ` +
      `${rejected.length} set aside, ${cleaned.length} temp files removed`,
  );
}
