// The native addon entry of the `secp256k1` package has no own typings; it exports the
// same API as the package root (typed by @types/secp256k1).
declare module 'secp256k1/bindings.js' {
  const addon: typeof import('secp256k1')
  export default addon
}
