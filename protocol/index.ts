/** Public surface of the pure protocol core (DESIGN.md §1). */
export * from './errors.js'
export * from './matching/index.js'
