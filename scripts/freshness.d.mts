export declare function newestMtime(dir: string): number;
export declare function isStale(output: string, sourceDirs: string | string[]): boolean;
