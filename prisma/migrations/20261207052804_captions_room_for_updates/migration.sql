-- Every caption is written several times after it is inserted (sent, running, finished), and its finished
-- version is the largest: the text comes back, in its column and in GoAPI's task. At the default fillfactor
-- of 100, a new caption goes wherever the free space map finds a little room, which in a long history means
-- the leftover gap of an old, full page: each new caption alone on a page among millions, and each webhook
-- that finishes one dirties a page of its own (and writes it whole to the WAL after a checkpoint).
-- Keeping a fifth of each page free stops new captions from landing in those gaps (a page is only taken for
-- an insert with that much room left), so the day's captions lie together at the table's end, as in a young
-- table, and a finished version often fits beside the one it replaces. Pages already written are not moved;
-- the setting applies to pages filled from now on.
ALTER TABLE "captions" SET (fillfactor = 80);
