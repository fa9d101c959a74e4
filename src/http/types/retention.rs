//! `/v1/retention/*`: plans, their records and their moves.

use crate::retention::PlanView;
use serde::Serialize;
use utoipa::ToSchema;

/// Per-plan overrides of the configured `[retention]` policy (every field optional).
#[derive(ToSchema)]
#[schema(example = json!({"keep_last": 1, "failed_keep_within": "0s"}))]
#[allow(dead_code)]
pub struct RetentionOverrides {
    #[schema(minimum = 0, maximum = 1000000)]
    keep_last: Option<u64>,
    /// A duration (humantime: `14d`, `36h`, `0s`), measured back from the nickname's newest attempt.
    #[schema(example = "14d")]
    keep_within: Option<String>,
    #[schema(example = "3d")]
    failed_keep_within: Option<String>,
}

/// The policy a plan follows.
#[derive(Serialize, ToSchema, Debug)]
pub struct RetentionPolicy {
    #[schema(example = 3)]
    pub keep_last: u32,
    /// humantime duration.
    #[schema(example = "14days")]
    pub keep_within: String,
    #[schema(example = "3days")]
    pub failed_keep_within: String,
}

/// One attempt a plan deletes or keeps, and why.
#[derive(Serialize, ToSchema, Debug)]
pub struct RetentionDecision {
    #[schema(example = "ci_quant8/20261128_204253")]
    pub attempt: String,
    /// The attempt directory.
    pub path: Option<String>,
    #[schema(minimum = 0)]
    pub bytes: u64,
    pub status: super::AttemptStatus,
    #[schema(example = "protected: newest attempt of \"ci_quant8\"")]
    pub reason: String,
}

#[derive(Serialize, ToSchema, Debug)]
pub struct RetentionTotals {
    pub delete_count: u64,
    pub delete_bytes: u64,
    pub keep_count: u64,
    pub keep_bytes: u64,
}

/// State of a plan: the operation under way is committed before the filesystem is touched.
#[derive(Serialize, ToSchema, Debug, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum PlanState {
    Planned,
    Applying,
    Applied,
    Restoring,
    Restored,
    Purging,
    Purged,
}

impl PlanState {
    fn parse(s: &str) -> PlanState {
        match s {
            "applying" => PlanState::Applying,
            "applied" => PlanState::Applied,
            "restoring" => PlanState::Restoring,
            "restored" => PlanState::Restored,
            "purging" => PlanState::Purging,
            "purged" => PlanState::Purged,
            _ => PlanState::Planned,
        }
    }
}

/// A new plan (nothing has changed yet).
#[derive(Serialize, ToSchema, Debug)]
pub struct RetentionPlan {
    #[schema(example = "rp-eee01ccc96b0fff1")]
    pub id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// After this the plan cannot be applied (409 `plan_expired`).
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub state: PlanState,
    pub policy: RetentionPolicy,
    pub delete: Vec<RetentionDecision>,
    pub keep: Vec<RetentionDecision>,
    pub totals: RetentionTotals,
}

fn decision(i: &crate::retention::stored::PlanItem) -> RetentionDecision {
    RetentionDecision {
        attempt: i.attempt.clone(),
        path: i.path.clone(),
        bytes: i.bytes,
        status: super::AttemptStatus::from_stored(&i.status),
        reason: i.reason.clone(),
    }
}

impl From<PlanView> for RetentionPlan {
    fn from(p: PlanView) -> Self {
        RetentionPlan {
            state: PlanState::parse(&p.state),
            id: p.id,
            created_at: p.created_at,
            expires_at: p.expires_at,
            policy: policy(&p.policy),
            delete: p.delete.iter().map(decision).collect(),
            keep: p.keep.iter().map(decision).collect(),
            totals: totals(&p.totals),
        }
    }
}

fn policy(p: &crate::retention::Policy) -> RetentionPolicy {
    RetentionPolicy {
        keep_last: p.keep_last,
        keep_within: humantime::format_duration(p.keep_within).to_string(),
        failed_keep_within: humantime::format_duration(p.failed_keep_within).to_string(),
    }
}

fn totals(t: &crate::retention::stored::Totals) -> RetentionTotals {
    RetentionTotals {
        delete_count: t.delete_count,
        delete_bytes: t.delete_bytes,
        keep_count: t.keep_count,
        keep_bytes: t.keep_bytes,
    }
}

impl From<crate::retention::PlanRecord> for RetentionPlanRecord {
    fn from(r: crate::retention::PlanRecord) -> Self {
        let row = r.row;
        RetentionPlanRecord {
            id: row.id,
            created_at: row.created_at,
            expires_at: row.expires_at,
            state: PlanState::parse(&row.state),
            policy: policy(&r.policy),
            plan: PlanDecisions {
                delete: r.plan.delete.iter().map(decision).collect(),
                keep: r.plan.keep.iter().map(decision).collect(),
                totals: totals(&r.plan.totals),
            },
            applied_at: row.applied_at,
            restored_at: row.restored_at,
            purged_at: row.purged_at,
            bytes_reclaimed: row.bytes_reclaimed,
            moves: r
                .moves
                .into_iter()
                .map(|m| RetentionMove {
                    attempt: m.attempt_id,
                    from: m.from_path,
                    trash: m.trash_path,
                    bytes: m.bytes,
                    state: m.state,
                })
                .collect(),
        }
    }
}

/// The stored decisions of a plan.
#[derive(Serialize, ToSchema, Debug)]
pub struct PlanDecisions {
    pub delete: Vec<RetentionDecision>,
    pub keep: Vec<RetentionDecision>,
    pub totals: RetentionTotals,
}

/// A directory moved to the trash by an apply.
#[derive(Serialize, ToSchema, Debug)]
pub struct RetentionMove {
    pub attempt: String,
    pub from: String,
    /// Its place under `<state>/trash/<plan-id>/`.
    pub trash: String,
    pub bytes: i64,
    /// `pending`, `moved`, `restored` or `purged`.
    #[schema(example = "moved")]
    pub state: String,
}

/// A plan as recorded: its state, decisions and moves (`GET /v1/retention/plans/{id}`, and
/// the answer of apply and restore).
#[derive(Serialize, ToSchema, Debug)]
pub struct RetentionPlanRecord {
    #[schema(example = "rp-eee01ccc96b0fff1")]
    pub id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub state: PlanState,
    pub policy: RetentionPolicy,
    pub plan: PlanDecisions,
    #[schema(format = DateTime)]
    pub applied_at: Option<String>,
    #[schema(format = DateTime)]
    pub restored_at: Option<String>,
    #[schema(format = DateTime)]
    pub purged_at: Option<String>,
    pub bytes_reclaimed: i64,
    pub moves: Vec<RetentionMove>,
}

/// `POST /v1/retention/apply` and `/restore`: which plan.
#[derive(serde::Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct PlanRef {
    #[schema(example = "rp-eee01ccc96b0fff1")]
    pub plan_id: String,
}
