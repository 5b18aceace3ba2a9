/** Public surface of the pure protocol core (DESIGN.md §1). */

export * from './article/index.js'
export * from './bid/index.js'
export * from './errors.js'
export * from './identity/index.js'
export * from './matching/index.js'
export * from './money/index.js'
export * from './reputation/index.js'
export * from './transaction/index.js'
