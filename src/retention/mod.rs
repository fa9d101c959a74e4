//! Retention: plan and apply the deletion of stale attempts, never of un-archived evidence.

pub mod plan;

#[cfg(test)]
mod tests;
