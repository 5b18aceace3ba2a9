import { MemoryChunkStore } from '../../cafs/store/memory.js'
import { storeComplianceSuite } from './store-compliance.js'

storeComplianceSuite(
  'cafs/store/memory',
  () => ({
    create: async (options) => new MemoryChunkStore(options),
    cleanup: async () => {}
  }),
  { persistent: false }
)
