/** Webhook deliveries seen, for deduplication. */
import type { GitHub } from "./github.js"

export interface DeliveryStore {
  /** Remembers a webhook delivery; false when this delivery id was seen before (a redelivery). */
  recordDelivery(delivery: { id: string; event: string; runId?: string }): Promise<boolean>
  /** links a recorded delivery to the run it started */
  linkDeliveryRun(deliveryId: string, runId: string): Promise<void>
  /** forgets a delivery whose handling failed, so GitHub's redelivery of it is acted on */
  forgetDelivery(deliveryId: string): Promise<void>
}
