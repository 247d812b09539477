/** Bad input from the user (exit code 2 with this one line). */
export class InputError extends Error {}
