/** `bitwrk-node verify`: checks a Bitcoin signed-message signature. */
export { VERIFY_USAGE, verifyCommand } from './verify.js'
