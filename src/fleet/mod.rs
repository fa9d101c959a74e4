//! Several daemons, one database: each daemon's identity in the fleet, whether its database
//! answers, and the heartbeat that keeps both current. See docs/fleet.md.

pub mod health;
pub mod heartbeat;
pub mod identity;

use health::DbHealth;
use identity::Identity;
use std::sync::Arc;

/// What the HTTP layer needs to know about the fleet; cheap to clone.
#[derive(Clone, Debug)]
pub struct Fleet {
    pub identity: Arc<Identity>,
    pub health: Arc<DbHealth>,
}

impl Fleet {
    pub fn new(identity: Identity) -> Fleet {
        Fleet {
            identity: Arc::new(identity),
            health: Arc::new(DbHealth::new()),
        }
    }

    /// Whether `workspace` is this daemon's own.
    pub fn owns(&self, workspace: &str) -> bool {
        self.identity.id == workspace
    }
}
