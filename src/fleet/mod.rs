//! Several daemons, one database: each daemon's identity in the fleet, whether its database
//! answers, the heartbeat that keeps both current, and who may act on what. See docs/fleet.md.

pub mod health;
pub mod heartbeat;
pub mod identity;
pub mod owner;
pub mod registry;

use health::DbHealth;
use identity::Identity;
use registry::WorkspaceStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// What the HTTP layer needs to know about the fleet; cheap to clone.
#[derive(Clone, Debug)]
pub struct Fleet {
    pub identity: Arc<Identity>,
    pub health: Arc<DbHealth>,
    /// Every registered workspace with its counts, as the heartbeat last read them.
    view: Arc<RwLock<Arc<Vec<WorkspaceStatus>>>>,
    /// Moves whenever the view changes (the status ETag hashes it).
    view_version: Arc<AtomicU64>,
    /// Other daemons write to this database (PostgreSQL): no local counter sees their writes.
    shared: bool,
}

impl Fleet {
    pub fn new(identity: Identity, shared: bool) -> Fleet {
        Fleet {
            shared,
            identity: Arc::new(identity),
            health: Arc::new(DbHealth::new()),
            view: Arc::default(),
            view_version: Arc::default(),
        }
    }

    /// The workspaces as last read (empty until the first heartbeat).
    pub fn workspaces(&self) -> Arc<Vec<WorkspaceStatus>> {
        self.view.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether other daemons may write to the database (answers built from it then cannot be
    /// tagged from this daemon's change counters).
    pub fn shared(&self) -> bool {
        self.shared
    }

    pub fn view_version(&self) -> u64 {
        self.view_version.load(Ordering::Acquire)
    }

    /// Puts a freshly read view in place (a no-op when nothing changed, so the ETag holds).
    pub fn publish(&self, next: Vec<WorkspaceStatus>) {
        let mut cur = self.view.write().unwrap_or_else(|p| p.into_inner());
        if **cur != next {
            *cur = Arc::new(next);
            self.view_version.fetch_add(1, Ordering::AcqRel);
        }
    }
}
