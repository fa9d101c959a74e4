//! The verify loop of `verify_command` (§4.2): load, V1/V2, structural checks, E601, recompute,
//! E602, output, and the exit-code resolution of whatever was raised.

use super::checks::{structural_checks, Ctx};
use super::digests::integrity;
use super::envelope::{self, python_utc_now};
use super::human::{adapter_family_warning, success_line};
use super::loading::{baseline_digest, load};
use super::parity::provider_parity;
use super::pyops::{get_if_dict, is_dict, py_lower, py_strip, Raised};
use super::recompute::recompute;
use super::rich::render;
use super::{CertReport, CertStatus, Input, Options, Outcome};
use crate::pyjson::Value;

/// `_resolve_exit_code`.
fn exit_code_for(err: &Raised, strict: bool) -> i32 {
    match err {
        Raised::Invarlock { category, .. } if *category == "ValidationError" => 2,
        Raised::Invarlock { .. } if strict => 3,
        _ => 1,
    }
}

/// Verifies a batch like `invarlock verify [--json] --profile P CERT...`, without any I/O: the
/// adapter-family warning's baseline report is never read (see [`verify_documents_with`]).
pub fn verify_documents(inputs: &[Input], opts: &Options) -> Outcome {
    verify_documents_with(inputs, opts, &|_: &str| None)
}

/// Like [`verify_documents`], with `load_report` reading the path a certificate names in
/// `provenance.baseline.report_path` (relative to the real tool's CWD; None if it does not
/// exist or cannot be read). Only the CLI should pass a real reader: over HTTP that path is
/// attacker-controlled.
pub fn verify_documents_with(
    inputs: &[Input],
    opts: &Options,
    load_report: &(dyn Fn(&str) -> Option<Vec<u8>> + Sync),
) -> Outcome {
    // `repr`, `==` and dropping of certificate values recurse over nesting up to the parser's
    // limit, which needs more stack than a test thread or a tokio worker (2 MiB) guarantees in
    // debug builds. A dedicated thread makes the budget independent of the caller; untouched
    // stack pages cost nothing.
    let spawned = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("verify".into())
            .stack_size(VERIFY_STACK_BYTES)
            .spawn_scoped(scope, || verify_on_this_thread(inputs, opts, load_report))
            .ok()
            .map(|handle| handle.join())
    });
    match spawned {
        Some(Ok(outcome)) => outcome,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        None => verify_on_this_thread(inputs, opts, load_report),
    }
}

/// Stack for the verify thread: ample for 1487 levels of recursion even unoptimised.
const VERIFY_STACK_BYTES: usize = 64 * 1024 * 1024;

