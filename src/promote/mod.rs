//! Promotion: archiving a PASS attempt's evidence into `reports/` atomically and immutably,
//! fail-closed on pairing.

pub mod archive;
pub mod certificate;
pub mod metadata;
pub mod name;
