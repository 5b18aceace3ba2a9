/**
 * The testnet's asset (`--asset-mib N`, issue 16 §2): the demo's generated texture
 * (RAYS-12) uploaded to the buyer's node, referenced by every tile's work (RAYS-10), and the
 * bytes the buyer's node sent while the sellers fetched it.
 */
import { ASSET_LIMITS, type AssetRef, assetRefOf, generateAsset } from '../../node/demo/index.js'
import { metricSum } from './run.js'

/** Seed of the testnet's asset (RAYS-12): any fixed value; the reference render regenerates it. */
export const ASSET_SEED = 1

/** Largest `--asset-mib`: the asset limit of RAYS-10 (256 MiB). */
export const MAX_ASSET_MIB = ASSET_LIMITS.maxBytes / 2 ** 20

/** The asset of a run: its bytes and the reference the work carries. */
export interface TestnetAsset {
  readonly mib: number
  readonly bytes: Uint8Array
  readonly ref: AssetRef
}

/** The generated asset of `mib` MiB (RAYS-12, seed {@link ASSET_SEED}). */
export function testnetAsset(mib: number): TestnetAsset {
  const bytes = generateAsset(ASSET_SEED, Math.round(mib * 2 ** 20))
  return { mib, bytes, ref: assetRefOf(bytes) }
}

/**
 * Uploads the asset to a node (`POST /api/v1/files`, raw body) and checks that the node names
 * it by the key the work carries.
 */
export async function uploadAsset(api: string, asset: TestnetAsset, signal: AbortSignal): Promise<void> {
  const r = await fetch(`${api}/api/v1/files`, {
    method: 'POST',
    body: Buffer.from(asset.bytes),
    headers: { 'content-type': 'application/octet-stream' },
    signal: AbortSignal.any([signal, AbortSignal.timeout(120_000)])
  })
  const text = await r.text()
  if (!r.ok) throw new Error(`${api}/api/v1/files: ${r.status} ${text.slice(0, 300)}`)
  const body = JSON.parse(text) as { key?: unknown }
  if (body.key !== asset.ref.key)
    throw new Error(`the node named the asset ${String(body.key)}, not ${asset.ref.key}`)
}

/** Successful DHT announcements of provided files by a node (`bitwrk_content_announcements_total{result="ok"}`). */
export async function announcements(api: string, signal: AbortSignal): Promise<number> {
  const r = await fetch(`${api}/metrics`, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
  if (!r.ok) throw new Error(`${api}/metrics: ${r.status}`)
  return metricSum(await r.text(), 'bitwrk_content_announcements_total', { result: 'ok' })
}

/**
 * Bytes a node's libp2p host has sent on all its connections, every protocol
 * (`libp2p_data_transfer_bytes_total{protocol="global sent"}` of its `/metrics`): what the
 * node uploaded to its peers, chunks, trade streams, gossip and DHT alike.
 */
export async function bytesSent(api: string, signal: AbortSignal): Promise<number> {
  const r = await fetch(`${api}/metrics`, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
  if (!r.ok) throw new Error(`${api}/metrics: ${r.status}`)
  return metricSum(await r.text(), 'libp2p_data_transfer_bytes_total', { protocol: 'global sent' })
}
