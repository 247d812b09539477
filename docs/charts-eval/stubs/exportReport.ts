export async function saveBytes(..._args: unknown[]): Promise<void> {}