fn verify_on_this_thread(
    inputs: &[Input],
    opts: &Options,
    load_report: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Outcome {
    let ts = python_utc_now();
    let prof = py_lower(py_strip(&opts.profile));
    let strict = prof == "ci" || prof == "release";
    let mut run = Run {
        opts,
        cx: Ctx::new(&prof, opts.release),
        strict,
        stdout: String::new(),
        per_cert: inputs
            .iter()
            .map(|i| CertReport {
                id: i.id.clone(),
                ok: false,
                status: CertStatus::NotReached,
                errors: Vec::new(),
                warnings: Vec::new(),
                integrity: None,
            })
            .collect(),
    };
    let first_id = inputs.first().map_or("", |i| i.id.as_str());
    let mut envelope_json = None;
    let exit_code = match run.certificates(inputs, load_report) {
        Ok(Batch {
            malformed_any,
            parts,
            last,
        }) => {
            let ok = run.per_cert.iter().all(|r| r.status == CertStatus::Passed);
            let (reason, code) = match (ok, malformed_any) {
                (true, _) => ("ok", 0),
                (false, true) => ("malformed", 2),
                (false, false) => ("policy_fail", 1),
            };
            if opts.json {
                let results: Result<Vec<_>, Raised> = inputs
                    .iter()
                    .zip(parts)
                    .map(|(i, p)| p.map(|p| (i.id.as_str(), p)))
                    .collect();
                match results {
                    Ok(results) => {
                        envelope_json = Some(envelope::verdict(
                            results,
                            ok,
                            reason,
                            code,
                            &ts,
                            run.cx.w.envelope_key(),
                        ));
                        code
                    }
                    Err(err) => {
                        let code = exit_code_for(&err, strict);
                        envelope_json = Some(envelope::raised(first_id, &err, code, &ts));
                        code
                    }
                }
            } else {
                if ok {
                    if let Some(last) = &last {
                        if let Some(line) = success_line(last).and_then(|l| render(&l).ok()) {
                            run.stdout.push_str(&line);
                            run.stdout.push('\n');
                        }
                    }
                }
                code
            }
        }
        Err(err) => {
            let code = exit_code_for(&err, strict);
            if opts.json {
                envelope_json = Some(envelope::raised(first_id, &err, code, &ts));
            } else {
                let text = match &err {
                    Raised::Invarlock { .. } => err.text(),
                    Raised::Python { message, .. } => {
                        format!("[red]❌ Verification failed: {message}[/red]")
                    }
                };
                // A markup error while reporting the failure escapes the handler: Python dies
                // with a traceback on stderr and exit code 1.
                if !run.print(&text) {
                    return run.finish(1, None);
                }
            }
            code
        }
    };
    run.finish(exit_code, envelope_json)
}

/// What the loop hands to the final report.
struct Batch {
    malformed_any: bool,
    /// `--json` only: each certificate's result parts, or what building them raised.
    parts: Vec<Result<envelope::ResultParts, Raised>>,
    /// The last certificate, for the `VERIFY OK` line.
    last: Option<Value>,
}

struct Run<'a> {
    opts: &'a Options,
    cx: Ctx<'a>,
    strict: bool,
    stdout: String,
    per_cert: Vec<CertReport>,
}

