"""The README's workflow through a client generated from openapi.yaml by openapi-python-client,
with no hand edits (tests/generated_client.rs generates it and runs this against a real daemon
on a copy of examples/workspace). Asserts on typed fields: a schema that does not describe an
answer fails here as a parse error or a wrong type.

Usage: python workflow.py BASE_URL TOKEN
"""

import sys

from invarlockd_client import AuthenticatedClient, Client
from invarlockd_client.api.audit import list_audit, verify_audit_chain
from invarlockd_client.api.index import get_attempt, get_status, list_attempts, list_mappings, list_runs
from invarlockd_client.api.promote import get_promotion, promote, verify_promotion
from invarlockd_client.api.retention import (
    apply_retention_plan,
    get_retention_plan,
    plan_retention,
    restore_retention_plan,
)
from invarlockd_client.api.verify import verify_certificate
from invarlockd_client.models import (
    AttemptDetail,
    AttemptPage,
    AttemptStatus,
    AuditChainCheck,
    AuditPage,
    CheckReport,
    Confidence,
    GitMode,
    How,
    MappingPage,
    PlanRef,
    PlanState,
    PromoteResponse401,
    PromoteResponse401Code,
    PromoteResponse422,
    PromoteResponse422Code,
    Profile,
    PromoteBody,
    Promotion,
    RetentionOverrides,
    RetentionPlan,
    RetentionPlanRecord,
    RunPage,
    StatusResponse,
    VerifyResponse,
    WatchMode,
)

base, token = sys.argv[1], sys.argv[2]
reader = Client(base_url=base, raise_on_unexpected_status=True)
admin = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)

SUBJECT = "rel_quant8/20261128_204341"
CERT = "reports/rel_quant8_balanced/evaluation.cert.json"


def ok(value, kind):
    assert isinstance(value, kind), f"expected {kind.__name__}, got {type(value).__name__}: {value!r}"
    return value


# status
status = ok(get_status.sync(client=reader), StatusResponse)
assert status.index.attempts.total == 16, status.index.attempts
assert status.index.attempts.pass_ == 14
assert status.index.nicknames == 14
assert status.watcher.mode in (WatchMode.INOTIFY, WatchMode.POLL)
assert status.initial_scan.done is True
assert status.git.mode == GitMode.OFF and status.git.pending_commits == 0

# runs
runs = ok(list_runs.sync(client=reader), RunPage)
by_nick = {r.nickname: r for r in runs.items}
assert len(by_nick) == 14 and runs.next_page_token is None
rel = by_nick["rel_quant8"]
assert rel.latest.status == AttemptStatus.PASS and rel.latest_pass == SUBJECT
assert rel.baseline.how == How.CERTIFICATE and rel.baseline.baseline.attempt == "rel_baseline/20261128_204321"

# list and filter attempts
passing = ok(list_attempts.sync(client=reader, status=AttemptStatus.PASS, limit=5), AttemptPage)
assert len(passing.items) == 5 and all(a.status == AttemptStatus.PASS for a in passing.items)
rest = ok(list_attempts.sync(client=reader, status=AttemptStatus.PASS, page_token=passing.next_page_token), AttemptPage)
assert len(passing.items) + len(rest.items) == 14 and rest.next_page_token is None
failed = ok(list_attempts.sync(client=reader, nickname="ci_quant8"), AttemptPage)
assert {a.status for a in failed.items} == {AttemptStatus.PASS, AttemptStatus.ERROR}, failed.items
since = ok(list_attempts.sync(client=reader, since="20261128_204340"), AttemptPage)
assert all(a.ts >= "20261128_204340" for a in since.items) and len(since.items) > 0

# one attempt
attempt = ok(get_attempt.sync("rel_quant8", "20261128_204341", client=reader), AttemptDetail)
assert attempt.id == SUBJECT and attempt.status == AttemptStatus.PASS
assert attempt.run_id == "8025f8a2cd584ad0" and attempt.report_hash == "7242a85e0f8aa604"
assert attempt.report.valid is True and attempt.report.size > 0
assert attempt.baseline.how == How.CERTIFICATE
assert attempt.events.sessions == 1 and attempt.events.last_runner.status == "success"
assert {f.name for f in attempt.files} >= {"report.json", "events.jsonl"}

