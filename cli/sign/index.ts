/** `bitwrk-node sign`: Bitcoin signed-message signatures from the command line. */
export { SIGN_USAGE, signCommand } from './sign.js'
