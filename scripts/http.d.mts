export declare const MIME: Record<string, string>;
export declare function mimeOf(path: string): string;
export declare const ISOLATION_HEADERS: Record<string, string>;
export declare function contentSecurityPolicy(extra?: Record<string, string>): string;
export declare function isInside(root: string, path: string): boolean;
export declare function fileInside(root: string, urlPath: string): string | null;
