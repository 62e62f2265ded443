/**
 * A select-list item that turns `synchronous_commit` off until the end of the current
 * transaction, so its commit returns without waiting for the WAL to reach the disk. For
 * single-statement transactions whose loss in a server crash is harmless (a read that only hid
 * messages for a while: they become visible again sooner). Nothing is lost after a later
 * synchronous commit: PostgreSQL flushes the WAL in order, so any commit that waits for its own
 * record flushes every earlier one. Never inside a caller's transaction, whose commit it would
 * make asynchronous too.
 */
export const ASYNC_COMMIT_COLUMN = `set_config('synchronous_commit', 'off', true) AS async_commit`;
