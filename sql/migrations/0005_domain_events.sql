-- Durable and acknowledged domain event delivery.
--
-- Steps write durable events to the namespace queue `<ns>_domain_events` (the outbox, in the
-- transaction that records the step's result). Consumers route each event from there to one
-- queue per matching subscription, so every subscriber gets its own copy, its own retries and
-- its own dead letters, whichever other subscribers exist or fail.

-- Durable subscriptions, registered by the processes that consume them.
CREATE TABLE tasker.event_subscriptions (
  namespace text NOT NULL,
  subscriber_id text NOT NULL,
  pattern text NOT NULL,
  queue_name text NOT NULL UNIQUE,
  registered_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, subscriber_id)
);

-- Acknowledged delivery: one row per event a subscriber handled successfully, written in the
-- same transaction as the subscriber's own effects, so a redelivery never runs it again.
CREATE TABLE tasker.event_acknowledgements (
  event_id uuid NOT NULL,
  subscriber_id text NOT NULL,
  namespace text NOT NULL,
  acknowledged_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, subscriber_id)
);

-- Every replay of a dead letter, for the record.
CREATE TABLE tasker.dead_letter_replays (
  id bigserial PRIMARY KEY,
  namespace text NOT NULL,
  dlq_msg_id bigint NOT NULL,
  event_id uuid NOT NULL,
  subscriber_id text NOT NULL,
  requeued_msg_id bigint NOT NULL,
  replayed_at timestamptz NOT NULL DEFAULT now()
);
