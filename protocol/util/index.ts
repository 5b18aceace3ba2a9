/** Small pure helpers shared by every layer (no protocol rules). */
export { evictOldest, type InsertionOrdered } from './bounded.js'
export { KeyedListeners } from './listeners.js'
export { mulberry32 } from './prng.js'
