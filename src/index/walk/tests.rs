use super::*;

#[test]
fn nested_nicknames_copies_strays_and_symlinks_are_classified() {
    let ws = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let runs = ws.path().join("runs");
    for d in [
        "team/quant8/20261128_204141",
        "base/20261128_204115",
        "empty/notes",
    ] {
        std::fs::create_dir_all(runs.join(d)).unwrap();
    }
    std::fs::write(runs.join("base/report.json"), "{}").unwrap();
    std::fs::write(runs.join("base/.invarlockd-tmp-1f"), "partial").unwrap();
    std::fs::write(runs.join("stray.txt"), "x").unwrap();
    std::fs::create_dir_all(outside.path().join("20261128_000000")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("20261128_000000"),
        runs.join("base/20261128_000000"),
    )
    .unwrap();
    let dir = Dir::open_root(&runs, "runs").unwrap();
    let w = walk_runs(&dir, &runs).unwrap();
    let ids: Vec<_> = w.attempts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["base/20261128_204115", "team/quant8/20261128_204141"]);
    let un: Vec<_> = w.unrecognized.iter().map(|u| u.path.as_str()).collect();
    assert_eq!(un, ["base/20261128_000000", "empty", "stray.txt"]);
    assert_eq!(w.leftovers, ["base/.invarlockd-tmp-1f"]);
}

#[test]
fn an_evidence_pack_is_unrecognized_with_its_reason_and_never_read_as_attempts() {
    let ws = tempfile::tempdir().unwrap();
    let runs = ws.path().join("runs");
    let pack = runs.join("packs/eval-1");
    // A pack holds runs/{baseline,subject}/report.json, never a timestamp directory; a
    // timestamp-named directory inside must not be taken for an attempt either.
    std::fs::create_dir_all(pack.join("runs/subject")).unwrap();
    std::fs::create_dir_all(pack.join("20261128_204141")).unwrap();
    std::fs::write(
        pack.join("manifest.json"),
        r#"{"format": "invarlock/evidence-pack-v1", "files": {}}"#,
    )
    .unwrap();
    std::fs::write(pack.join("manifest.signature.json"), "{}").unwrap();
    std::fs::create_dir_all(runs.join("base/20261128_204115")).unwrap();
    let dir = Dir::open_root(&runs, "runs").unwrap();
    let w = walk_runs(&dir, &runs).unwrap();
    let ids: Vec<_> = w.attempts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["base/20261128_204115"]);
    let un: Vec<_> = w
        .unrecognized
        .iter()
        .map(|u| (u.path.as_str(), u.kind.as_str()))
        .collect();
    assert_eq!(un, [("packs", "dir"), ("packs/eval-1", "evidence_pack")]);
    assert!(w.unrecognized[1].reason.contains("0.3.4 to 0.4.0"));
}
