/**
 * The application menu. Open… and Open Recent are handled in the main process (dialogs, library);
 * Export… and Presentation mode are UI actions, so they are sent to the renderer as contract events.
 */
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../contract';

export interface MenuActions {
  open(): void;
  openRecent(id: string): void;
  send(command: MenuCommand): void;
  showLibraryFolder(): void;
}

export interface MenuOptions {
  /** Adds Reload and Toggle DevTools: unpackaged runs only (npm run dev, npm start). */
  dev: boolean;
  recent: { id: string; name: string }[];
  actions: MenuActions;
  platform?: NodeJS.Platform;
}

/** Builds (and returns) the menu; call again whenever the recent list changes. */
export function buildMenu(options: MenuOptions): Menu {
  return Menu.buildFromTemplate(menuTemplate(options));
}

export function menuTemplate({
  dev,
  recent,
  actions,
  platform = process.platform,
}: MenuOptions): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? recent.map((entry) => ({ label: entry.name, click: () => actions.openRecent(entry.id) }))
    : [{ label: 'No recent models', enabled: false }];
  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: () => actions.open() },
      { label: 'Open Recent', submenu: recentItems },
      { type: 'separator' },
      { label: 'Export…', accelerator: 'CmdOrCtrl+E', click: () => actions.send('export') },
      { type: 'separator' },
      { label: 'Show Library Folder', click: () => actions.showLibraryFolder() },
      { type: 'separator' },
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      { label: 'Presentation Mode', accelerator: 'F5', click: () => actions.send('presentation') },
      { role: 'togglefullscreen' },
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      ...(dev
        ? ([
            { type: 'separator' },
            { role: 'reload' },
            { role: 'forceReload' },
            { role: 'toggleDevTools', accelerator: mac ? 'Alt+Cmd+I' : 'Ctrl+Shift+I' },
          ] satisfies MenuItemConstructorOptions[])
        : []),
    ],
  };
  return [
    ...(mac ? [{ role: 'appMenu' } satisfies MenuItemConstructorOptions] : []),
    file,
    { role: 'editMenu' },
    view,
    { role: 'windowMenu' },
  ];
}
