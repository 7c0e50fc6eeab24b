-- A caption's callback_next_at is set only while its callback is pending: rows with no callback, or one
-- already delivered or given up, no longer sit in the index the callback claim walks in order.
UPDATE "captions" SET "callback_next_at" = NULL WHERE "callback_state" <> 'pending';
