/** Chunk stores (CAFS-11…CAFS-17): RAM and LevelDB, both passing the one compliance suite. */
export * from './level.js'
export * from './memory.js'
export * from './verify.js'
