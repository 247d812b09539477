export declare const HEADERS: Record<string, string>;
export declare const LIMITS: {
  targetLength: number;
  connections: number;
  headersCount: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
};
export declare function hostName(header: string | undefined): string | null;
export declare function targetPath(
  target: string,
  allowed: ReadonlySet<string | null>,
): { path: string; status?: undefined } | { status: number; path?: undefined };
export declare function startServer(options?: { root?: string; port?: number; host?: string }): Promise<{
  url: string;
  close(): void;
}>;
