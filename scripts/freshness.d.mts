export declare function newestMtime(dir: string): number;
export declare function isStale(output: string, sourceDir: string): boolean;
