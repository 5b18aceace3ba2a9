/** `bitwrk-node render SCENE.blend --frame N --tiles K --out FRAME.png`. */
export { RENDER_USAGE, RenderCliCode, renderCommand } from './render.js'
