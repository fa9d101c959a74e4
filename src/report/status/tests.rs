use super::*;
use crate::report::RunnerOutcome;

const H: Duration = Duration::from_secs(3600);

fn inputs<'a>(
    report: ReportState<'a>,
    events: Option<&'a EventsSummary>,
    idle: Duration,
) -> StatusInputs<'a> {
    StatusInputs {
        report,
        events,
        has_files: true,
        idle,
        superseded_by: None,
        settle: Duration::from_secs(2),
        stale_after: 6 * H,
    }
}

fn events(status: Option<&str>, error: Option<&str>, open: bool) -> EventsSummary {
    EventsSummary {
        sessions: 1,
        session_open: open,
        last_runner: (status.is_some() || error.is_some()).then(|| RunnerOutcome {
            status: status.map(Into::into),
            error: error.map(Into::into),
            timestamp: None,
        }),
        ..Default::default()
    }
}

#[test]
fn a_valid_report_with_runner_success_passes_and_rollback_fails() {
    let f = ReportFacts::default();
    let ok = events(Some("success"), None, false);
    let v = derive_status(inputs(ReportState::Valid(&f), Some(&ok), H));
    assert_eq!((v.status, v.reason), (AttemptStatus::Pass, None));
    let rb = events(Some("rollback"), None, false);
    assert_eq!(
        derive_status(inputs(ReportState::Valid(&f), Some(&rb), H)).status,
        AttemptStatus::Fail
    );
}

#[test]
fn a_failed_guard_or_overhead_gate_fails_even_with_runner_success() {
    let ok = events(Some("success"), None, false);
    let f = ReportFacts {
        guards_not_passed: vec!["spectral".into()],
        ..Default::default()
    };
    let v = derive_status(inputs(ReportState::Valid(&f), Some(&ok), H));
    assert_eq!(v.status, AttemptStatus::Fail);
    assert!(v.reason.unwrap().contains("spectral"));
    let f = ReportFacts {
        overhead_gate_failed: true,
        ..Default::default()
    };
    assert_eq!(
        derive_status(inputs(ReportState::Valid(&f), Some(&ok), H)).status,
        AttemptStatus::Fail
    );
}

#[test]
fn an_unreadable_report_is_running_until_settled_then_invalid() {
    let young = ReportState::Unreadable {
        reason: "not JSON",
        age: Duration::from_millis(500),
    };
    let v = derive_status(inputs(young, None, Duration::ZERO));
    assert_eq!(v.status, AttemptStatus::Running);
    assert_eq!(v.recheck_after, Some(Duration::from_millis(1500)));
    let old = ReportState::Unreadable {
        reason: "not JSON",
        age: Duration::from_secs(3),
    };
    assert_eq!(
        derive_status(inputs(old, None, Duration::ZERO)).status,
        AttemptStatus::Invalid
    );
}

#[test]
fn no_report_and_a_runner_error_is_error() {
    let e = events(None, Some("E005"), false);
    let v = derive_status(inputs(ReportState::Absent, Some(&e), Duration::ZERO));
    assert_eq!(v.status, AttemptStatus::Error);
    assert!(v.reason.unwrap().contains("E005"));
}

#[test]
fn an_empty_directory_is_running_when_fresh_and_error_when_old_or_superseded() {
    let mut i = inputs(ReportState::Absent, None, Duration::from_secs(10));
    i.has_files = false;
    assert_eq!(derive_status(i).status, AttemptStatus::Running);
    i.idle = 7 * H;
    assert_eq!(derive_status(i).status, AttemptStatus::Error);
    i.idle = Duration::from_secs(10);
    i.superseded_by = Some("n/20261128_204253");
    assert_eq!(derive_status(i).status, AttemptStatus::Error);
}

#[test]
fn a_stale_verdict_reads_the_same_whenever_it_is_derived() {
    // A restart or a rebuilt index derives again, later: the answer must not move with the clock.
    for has_files in [false, true] {
        let mut early = inputs(ReportState::Absent, None, 7 * H);
        early.has_files = has_files;
        let mut late = early;
        late.idle = 76 * H + Duration::from_secs(61);
        let (a, b) = (derive_status(early), derive_status(late));
        assert_eq!(a.status, AttemptStatus::Error);
        assert_eq!(a.reason, b.reason);
    }
}

#[test]
fn an_open_session_without_report_is_running_until_stale() {
    let e = events(None, None, true);
    assert_eq!(
        derive_status(inputs(ReportState::Absent, Some(&e), H)).status,
        AttemptStatus::Running
    );
    assert_eq!(
        derive_status(inputs(ReportState::Absent, Some(&e), 7 * H)).status,
        AttemptStatus::Error
    );
}
