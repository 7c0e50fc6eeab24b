/**
 * caption-service's API as TypeScript types, generated from GET /openapi.json by openapi-typescript.
 * Do not edit: run `npm run client:generate` after changing a route's schemas.
 */

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process answers */
        get: operations["checkLiveness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the database answers and every migration is applied */
        get: operations["checkReadiness"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/captions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List captions, newest first */
        get: operations["listCaptions"];
        put?: never;
        /**
         * Caption an image
         * @description Records the caption, sends it to GoAPI and answers once GoAPI has answered the create call. With an Idempotency-Key, the same key and body within 24 hours return the first answer again. With `Prefer: wait=N`, the answer waits until the caption is final (200) or N seconds pass (202); a replay with it waits on the same caption.
         */
        post: operations["createCaption"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/captions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read one caption */
        get: operations["getCaption"];
        put?: never;
        post?: never;
        /**
         * Erase a caption
         * @description Erases the caption and everything kept for it: the image URL, metadata, caption text, the GoAPI task, its callback event and deliveries. A caption GoAPI still works on is erased the same way: its late news is acknowledged and changes nothing, and it is never sent again. What it cost stays counted in GET /usage. A caption GoAPI never had gives its budget hold back.
         */
        delete: operations["deleteCaption"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/captions/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel a caption GoAPI has not been sent yet
         * @description A `queued` caption not yet sent to GoAPI becomes `canceled` at once and is never sent; its budget hold is given back and its callback (if any) gets the event `caption.canceled`. Canceling a canceled caption again answers the same. GoAPI cannot cancel a task: a caption GoAPI has accepted (or is being sent) finishes and is paid (`caption_already_submitted`).
         */
        post: operations["cancelCaption"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/captions/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every attempt to deliver the caption's callback event, oldest first */
        get: operations["listCaptionDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/captions/{id}/deliveries/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send the finished caption's callback event again now, with the same webhook-id */
        post: operations["retryCaptionDeliveries"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/captions/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Retry a failed caption: same id, a new GoAPI task
         * @description A failed caption goes back to queued under the same id, for a new GoAPI task, and its retries count goes up by one. Its budget is checked as for a new caption (402 and nothing changed when over). Its next final callback event is a new event, with a new webhook-id.
         */
        post: operations["retryCaption"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/batches": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List batches, newest first */
        get: operations["listBatches"];
        put?: never;
        /**
         * Caption a dataset
         * @description Records 1 to 1000 images as one batch and answers at once: background work sends them to GoAPI as task slots free up (GOAPI_MAX_CONCURRENCY), each flowing like a caption posted alone. Items are checked all or nothing: one bad item refuses the batch, naming every bad item by its index. With reuse (the default) an image already captioned is not paid again. Idempotency-Key works as for POST /captions. With `dryRun: true` the same checks, reuse lookup and budget arithmetic answer 200 with what the batch would cost and whether it fits the budget, and nothing is written, held or sent.
         */
        post: operations["createBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/batches/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read one batch: its progress, reuse and cost */
        get: operations["getBatch"];
        put?: never;
        post?: never;
        /**
         * Erase a batch and all its items
         * @description Erases the batch and every item of it as DELETE /captions/{id} erases one caption, its callback event and deliveries with it. Items GoAPI still works on finish at GoAPI and are paid; items GoAPI never had give their budget holds back. What was spent stays counted in GET /usage.
         */
        delete: operations["deleteBatch"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/batches/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel the batch's items GoAPI has not been sent yet
         * @description Every item still `queued` and not yet sent to GoAPI becomes `canceled` (`counts.canceled`), its budget hold given back. Items GoAPI has accepted finish and are paid: GoAPI cannot cancel a task. The batch completes once they are final; its `batch.completed` event counts the canceled items, and exports leave them out. Canceling again changes nothing.
         */
        post: operations["cancelBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/batches/{id}/captions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A batch's captions, in item order */
        get: operations["listBatchCaptions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/batches/{id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Retry every failed item of a batch
         * @description Every failed item goes back to queued under its id for a new GoAPI task, as POST /captions/{id}/retry does one; all or nothing against the budget (402 and nothing changed when they do not fit). The batch runs again until they end, and its next batch.completed is a new event.
         */
        post: operations["retryBatch"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/batches/{id}/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Download a batch's captions: zip of .txt files, jsonl or csv
         * @description Streamed, at any time: items not finished yet are exported as they stand. `format` is optional and defaults to `zip`. The exported text of an item joins the non-empty parts among the batch's `prepend`, the caption and `append`, each trimmed of surrounding whitespace and commas, with `, ` (kohya-style tag files); the stored captions stay as GoAPI wrote them.
         *
         *     - `zip`: one `<name>.txt` per item with a completed caption (others are absent), and `batch.jsonl` (the jsonl export), with no folder entries. Names are the items' `fileName`s: sanitized, unique in the batch (later repeats get `-2`, `-3` …). A batch with several `promptStyles` writes one completed caption per line in that order (`captions=lines`, the default), or one `<name>.<style-slug>.txt` per caption (`captions=files`). For trainers: `ext=caption` names them `<name>.caption`, `folder=10_ohwx` puts every entry under that kohya folder, and `images=true` adds each completed item's image beside its captions (fetched by this service under the URL policy of `POST /captions`; one that cannot be fetched is left out and named in batch.jsonl as `imageError`). `captions`, `ext`, `folder` and `images` are refused with another format.
         *     - `jsonl` and `csv`: one record `{ name, imageUrl, status, caption, error }` per item in item order, whatever its status; `caption` is empty until completed, `error` (the error code) empty unless failed. With several `promptStyles`, those fields are the first style's and a jsonl record adds `captions` (`{ promptStyle, status, caption, error }` per style), while csv has one row per caption with a last column `promptStyle`.
         *
         *     For the tag-list styles, `tagsExclude`, `tagsDedupe`, `tagsUnderscores` and `tagsMax` clean the exported text (prepend and append included) in every format, in that order; prose styles ignore them.
         */
        get: operations["exportBatch"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The caller's captions in a time range, what they cost, and its daily budget
         * @description Counts the captions created in [from, to): both ISO dates (00:00Z) or date-times with a zone, the current UTC day by default. `budget` is null for a caller without a CALLER_BUDGETS entry.
         */
        get: operations["getUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/batches/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every attempt to deliver the batch's batch.completed event, oldest first */
        get: operations["listBatchDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/batches/{id}/deliveries/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send the completed batch's batch.completed event again now, with the same webhook-id */
        post: operations["retryBatchDeliveries"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/webhooks/goapi": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * GoAPI's task webhook
         * @description GoAPI posts `{ timestamp, data: <task> }` as a task moves. Answered 2xx only after the change is committed; duplicated and stale deliveries are acknowledged and change nothing.
         */
        post: operations["receiveGoapiWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    captionFinished: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A caption finished: its event, POSTed to its callbackUrl and signed per Standard Webhooks
         * @description At least once: retried at once, then after about 1 s, 5 s, 30 s, 2 min, 10 min, 1 h and every 3 h (±20%) until CALLBACK_RETRY_WINDOW_SECONDS after the event, 10 s per attempt. A 2xx ends it, 410 stops it. Receivers verify the signature and de-duplicate by webhook-id.
         */
        post: operations["captionFinished"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    batchCompleted: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Every item of a batch finished: the batch's one event, POSTed to its callbackUrl and signed the same way
         * @description At least once: retried at once, then after about 1 s, 5 s, 30 s, 2 min, 10 min, 1 h and every 3 h (±20%) until CALLBACK_RETRY_WINDOW_SECONDS after the event, 10 s per attempt. A 2xx ends it, 410 stops it. Receivers verify the signature and de-duplicate by webhook-id.
         */
        post: operations["batchCompleted"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        /** @description The one error shape: a stable `code`, and `details` naming each field at fault (else empty) */
        Error: {
            statusCode: number;
            error: string;
            message: string;
            code: string;
            details: {
                field: string;
                message: string;
            }[];
        };
        Delivery: {
            /** Format: uuid */
            id: string;
            eventId: string;
            /** @enum {string} */
            eventType: "caption.completed" | "caption.failed" | "caption.canceled" | "batch.completed";
            attempt: number;
            /** Format: date-time */
            attemptedAt: string;
            url: string;
            statusCode: number | null;
            /** @description Why an attempt got no HTTP answer (null when the endpoint answered: see statusCode): timeout, connection_failed, tls_failed; not_allowed (outcome refused: CALLBACK_ALLOWED_HOSTS no longer allows the URL), not_signed (no CALLBACK_SIGNING_SECRET), interrupted (the service stopped first) */
            error: ("timeout" | "connection_failed" | "tls_failed" | "not_allowed" | "not_signed" | "interrupted") | null;
            durationMs: number | null;
            /**
             * @description delivered (2xx), failed (retried on the schedule while the retry window lasts), gone (410: not retried), refused (not sent: the URL is no longer allowed; not retried)
             * @enum {string}
             */
            outcome: "delivered" | "failed" | "gone" | "refused";
        };
        /** @description A caption's or batch's callback delivery attempts, oldest first */
        DeliveryList: {
            items: components["schemas"]["Delivery"][];
        };
        /** @description The caller's captions created in [from, to) and what they cost, and its daily budget (null when it has none) */
        Usage: {
            /** Format: date-time */
            from: string;
            /** Format: date-time */
            to: string;
            captions: number;
            reused: number;
            failed: number;
            goapiTasks: number;
            /** @description What the range's GoAPI tasks cost ($0.01 each), in US dollars */
            costUsd: number;
            budget: {
                /** @description The cap per UTC day (CALLER_BUDGETS), in US dollars */
                dailyUsd: number;
                /** @description Held or spent on the current UTC day, resends included, in US dollars */
                spentTodayUsd: number;
                /** @description What is left of the cap today, in US dollars */
                remainingUsd: number;
            } | null;
        };
        Caption: {
            /** Format: uuid */
            id: string;
            /** @enum {string} */
            status: "queued" | "pending" | "processing" | "completed" | "failed" | "canceled";
            imageUrl: string;
            promptStyle: string;
            captionLength: string;
            caption: string | null;
            error: {
                code: string;
                message: string;
            } | null;
            goapiTaskId: string | null;
            metadata: {
                [key: string]: unknown;
            };
            callbackUrl: string | null;
            callback: {
                /** @enum {string} */
                state: "none" | "pending" | "delivered" | "failed" | "gone";
                attempts: number;
            };
            batchId: string | null;
            name: string | null;
            fileName: string | null;
            reusedFrom: string | null;
            costUsd: number;
            retries: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            completedAt: string | null;
        };
        /** @description A page of captions, newest first */
        CaptionPage: {
            items: components["schemas"]["Caption"][];
            /** @description Pass back as `cursor` for the next page; null on the last */
            nextCursor: string | null;
        };
        CallbackEvent: {
            /** @enum {string} */
            type: "caption.completed" | "caption.failed" | "caption.canceled";
            /** Format: date-time */
            timestamp: string;
            data: components["schemas"]["Caption"];
        };
        BatchDryRun: {
            /** @constant */
            dryRun: true;
            items: number;
            captions: number;
            newTasks: number;
            reused: number;
            /** @description What the new tasks would cost ($0.01 each), in US dollars */
            costUsd: number;
            /** @description null when the caller has no budget (CALLER_BUDGETS) */
            budget: {
                /** @description The caller's daily budget, in US dollars */
                limitUsd: number;
                /** @description What is held or spent of it today, in US dollars */
                spentUsd: number;
                /** @description What is left of it today, in US dollars */
                remainingUsd: number;
                /** @description Whether the batch would be accepted now: it holds $0.01 for every caption not reused at once (given back by items that end up taking another caption’s text) */
                fits: boolean;
            } | null;
        };
        Batch: {
            /** Format: uuid */
            id: string;
            /** @enum {string} */
            status: "running" | "completed";
            total: number;
            counts: {
                queued: number;
                pending: number;
                processing: number;
                completed: number;
                failed: number;
                canceled: number;
            };
            reused: number;
            costUsd: number;
            promptStyle: string;
            promptStyles: string[];
            captionLength: string;
            prepend: string;
            append: string;
            callbackUrl: string | null;
            callback: {
                /** @enum {string} */
                state: "none" | "pending" | "delivered" | "failed" | "gone";
                attempts: number;
            };
            metadata: {
                [key: string]: unknown;
            };
            /** Format: date-time */
            createdAt: string;
            completedAt: string | null;
        };
        /** @description A page of batches, newest first */
        BatchPage: {
            items: components["schemas"]["Batch"][];
            /** @description Pass back as `cursor` for the next page; null on the last */
            nextCursor: string | null;
        };
        BatchItem: {
            /** Format: uuid */
            id: string;
            /** @enum {string} */
            status: "queued" | "pending" | "processing" | "completed" | "failed" | "canceled";
            imageUrl: string;
            promptStyle: string;
            captionLength: string;
            caption: string | null;
            error: {
                code: string;
                message: string;
            } | null;
            goapiTaskId: string | null;
            metadata: {
                [key: string]: unknown;
            };
            callbackUrl: string | null;
            callback: {
                /** @enum {string} */
                state: "none" | "pending" | "delivered" | "failed" | "gone";
                attempts: number;
            };
            batchId: string | null;
            name: string | null;
            fileName: string | null;
            reusedFrom: string | null;
            costUsd: number;
            retries: number;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            updatedAt: string;
            completedAt: string | null;
            /** @description The item's captions, one per style in the order of the batch's promptStyles */
            captions: components["schemas"]["Caption"][];
        };
        /** @description A page of a batch's items, in item order: each its caption in the first style, with `captions` by style */
        BatchCaptionPage: {
            items: components["schemas"]["BatchItem"][];
            /** @description Pass back as `cursor` for the next page; null on the last */
            nextCursor: string | null;
        };
        BatchRetry: {
            retried: number;
        };
        BatchCompletedEvent: {
            /** @constant */
            type: "batch.completed";
            /** Format: date-time */
            timestamp: string;
            data: components["schemas"]["Batch"];
        };
        ExportRecord: {
            /** @description The item's file name without extension: sanitized, unique in the batch; its zip entry is <name>.<ext> */
            name: string;
            imageUrl: string;
            /** @enum {string} */
            status: "queued" | "pending" | "processing" | "completed" | "failed" | "canceled";
            /** @description The exported text: prepend, caption and append joined with ", "; empty until completed */
            caption: string;
            /** @description The caption's error code; empty unless failed */
            error: string;
            /** @description batch.jsonl of a zip with images=true only: why the item's image was left out, one of url_refused, too_large, not_an_image, too_many_redirects, timeout, unreachable, or http_<status> (the image server's answer); absent when the image is in the zip or the item is not completed */
            imageError?: string;
            /** @description Only for a batch with several promptStyles: the item's captions by style, in that order (the fields above are its first style's) */
            captions?: {
                promptStyle: string;
                /** @enum {string} */
                status: "queued" | "pending" | "processing" | "completed" | "failed" | "canceled";
                caption: string;
                error: string;
            }[];
        };
        Readiness: {
            /** @enum {string} */
            status: "ready" | "not_ready";
            checks: {
                database: string;
                migrations: string;
            };
            reason?: string;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: {
        /** @description The request's id (the caller's X-Request-Id when sane), on every log line about it */
        RequestId: string;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    checkLiveness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                    };
                };
            };
        };
    };
    checkReadiness: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"];
                };
            };
            /** @description Not ready: the database is unreachable or not migrated, or shutting down; or the replica sheds load (`overloaded`) */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Readiness"] | components["schemas"]["Error"];
                };
            };
        };
    };
    listCaptions: {
        parameters: {
            query?: {
                status?: "queued" | "pending" | "processing" | "completed" | "failed" | "canceled";
                /** @description Only the items of this batch of yours (another caller's batch lists nothing) */
                batchId?: string;
                /** @description Only captions created at or after this instant (inclusive) */
                createdAfter?: string;
                /** @description Only captions created before this instant (exclusive) */
                createdBefore?: string;
                limit?: number;
                /** @description A page's `nextCursor`, passed back as it was given */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CaptionPage"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_cursor`: the cursor was not issued by this service
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createCaption: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retried create safe: the same key and body within 24 hours return the first answer again; 1 to 255 printable ASCII characters, sent once */
                "idempotency-key"?: string;
                /**
                 * @description RFC 7240. `wait=N` (1 to 60; `wait` alone: 60) holds the answer until the caption is final (200) or N seconds have passed since the request came (202). A longer wait is held to 60; `wait=0`, a value that is not a whole number, and every other preference are ignored (a plain 202, no Preference-Applied), never an error
                 * @example wait=30
                 */
                prefer?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /**
                     * Format: uri
                     * @description The image GoAPI fetches: an absolute http(s) URL, stored in its normalized form
                     */
                    imageUrl: string;
                    /**
                     * @default Descriptive
                     * @enum {string}
                     */
                    promptStyle?: "Descriptive" | "Descriptive (Casual)" | "Straightforward" | "Stable Diffusion Prompt" | "MidJourney" | "Danbooru tag list" | "e621 tag list" | "Rule34 tag list" | "Booru-like tag list" | "Art Critic" | "Product Listing" | "Social Media Post";
                    /**
                     * @default any
                     * @enum {string}
                     */
                    captionLength?: "20" | "30" | "40" | "50" | "60" | "70" | "80" | "90" | "100" | "110" | "120" | "130" | "140" | "150" | "160" | "170" | "180" | "190" | "200" | "210" | "220" | "230" | "240" | "250" | "260" | "any" | "very short" | "short" | "medium-length" | "long" | "very long";
                    /**
                     * Format: uri
                     * @description Where the caption.completed, caption.failed or caption.canceled event is posted when the caption finishes
                     */
                    callbackUrl?: string;
                    /** @description Any JSON object up to 16 KiB, returned as given */
                    metadata?: {
                        [key: string]: unknown;
                    };
                    /** @description Take the text of your caption of the same image, prompt style and length completed within REUSE_WINDOW_DAYS (or wait for one in progress) instead of paying for a new task */
                    reuse?: boolean;
                };
            };
        };
        responses: {
            /** @description With Prefer: wait, the caption, final (completed, failed or canceled) within the wait */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The caption: /captions/{id} */
                    location?: string;
                    /** @description Present when this is the first answer to the same Idempotency-Key again */
                    "idempotent-replayed"?: "true";
                    /** @description Present when a Prefer: wait was honoured: the seconds the answer could wait (wait=N) */
                    "preference-applied"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Caption"];
                };
            };
            /** @description Accepted: the caption, to read again at Location until it is completed or failed */
            202: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The caption: /captions/{id} */
                    location?: string;
                    /** @description Present when this is the first answer to the same Idempotency-Key again */
                    "idempotent-replayed"?: "true";
                    /** @description Present when a Prefer: wait was honoured: the seconds the answer could wait (wait=N) */
                    "preference-applied"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Caption"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_json`: the body is not valid JSON
             *     - `invalid_request`: the request cannot be read (a malformed request, two different Content-Lengths, Content-Length with Transfer-Encoding, a body shorter than its Content-Length)
             *     - `invalid_idempotency_key`: Idempotency-Key is malformed or sent twice
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payment Required, with one of these codes:
             *     - `budget_exceeded`: the work would take the caller past its daily budget; nothing was accepted (see GET /usage)
             */
            402: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Conflict, with one of these codes:
             *     - `idempotency_key_in_progress`: a request with this Idempotency-Key is still being processed; retry after Retry-After
             */
            409: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payload Too Large, with one of these codes:
             *     - `payload_too_large`: the body is larger than 1 MiB (4 MiB on POST /batches, 64 KiB on POST /webhooks/goapi)
             */
            413: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unsupported Media Type, with one of these codes:
             *     - `unsupported_media_type`: the body is not application/json
             */
            415: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unprocessable Entity, with one of these codes:
             *     - `idempotency_key_reused`: this Idempotency-Key came with a different body
             */
            422: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getCaption: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caption */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Caption"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteCaption: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Erased */
            204: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    cancelCaption: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caption, canceled */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Caption"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_json`: the body is not valid JSON
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Conflict, with one of these codes:
             *     - `caption_already_submitted`: GoAPI has accepted the caption (or is being sent it), and GoAPI cannot cancel a task: it finishes and is paid
             *     - `caption_finished`: the caption has already completed or failed, so there is nothing left to cancel
             */
            409: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payload Too Large, with one of these codes:
             *     - `payload_too_large`: the body is larger than 1 MiB (4 MiB on POST /batches, 64 KiB on POST /webhooks/goapi)
             */
            413: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unsupported Media Type, with one of these codes:
             *     - `unsupported_media_type`: the body is not application/json
             */
            415: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listCaptionDeliveries: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeliveryList"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    retryCaptionDeliveries: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caption; its callback is pending again */
            202: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Caption"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_json`: the body is not valid JSON
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             *     - `no_callback_url`: the caption or batch has no callbackUrl, so there is no event to send
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Conflict, with one of these codes:
             *     - `caption_not_finished`: the caption, or an item of the batch, is not finished; the event is sent once it is
             */
            409: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payload Too Large, with one of these codes:
             *     - `payload_too_large`: the body is larger than 1 MiB (4 MiB on POST /batches, 64 KiB on POST /webhooks/goapi)
             */
            413: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unsupported Media Type, with one of these codes:
             *     - `unsupported_media_type`: the body is not application/json
             */
            415: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    retryCaption: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Accepted: the caption, queued again */
            202: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The caption: /captions/{id} */
                    location?: string;
                    /** @description Present when this is the first answer to the same Idempotency-Key again */
                    "idempotent-replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Caption"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_json`: the body is not valid JSON
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payment Required, with one of these codes:
             *     - `budget_exceeded`: the work would take the caller past its daily budget; nothing was accepted (see GET /usage)
             */
            402: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Conflict, with one of these codes:
             *     - `caption_not_failed`: only a failed caption can be retried; this one is queued, in progress or completed
             */
            409: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payload Too Large, with one of these codes:
             *     - `payload_too_large`: the body is larger than 1 MiB (4 MiB on POST /batches, 64 KiB on POST /webhooks/goapi)
             */
            413: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unsupported Media Type, with one of these codes:
             *     - `unsupported_media_type`: the body is not application/json
             */
            415: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listBatches: {
        parameters: {
            query?: {
                limit?: number;
                /** @description A page's `nextCursor`, passed back as it was given */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BatchPage"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_cursor`: the cursor was not issued by this service
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createBatch: {
        parameters: {
            query?: never;
            header?: {
                /** @description Makes a retried create safe: the same key and body within 24 hours return the first answer again; 1 to 255 printable ASCII characters, sent once */
                "idempotency-key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    items: {
                        /**
                         * Format: uri
                         * @description The image GoAPI fetches, as for POST /captions
                         */
                        imageUrl: string;
                        /** @description The item's name (a file stem): its export is <name>.txt, sanitized and made unique in the batch. Default: the URL's file stem, else the item's index */
                        name?: string;
                    }[];
                    /**
                     * @description The one prompt style of every item (default `Descriptive`); or give promptStyles
                     * @enum {string}
                     */
                    promptStyle?: "Descriptive" | "Descriptive (Casual)" | "Straightforward" | "Stable Diffusion Prompt" | "MidJourney" | "Danbooru tag list" | "e621 tag list" | "Rule34 tag list" | "Booru-like tag list" | "Art Critic" | "Product Listing" | "Social Media Post";
                    /** @description 1 to 4 distinct prompt styles instead of promptStyle: each item is captioned once per style, each caption paid, reused, budgeted and counted like any other */
                    promptStyles?: ("Descriptive" | "Descriptive (Casual)" | "Straightforward" | "Stable Diffusion Prompt" | "MidJourney" | "Danbooru tag list" | "e621 tag list" | "Rule34 tag list" | "Booru-like tag list" | "Art Critic" | "Product Listing" | "Social Media Post")[];
                    /**
                     * @default any
                     * @enum {string}
                     */
                    captionLength?: "20" | "30" | "40" | "50" | "60" | "70" | "80" | "90" | "100" | "110" | "120" | "130" | "140" | "150" | "160" | "170" | "180" | "190" | "200" | "210" | "220" | "230" | "240" | "250" | "260" | "any" | "very short" | "short" | "medium-length" | "long" | "very long";
                    /**
                     * @description Put before each caption in exports (a trigger word, say); the captions stay as GoAPI wrote them
                     * @default
                     */
                    prepend?: string;
                    /**
                     * @description Put after each caption in exports
                     * @default
                     */
                    append?: string;
                    /**
                     * Format: uri
                     * @description Where the batch.completed event is posted once every item has finished
                     */
                    callbackUrl?: string;
                    /** @description Any JSON object up to 16 KiB, returned as given */
                    metadata?: {
                        [key: string]: unknown;
                    };
                    /**
                     * @description Take the text of your caption of the same image, prompt style and length completed within REUSE_WINDOW_DAYS instead of paying again; identical items are paid once
                     * @default true
                     */
                    reuse?: boolean;
                    /** @description Check the batch and quote it (200, BatchDryRun) without accepting it: nothing is written, held or sent */
                    dryRun?: boolean;
                };
            };
        };
        responses: {
            /** @description A dry run (`dryRun: true`): the quote; nothing was accepted */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BatchDryRun"];
                };
            };
            /** @description Accepted: the batch, to read again at Location while it runs */
            202: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The batch: /batches/{id} */
                    location?: string;
                    /** @description Present when this is the first answer to the same Idempotency-Key again */
                    "idempotent-replayed"?: "true";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Batch"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_json`: the body is not valid JSON
             *     - `invalid_request`: the request cannot be read (a malformed request, two different Content-Lengths, Content-Length with Transfer-Encoding, a body shorter than its Content-Length)
             *     - `invalid_idempotency_key`: Idempotency-Key is malformed or sent twice
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payment Required, with one of these codes:
             *     - `budget_exceeded`: the work would take the caller past its daily budget; nothing was accepted (see GET /usage)
             */
            402: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Conflict, with one of these codes:
             *     - `idempotency_key_in_progress`: a request with this Idempotency-Key is still being processed; retry after Retry-After
             */
            409: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payload Too Large, with one of these codes:
             *     - `payload_too_large`: the body is larger than 1 MiB (4 MiB on POST /batches, 64 KiB on POST /webhooks/goapi)
             */
            413: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unsupported Media Type, with one of these codes:
             *     - `unsupported_media_type`: the body is not application/json
             */
            415: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unprocessable Entity, with one of these codes:
             *     - `idempotency_key_reused`: this Idempotency-Key came with a different body
             */
            422: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getBatch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The batch */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Batch"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteBatch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Erased */
            204: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content?: never;
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    cancelBatch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The batch, its waiting items canceled */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Batch"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_json`: the body is not valid JSON
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payload Too Large, with one of these codes:
             *     - `payload_too_large`: the body is larger than 1 MiB (4 MiB on POST /batches, 64 KiB on POST /webhooks/goapi)
             */
            413: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unsupported Media Type, with one of these codes:
             *     - `unsupported_media_type`: the body is not application/json
             */
            415: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listBatchCaptions: {
        parameters: {
            query?: {
                status?: "queued" | "pending" | "processing" | "completed" | "failed" | "canceled";
                limit?: number;
                /** @description A page's `nextCursor`, passed back as it was given */
                cursor?: string;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BatchCaptionPage"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             *     - `invalid_cursor`: the cursor was not issued by this service
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    retryBatch: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description How many failed items were queued again (0: none had failed) */
            202: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BatchRetry"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_json`: the body is not valid JSON
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payment Required, with one of these codes:
             *     - `budget_exceeded`: the work would take the caller past its daily budget; nothing was accepted (see GET /usage)
             */
            402: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payload Too Large, with one of these codes:
             *     - `payload_too_large`: the body is larger than 1 MiB (4 MiB on POST /batches, 64 KiB on POST /webhooks/goapi)
             */
            413: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unsupported Media Type, with one of these codes:
             *     - `unsupported_media_type`: the body is not application/json
             */
            415: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    exportBatch: {
        parameters: {
            query?: {
                /** @description jsonl, csv or zip (the default) */
                format?: "jsonl" | "csv" | "zip";
                /** @description zip only: how an item's captions are laid out. `lines` (the default): one `<name>.<ext>` per item, one caption per line in the order of the batch's promptStyles (with several styles, a caption's own line breaks become spaces). `files`: one `<name>.<style-slug>.<ext>` per caption (`descriptive`, `booru-like-tag-list`, …) */
                captions?: "lines" | "files";
                /** @description zip only: the caption files' extension, txt (the default) or caption */
                ext?: "txt" | "caption";
                /** @description zip only: a kohya folder `<repeats>_<concept>` (e.g. `10_ohwx`) every entry goes under; pattern `^[1-9][0-9]{0,3}_[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$` */
                folder?: string;
                /** @description zip only: true puts each completed item's image in the zip beside its caption, fetched once from its URL as `<name>.<png|jpg|webp|…>` after its content type, at most EXPORT_IMAGE_MAX_BYTES; one that cannot be fetched is left out and its reason is `imageError` in batch.jsonl */
                images?: "true" | "false";
                /** @description Tags to drop, comma-separated, compared whole and case-insensitively, `_` and space alike (`long_hair` drops `Long Hair`); tag-list styles only (Danbooru tag list, e621 tag list, Rule34 tag list, Booru-like tag list); prose styles ignore it */
                tagsExclude?: string;
                /** @description true drops later repeats of a tag (compared as tagsExclude compares); tag-list styles only (Danbooru tag list, e621 tag list, Rule34 tag list, Booru-like tag list); prose styles ignore it */
                tagsDedupe?: "true" | "false";
                /** @description spaces turns `long_hair` into `long hair`; keep (the default) leaves it; tag-list styles only (Danbooru tag list, e621 tag list, Rule34 tag list, Booru-like tag list); prose styles ignore it */
                tagsUnderscores?: "spaces" | "keep";
                /** @description Keep the first N tags (after the other tag options); tag-list styles only (Danbooru tag list, e621 tag list, Rule34 tag list, Booru-like tag list); prose styles ignore it */
                tagsMax?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The export, streamed as it is read, with `Content-Disposition: attachment; filename="batch-<id>.<format>"` */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/x-ndjson": components["schemas"]["ExportRecord"];
                    "text/csv": string;
                    "application/zip": string;
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getUsage: {
        parameters: {
            query?: {
                /** @description Inclusive; 00:00Z of the current UTC day by default */
                from?: string;
                /** @description Exclusive; 00:00Z of the next UTC day by default */
                to?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Usage"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listBatchDeliveries: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeliveryList"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    retryBatchDeliveries: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The batch; its callback is pending again */
            202: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Batch"];
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `validation_failed`: a field, parameter or header is invalid; `details` names each
             *     - `invalid_json`: the body is not valid JSON
             *     - `invalid_url`: the request path is malformed (bad percent-encoding)
             *     - `no_callback_url`: the caption or batch has no callbackUrl, so there is no event to send
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `unauthorized`: no valid caller token (WWW-Authenticate says which)
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Not Found, with one of these codes:
             *     - `not_found`: no such caption or batch for this caller
             */
            404: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Conflict, with one of these codes:
             *     - `caption_not_finished`: the caption, or an item of the batch, is not finished; the event is sent once it is
             */
            409: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payload Too Large, with one of these codes:
             *     - `payload_too_large`: the body is larger than 1 MiB (4 MiB on POST /batches, 64 KiB on POST /webhooks/goapi)
             */
            413: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unsupported Media Type, with one of these codes:
             *     - `unsupported_media_type`: the body is not application/json
             */
            415: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Misdirected Request, with one of these codes:
             *     - `host_not_allowed`: caller authentication is off, and the Host header is not localhost, 127.0.0.1 or [::1] (any port): a defence against DNS rebinding
             */
            421: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Too Many Requests, with one of these codes:
             *     - `rate_limited`: the caller's per-minute allowance is spent; retry after Retry-After
             */
            429: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    receiveGoapiWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": unknown;
            };
        };
        responses: {
            /** @description Default Response */
            200: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        received: true;
                        /** @enum {string} */
                        outcome: "applied" | "unchanged" | "unknown_task";
                    };
                };
            };
            /**
             * @description Bad Request, with one of these codes:
             *     - `invalid_webhook_payload`: the body is not a GoAPI task delivery
             *     - `invalid_json`: the body is not valid JSON
             *     - `invalid_request`: the request cannot be read (a malformed request, two different Content-Lengths, Content-Length with Transfer-Encoding, a body shorter than its Content-Length)
             */
            400: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unauthorized, with one of these codes:
             *     - `webhook_unauthorized`: x-webhook-secret is missing or wrong; nothing was written
             */
            401: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description The scheme and realm a caller token must use */
                    "www-authenticate"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Payload Too Large, with one of these codes:
             *     - `payload_too_large`: the body is larger than 1 MiB (4 MiB on POST /batches, 64 KiB on POST /webhooks/goapi)
             */
            413: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Unsupported Media Type, with one of these codes:
             *     - `unsupported_media_type`: the body is not application/json
             */
            415: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Internal Server Error, with one of these codes:
             *     - `internal_error`: something went wrong on our side (no details are given)
             */
            500: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /**
             * @description Service Unavailable, with one of these codes:
             *     - `database_unavailable`: the database is unreachable; retry after Retry-After
             *     - `database_not_migrated`: the database lacks the service's tables until an operator runs npm run db:migrate; retry after Retry-After
             *     - `overloaded`: this replica is shedding load; retry after Retry-After
             */
            503: {
                headers: {
                    "x-request-id": components["headers"]["RequestId"];
                    /** @description Seconds to wait before trying again */
                    "retry-after"?: number;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    captionFinished: {
        parameters: {
            query?: never;
            header: {
                /** @description The event's id: the same on every attempt and re-send */
                "webhook-id": string;
                /** @description Unix seconds of this attempt */
                "webhook-timestamp": string;
                /** @description v1,<base64 HMAC-SHA256 of id.timestamp.body>, one per CALLBACK_SIGNING_SECRET key, space-separated */
                "webhook-signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CallbackEvent"];
            };
        };
        responses: {
            /** @description Any 2xx: delivered */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Gone: nothing more is sent unless the caller asks for a re-send */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
    batchCompleted: {
        parameters: {
            query?: never;
            header: {
                /** @description The event's id: the same on every attempt and re-send */
                "webhook-id": string;
                /** @description Unix seconds of this attempt */
                "webhook-timestamp": string;
                /** @description v1,<base64 HMAC-SHA256 of id.timestamp.body>, one per CALLBACK_SIGNING_SECRET key, space-separated */
                "webhook-signature": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["BatchCompletedEvent"];
            };
        };
        responses: {
            /** @description Any 2xx: delivered */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Gone: nothing more is sent unless the caller asks for a re-send */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
