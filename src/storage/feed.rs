//! The attempt history read as a feed, for the live event stream.

#[derive(Debug, Clone, sqlx::FromRow)]
/// One row of the attempt history.
pub struct HistoryEvent {
    #[sqlx(default)]
    pub workspace: String,
    pub seq: i64,
    pub attempt_id: String,
    pub event: String,
    pub status: Option<String>,
    pub reason: Option<String>,
}

/// Where a reader of the feed stands: a position in the history of one index file. A rebuilt
/// index starts a new history, so a cursor from before the rebuild is moved to its end (what
/// the rebuild wrote is the same attempts again, not news).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedCursor {
    pub(super) backend: u64,
    pub(super) seq: i64,
}
