/** The memory a function may ask for, in MB (Lambda's lower bound is 128; ours is 64). */
export const MEMORY_MB = { min: 64, max: 4096, default: 128 } as const;