impl Run<'_> {
    /// `console.print(markup)`; false if Rich raised MarkupError.
    fn print(&mut self, markup: &str) -> bool {
        match render(markup) {
            Ok(line) => {
                self.stdout.push_str(&line);
                self.stdout.push('\n');
                true
            }
            Err(_) => false,
        }
    }

    /// `console.print` inside the verify loop: a MarkupError becomes the run's exception.
    fn print_or_raise(&mut self, markup: &str) -> Result<(), Raised> {
        render(markup)
            .map(|line| {
                self.stdout.push_str(&line);
                self.stdout.push('\n');
            })
            .map_err(|e| Raised::python("MarkupError", e.0))
    }

    fn finish(self, exit_code: i32, envelope_json: Option<String>) -> Outcome {
        let mut stdout = self.stdout;
        if let Some(line) = &envelope_json {
            stdout.push_str(line);
            stdout.push('\n');
        }
        Outcome {
            exit_code,
            stdout,
            envelope_json,
            per_cert: self.per_cert,
        }
    }

    /// The `for cert_path in certificates` loop. Each document is parsed once and dropped as
    /// soon as its checks, integrity report and envelope parts are done, so a batch holds one
    /// parsed certificate at a time. After a raised error the remaining documents are still
    /// parsed, for their integrity reports only.
    fn certificates(
        &mut self,
        inputs: &[Input],
        load_report: &dyn Fn(&str) -> Option<Vec<u8>>,
    ) -> Result<Batch, Raised> {
        let baseline = self.opts.baseline.as_deref().and_then(baseline_digest);
        let mut batch = Batch {
            malformed_any: false,
            parts: Vec::with_capacity(inputs.len()),
            last: None,
        };
        let mut raised = None;
        for (idx, input) in inputs.iter().enumerate() {
            let doc = match &input.bytes {
                Ok(b) => load(b),
                Err(f) => Err(Raised::python(&f.class, f.message.clone())),
            };
            if let Ok(v @ Value::Object(_)) = &doc {
                self.per_cert[idx].integrity = Some(integrity(v));
            }
            if raised.is_some() {
                continue;
            }
            self.per_cert[idx].status = CertStatus::Raised;
            match self.one(&input.id, &doc, baseline.as_ref(), load_report, idx) {
                Ok(malformed) => batch.malformed_any |= malformed,
                Err(err) => {
                    self.per_cert[idx].errors.push(err.text());
                    raised = Some(err);
                    continue;
                }
            }
            if let Ok(v) = doc {
                if self.opts.json {
                    batch
                        .parts
                        .push(envelope::result_parts(&v, self.opts.tolerance));
                }
                if idx + 1 == inputs.len() {
                    batch.last = Some(v);
                }
            }
        }
        match raised {
            Some(err) => Err(err),
            None => Ok(batch),
        }
    }

    fn one(
        &mut self,
        id: &str,
        doc: &Result<Value, Raised>,
        baseline: Option<&Value>,
        load_report: &dyn Fn(&str) -> Option<Vec<u8>>,
        idx: usize,
    ) -> Result<bool, Raised> {
        let doc = doc.as_ref().map_err(Clone::clone)?;
        // V1 (and V2), before any structural check.
        if self.strict {
            let subject = match doc.get("provenance") {
                Some(p @ Value::Object(_)) => get_if_dict(p, "provider_digest"),
                _ => &super::pyops::NONE,
            };
            if !(is_dict(subject) && get_if_dict(subject, "ids_sha256").truthy()) {
                return Err(Raised::invarlock(
                    "E004",
                    "PROVIDER-DIGEST-MISSING: subject missing provider_digest.ids_sha256",
                ));
            }
            if let Some(b) = baseline {
                provider_parity(subject, b)?;
            }
        }
        let mut errors = structural_checks(doc, &self.cx)?;
        if self.opts.json
            && errors
                .iter()
                .any(|e| py_lower(e).contains("schema validation failed"))
        {
            return Err(Raised::Invarlock {
                category: "ValidationError",
                code: "E601",
                message: self.cx.w.schema_invalid(),
                context: vec![("path", id.to_string())],
            });
        }
        let missing_finite = format!(
            "{} is missing a finite primary_metric.ratio_vs_baseline",
            self.cx.w.subject()
        );
        let malformed = errors.iter().any(|e| {
            py_lower(e).contains("schema validation failed")
                || e.contains("missing primary_metric.ratio_vs_baseline")
                || e.contains(&missing_finite)
        });
        if let Some(warning) = recompute(
            doc,
            self.strict,
            self.opts.json,
            self.opts.tolerance,
            &mut errors,
        )? {
            self.per_cert[idx].warnings.push(warning.to_string());
            self.print_or_raise(&format!("[yellow]{warning}[/yellow]"))?;
        }
        if self.strict {
            if let Some(first) = errors.iter().find(|e| py_lower(e).contains("mismatch")) {
                let example = first.clone();
                self.per_cert[idx].errors = errors;
                return Err(Raised::Invarlock {
                    category: "MetricsError",
                    code: "E602",
                    message: self.cx.w.recompute_mismatch(),
                    context: vec![("example", example)],
                });
            }
        }
        if !errors.is_empty() {
            self.per_cert[idx].status = CertStatus::Failed;
            self.per_cert[idx].errors = errors.clone();
            if !self.opts.json {
                self.print_or_raise(&format!("[red]FAIL[/red] {id}"))?;
                for e in &errors {
                    self.print_or_raise(&format!("  ↳ {e}"))?;
                }
            }
        } else {
            self.per_cert[idx].status = CertStatus::Passed;
            self.per_cert[idx].ok = true;
            if !self.opts.json {
                self.print_or_raise(&format!("[green]PASS[/green] {id}"))?;
            }
            if let Some(lines) = adapter_family_warning(doc, load_report, self.cx.w) {
                for line in &lines {
                    self.per_cert[idx].warnings.push(line.clone());
                    // Best effort in the real tool: a failing print ends the warning quietly.
                    if !self.print(&format!("[yellow]{line}[/yellow]")) {
                        break;
                    }
                }
            }
        }
        Ok(malformed)
    }
}
