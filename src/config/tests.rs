use super::*;

#[test]
fn the_shipped_config_file_equals_the_built_in_defaults() {
    // Jail: other tests set INVARLOCKD_* variables; the jail serialises access to them.
    figment::Jail::expect_with(|_| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/invarlockd.toml");
        let cfg = Config::load(Some(&path)).map_err(|e| e.to_string())?;
        assert_eq!(cfg, Config::default());
        Ok(())
    });
}

#[test]
fn an_unknown_key_is_named_in_the_error() {
    figment::Jail::expect_with(|_| {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[index]\nsettel = \"2s\"\n").unwrap();
        let err = Config::load(Some(&f)).unwrap_err().to_string();
        assert!(err.contains("settel"), "{err}");
        Ok(())
    });
}

#[test]
fn environment_variables_override_the_file_and_name_their_key_when_bad() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("INVARLOCKD_WATCH__MODE", "poll");
        jail.set_env("INVARLOCKD_TOKEN", "client-only, not config");
        let cfg = Config::load(None).map_err(|e| e.to_string())?;
        assert_eq!(cfg.watch.mode, WatchMode::Poll);
        jail.set_env("INVARLOCKD_INDEX__SETTLE", "soon");
        let err = Config::load(None).unwrap_err().to_string().to_lowercase();
        assert!(err.contains("index.settle"), "{err}");
        Ok(())
    });
}

#[test]
fn a_bad_duration_is_named_in_the_error() {
    figment::Jail::expect_with(|_| {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[index]\nsettle = \"soon\"\n").unwrap();
        let err = Config::load(Some(&f)).unwrap_err().to_string();
        assert!(err.contains("settle"), "{err}");
        Ok(())
    });
}
