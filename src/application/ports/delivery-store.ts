/**
 * Webhook events seen, for deduplication. The id is the event's identity key (from the signed body),
 * not only X-GitHub-Delivery, which GitHub's signature does not cover.
 */

export interface DeliveryStore {
  /** Remembers a webhook event; false when this id was seen before (a redelivery or a replay). */
  recordDelivery(delivery: { id: string; event: string; runId?: string }): Promise<boolean>
  /** forgets a delivery whose handling failed, so GitHub's redelivery of it is acted on */
  forgetDelivery(deliveryId: string): Promise<void>
}
