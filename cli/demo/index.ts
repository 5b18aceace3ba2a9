/** `bitwrk-node demo work|render`: work files and local renders of the demo article. */
export { DEMO_USAGE, demoCommand } from './demo.js'
