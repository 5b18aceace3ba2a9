/** Public surface of CAFS, content-addressable file storage (DESIGN.md §1, protocol/spec/cafs.md). */
export * from './chunker.js'
export * from './errors.js'
export * from './gear.js'
export * from './keys.js'
export * from './manifest.js'
export * from './store/index.js'
export * from './stream.js'
export * from './types.js'
