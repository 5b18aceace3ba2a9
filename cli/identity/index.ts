/** `bitwrk-node identity`: create and show the node's key. */
export { IDENTITY_USAGE, identityCommand } from './identity.js'
export { createKeyFile, DATA_DIR_MODE, KEY_FILE_MODE, loadKeyFile } from './key-file.js'