# read a mapping
mappings = ok(list_mappings.sync(client=reader), MappingPage)
mapping = {m.subject: m for m in mappings.items}[SUBJECT]
assert mapping.how == How.CERTIFICATE and mapping.confidence == Confidence.HIGH
assert mapping.certificate == CERT and mapping.candidates == 1

# verify a certificate
with open(sys.argv[3], "rb") as f:
    import json

    cert = json.load(f)
verdict = ok(verify_certificate.sync(client=reader, body=cert, profile=Profile.RELEASE), VerifyResponse)
assert verdict.invarlockd.exit_code == 0
assert verdict.invarlockd.certificates[0].ok is True
assert verdict.summary["ok"] is True, verdict.summary

# promote with the token (without it: a typed 401 problem)
body = PromoteBody(attempt=SUBJECT, certificate=CERT, profile=Profile.RELEASE)
refused = promote.sync(client=reader, body=body)
assert isinstance(refused, PromoteResponse401) and refused.code == PromoteResponse401Code.UNAUTHORIZED, refused
failed_attempt = promote.sync(client=admin, body=PromoteBody(attempt="ci_quant8/20261128_204253"))
assert isinstance(failed_attempt, PromoteResponse422), failed_attempt
assert failed_attempt.code == PromoteResponse422Code.NOT_PASS and failed_attempt.status == 422
promoted = ok(promote.sync(client=admin, body=body), Promotion)
assert promoted.created is True and promoted.name == "rel_quant8"
assert promoted.baseline_archived == "rel_baseline"
again = ok(promote.sync(client=admin, body=body), Promotion)
assert again.created is False

# check the promotion
check = ok(verify_promotion.sync("rel_quant8", client=admin), CheckReport)
assert check.ok is True and check.profile == Profile.RELEASE
assert {c.check for c in check.checks} >= {"sha256", "certificate_verify", "pairing"}
record = get_promotion.sync("rel_quant8", client=reader)
assert record.promotion is True and record.origin.value == "invarlockd"
assert record.verifications[0].ok is True

# plan retention
plan = ok(
    plan_retention.sync(client=admin, body=RetentionOverrides(keep_last=1, failed_keep_within="0s")),
    RetentionPlan,
)
assert plan.state == PlanState.PLANNED
assert [d.attempt for d in plan.delete] == ["ci_quant8/20261128_204253"], plan.delete
assert plan.totals.delete_count == 1 and plan.policy.keep_last == 1
shown = ok(get_retention_plan.sync(plan.id, client=reader), RetentionPlanRecord)
assert shown.id == plan.id and shown.state == PlanState.PLANNED and shown.moves == []
applied = ok(apply_retention_plan.sync(client=admin, body=PlanRef(plan_id=plan.id)), RetentionPlanRecord)
assert applied.state == PlanState.APPLIED and [m.attempt for m in applied.moves] == ["ci_quant8/20261128_204253"]
assert applied.bytes_reclaimed == plan.totals.delete_bytes
restored = ok(restore_retention_plan.sync(client=admin, body=PlanRef(plan_id=plan.id)), RetentionPlanRecord)
assert restored.state == PlanState.RESTORED

# read the audit log
audit = ok(list_audit.sync(client=reader), AuditPage)
actions = [e.action for e in audit.items]
assert actions[:3] == ["promotion.created", "promotion.created", "verification.recorded"], actions
assert "retention.moved" in actions and "retention.restored" in actions, actions
assert audit.items[1].subject == "rel_quant8" and audit.items[1].actor == "admin"
chain = ok(verify_audit_chain.sync(client=reader), AuditChainCheck)
assert chain.ok is True and chain.entries == len(actions) and chain.first_broken is None

print("workflow ok")
