use super::*;
use std::io::Write;
use std::os::unix::fs::symlink;

fn limits(cap: u64) -> Limits {
    Limits {
        report_bytes: cap,
        ..Limits::default()
    }
}

fn mkfifo(path: &std::path::Path) {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
}

#[test]
fn symlinks_are_refused_at_the_last_component_and_in_the_middle() {
    let ws = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "s3cret").unwrap();
    std::fs::create_dir_all(ws.path().join("a/b")).unwrap();
    symlink(
        outside.path().join("secret"),
        ws.path().join("a/b/report.json"),
    )
    .unwrap();
    symlink(outside.path(), ws.path().join("a/link")).unwrap();
    let root = Dir::open_root(ws.path(), "").unwrap();
    let l = Limits::default();
    let e = root
        .read("a/b/report.json", FileKind::Report, &l)
        .unwrap_err();
    assert!(matches!(e, FsError::Symlink(_)), "{e}");
    let e = root
        .read("a/link/secret", FileKind::Report, &l)
        .unwrap_err();
    assert!(matches!(e, FsError::Symlink(_)), "{e}");
    assert!(matches!(root.open_dir("a/link"), Err(FsError::Symlink(_))));
    assert!(root.read("../x", FileKind::Report, &l).is_err());
    assert!(root
        .read("a/missing", FileKind::Report, &l)
        .unwrap_err()
        .is_not_found());
}

#[test]
fn a_fifo_is_refused_without_blocking_and_a_directory_is_not_a_file() {
    let ws = tempfile::tempdir().unwrap();
    mkfifo(&ws.path().join("report.json"));
    std::fs::create_dir(ws.path().join("d")).unwrap();
    let root = Dir::open_root(ws.path(), "").unwrap();
    let l = Limits::default();
    let e = root.read("report.json", FileKind::Report, &l).unwrap_err();
    assert!(matches!(e, FsError::WrongType { what: "fifo", .. }), "{e}");
    assert!(e.is_refusal());
    assert!(matches!(
        root.read("d", FileKind::Report, &l),
        Err(FsError::WrongType {
            what: "directory",
            ..
        })
    ));
    assert!(matches!(
        root.open_dir("report.json"),
        Err(FsError::WrongType { what: "fifo", .. })
    ));
}

#[test]
fn an_over_size_file_is_refused_unread_and_growth_past_the_cap_is_caught() {
    let ws = tempfile::tempdir().unwrap();
    let f = std::fs::File::create(ws.path().join("big.json")).unwrap();
    f.set_len(4 << 30).unwrap();
    std::fs::write(ws.path().join("small.json"), b"0123456789").unwrap();
    let root = Dir::open_root(ws.path(), "").unwrap();
    let e = root
        .read("big.json", FileKind::Report, &limits(1 << 20))
        .unwrap_err();
    assert!(
        matches!(e, FsError::TooLarge { size, .. } if size == 4 << 30),
        "{e}"
    );
    assert!(e.to_string().contains("limits.report_bytes"), "{e}");
    // Opened within the cap, then grown past it: the read stops at cap + 1 bytes.
    let opened = root
        .open_file("small.json", FileKind::Report, &limits(16))
        .unwrap();
    std::fs::write(ws.path().join("small.json"), vec![b'x'; 100]).unwrap();
    let e = opened.read_all().unwrap_err();
    assert!(matches!(e, FsError::TooLarge { size: 17, .. }), "{e}");
    assert_eq!(
        root.read("small.json", FileKind::Report, &limits(100))
            .unwrap()
            .len(),
        100
    );
}

#[test]
fn replacing_a_file_never_writes_through_a_planted_symlink() {
    let ws = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("victim"), "keep").unwrap();
    symlink(outside.path().join("victim"), ws.path().join("report.json")).unwrap();
    let root = Dir::open_root(ws.path(), "").unwrap();
    root.replace_with("report.json", 0o644, |f| f.write_all(b"new"))
        .unwrap();
    assert_eq!(
        std::fs::read(outside.path().join("victim")).unwrap(),
        b"keep"
    );
    assert_eq!(
        std::fs::read(ws.path().join("report.json")).unwrap(),
        b"new"
    );
    // create_new refuses a planted name, symlink or not.
    symlink(outside.path().join("victim"), ws.path().join("planted")).unwrap();
    assert!(root.create_new("planted", b"x").is_err());
    assert_eq!(
        std::fs::read(outside.path().join("victim")).unwrap(),
        b"keep"
    );
    let names: Vec<_> = std::fs::read_dir(ws.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(TEMP_FILE_PREFIX)),
        "{names:?}"
    );
}

#[test]
fn leftover_temp_files_are_cleaned_and_other_entries_are_kept() {
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(ws.path().join(".invarlockd-tmp-abc"), "partial").unwrap();
    std::fs::create_dir(ws.path().join(".invarlockd-tmp-dir")).unwrap();
    std::fs::write(ws.path().join("report.json"), "{}").unwrap();
    let root = Dir::open_root(ws.path(), "").unwrap();
    assert_eq!(clean_temp_files(&root).unwrap(), 1);
    assert!(ws.path().join(".invarlockd-tmp-dir").is_dir());
    assert!(ws.path().join("report.json").is_file());
}

#[test]
fn entries_report_symlinks_as_symlinks() {
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir(ws.path().join("d")).unwrap();
    symlink("/etc", ws.path().join("l")).unwrap();
    std::fs::write(ws.path().join("f"), "12345").unwrap();
    let root = Dir::open_root(ws.path(), "").unwrap();
    let kinds: Vec<_> = root
        .entries()
        .unwrap()
        .into_iter()
        .map(|e| (e.name.into_string().unwrap(), e.stat.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("d".to_string(), EntryKind::Dir),
            ("f".to_string(), EntryKind::File),
            ("l".to_string(), EntryKind::Symlink)
        ]
    );
}
