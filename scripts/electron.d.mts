export function electronVersion(): string | null;
export function findElectronBinary(): string | null;
export function fetchElectronBinary(
  timeoutMs?: number,
): { binary: string; error?: undefined } | { error: string; binary?: undefined };
