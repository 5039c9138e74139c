//! The run config: `playbook.yaml` parsing, validation errors (one fixture per
//! error class under `tests/inputs/config/errors/`, message snapshotted) and
//! zero-config resolution of symbols in a data directory.

use jiff::SignedDuration;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use playbook::config::{
    Commission, ConfigErrorKind, DataSource, Fill, FxConversion, FxDirection, OnBadRow,
    ParamOverride, RunConfig, Stamp, resolve_data_dir, resolve_series_dir,
};
use std::path::{Path, PathBuf};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

/// The shared data directory as a path relative to the crate root (the
/// working directory of tests), so that messages are the same on every machine.
fn data_rel() -> &'static Path {
    Path::new("../shared/data")
}

/// A fixture path relative to the crate root.
fn rel(path: &Path) -> PathBuf {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .to_path_buf()
}

fn tz(name: &str) -> TimeZone {
    jiff::tz::db().get(name).unwrap()
}

#[test]
fn full_example_parses_to_the_expected_config() {
    let path = Path::new("tests/inputs/config/full.yaml");
    let cfg = RunConfig::from_file(path).unwrap_or_else(|e| panic!("{e}"));
    let base = Path::new("tests/inputs/config/../../../../shared/data");
    assert_eq!(cfg.file.as_deref(), Some(path));

    // data: a glob with one match, then mappings with every key.
    assert_eq!(
        cfg.data.keys().collect::<Vec<_>>(),
        ["EURUSD", "HSI", "USDJPY", "XAUUSD"]
    );
    assert_eq!(
        cfg.data["XAUUSD"],
        DataSource::new(base.join("XAUUSD_1h_2018_2026.csv"))
    );
    let usdjpy = &cfg.data["USDJPY"];
    assert_eq!(usdjpy.file, base.join("USDJPY_4h_1999_2026.csv"));
    assert_eq!(usdjpy.zone, TimeZone::UTC);
    assert_eq!(usdjpy.stamp, Stamp::Open);
    assert_eq!(usdjpy.interval, Some(SignedDuration::from_hours(4)));
    assert_eq!(usdjpy.on_bad_row, OnBadRow::Skip);
    assert_eq!(usdjpy.daily_close, None);
    let hsi = &cfg.data["HSI"];
    assert_eq!(hsi.interval, Some(SignedDuration::from_hours(24)));
    let close = hsi.daily_close.as_ref().unwrap();
    assert_eq!(close.time, Time::constant(16, 10, 0, 0));
    assert_eq!(close.zone.iana_name(), Some("Asia/Hong_Kong"));
    assert_eq!(hsi.zone, TimeZone::UTC);
    assert_eq!(hsi.on_bad_row, OnBadRow::Error);
    let eurusd = &cfg.data["EURUSD"];
    assert_eq!(eurusd.zone, tz("America/New_York"));
    assert_eq!(eurusd.stamp, Stamp::Close);
    assert_eq!(eurusd.interval, None);
    // A daily close without a zone is read in the entry's zone.
    let close = eurusd.daily_close.as_ref().unwrap();
    assert_eq!(close.time, Time::constant(17, 0, 0, 0));
    assert_eq!(close.zone.iana_name(), Some("America/New_York"));
    let start = eurusd.day_start.as_ref().unwrap();
    assert_eq!(start.time, Time::constant(17, 0, 0, 0));
    assert_eq!(start.zone.iana_name(), Some("America/New_York"));

    // series
    assert_eq!(
        cfg.series.keys().collect::<Vec<_>>(),
        ["JP_RATE", "US_RATE"]
    );
    assert!(!cfg.series["US_RATE"].as_percent);
    assert_eq!(
        cfg.series["US_RATE"].file,
        base.join("series/US_POLICY_RATE.csv")
    );
    assert!(cfg.series["JP_RATE"].as_percent);
    assert_eq!(
        cfg.series["JP_RATE"].file,
        base.join("series/JP_POLICY_RATE.csv")
    );

    // instruments
    let gold = &cfg.instruments["XAUUSD"];
    assert_eq!(gold.multiplier, 100.0);
    assert_eq!(gold.tick_size, Some(0.1));
    assert_eq!(gold.lot_size, 1.0);
    assert_eq!(gold.currency, "USD");
    assert_eq!(gold.commission, Commission::PerContract(2.5));
    assert_eq!(gold.slippage_ticks, 2.0);
    assert_eq!(gold.fx, None);
    let eur = &cfg.instruments["EURUSD"];
    assert_eq!(eur.multiplier, 1.0);
    assert_eq!(eur.tick_size, None);
    assert_eq!(eur.lot_size, 1000.0);
    assert_eq!(eur.currency, "EUR");
    assert_eq!(eur.commission, Commission::Bps(0.5));
    let eur_fx = FxConversion {
        symbol: "EURUSD".into(),
        direction: FxDirection::Multiply,
    };
    assert_eq!(eur.fx, Some(eur_fx.clone()));
    assert_eq!(eur_fx.convert(100.0, 1.1), 100.0 * 1.1);
    let jp = &cfg.instruments["JP225"];
    assert_eq!(jp.currency, "JPY");
    assert_eq!(jp.commission, Commission::None);
    let yen_fx = FxConversion {
        symbol: "USDJPY".into(),
        direction: FxDirection::Divide,
    };
    assert_eq!(jp.fx, Some(yen_fx.clone()));
    assert_eq!(yen_fx.convert(15_000.0, 150.0), 100.0);
    // `fx: USDJPY` for a JPY instrument in a USD account: the name says divide.
    assert_eq!(cfg.instruments["NK"].fx, Some(yen_fx));

    // account, fill, sizing, params
    assert_eq!(cfg.account.equity, 1_000_000.0);
    assert_eq!(cfg.account.currency, "USD");
    assert_eq!(cfg.fill, Fill::Close);
    assert_eq!(cfg.sizing, "10% of equity");
    assert_eq!(cfg.params.len(), 4);
    assert_eq!(cfg.params["drop"], ParamOverride::Text("1.5%".into()));
    assert_eq!(cfg.params["surge"], ParamOverride::Number(0.01));
    assert_eq!(cfg.params["hold"], ParamOverride::Text("3d".into()));
    assert_eq!(cfg.params["strict"], ParamOverride::Bool(true));

    // The strategy's needs are met; a symbol it lacks is named.
    cfg.require_symbols(&["XAUUSD", "USDJPY"], &["US_RATE"])
        .unwrap();
    let err = cfg.require_symbols(&["XAUUSDD"], &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tests/inputs/config/full.yaml: the strategy reads data symbol `XAUUSDD` but the config has no `data` entry for it; did you mean `XAUUSD`?"
    );
}

#[test]
fn an_empty_file_gives_the_defaults() {
    let cfg = RunConfig::from_yaml("empty.yaml", "# nothing\n", Path::new(".")).unwrap();
    assert_eq!(cfg, RunConfig::empty());
    assert_eq!(cfg.fill, Fill::NextOpen);
    assert_eq!(cfg.sizing, "1 contracts");
    assert_eq!(cfg.account.equity, 1_000_000.0);
    assert_eq!(cfg.account.currency, "USD");
    let blank = "data:\nseries:\ninstruments:\naccount:\nfill:\nsizing:\nparams:\n";
    assert_eq!(
        RunConfig::from_yaml("blank.yaml", blank, Path::new(".")).unwrap(),
        RunConfig::empty()
    );
    let nq = cfg.instrument("NQ");
    assert_eq!((nq.multiplier, nq.lot_size, nq.tick_size), (1.0, 1.0, None));
    assert_eq!(nq.currency, "USD");
    assert_eq!(nq.commission, Commission::None);
}

#[test]
fn the_brief_example_error_is_positioned_at_the_key() {
    let err = RunConfig::from_file(Path::new(
        "tests/inputs/config/errors/unknown_instrument_key.yaml",
    ))
    .unwrap_err();
    assert_eq!(err.errors().len(), 1);
    let e = &err.errors()[0];
    assert_eq!(e.location, Some((12, 5)));
    assert_eq!(
        e.kind,
        ConfigErrorKind::UnknownKey {
            key: "multipler".into(),
            section: "instruments.NQ".into(),
            suggestion: Some("multiplier".into()),
        }
    );
}

#[test]
fn a_missing_fx_conversion_is_an_error() {
    let err =
        RunConfig::from_file(Path::new("tests/inputs/config/errors/missing_fx.yaml")).unwrap_err();
    assert!(matches!(
        &err.errors()[0].kind,
        ConfigErrorKind::MissingFx { symbol, currency, account, .. }
            if symbol == "N225" && currency == "JPY" && account == "USD"
    ));
    // Also for an instrument the config does not list, in a non-USD account.
    let mut cfg = RunConfig::empty();
    cfg.account.currency = "EUR".into();
    cfg.data.insert("ES".into(), DataSource::new("ES_1d.csv"));
    let err = cfg.require_symbols(&["ES"], &[]).unwrap_err();
    assert_eq!(err.errors().len(), 1);
    assert!(matches!(
        &err.errors()[0].kind,
        ConfigErrorKind::MissingFx { symbol, currency, account, .. }
            if symbol == "ES" && currency == "USD" && account == "EUR"
    ));
}

#[test]
fn error_fixtures() {
    insta::glob!("inputs/config/errors/*.yaml", |path| {
        let path = rel(path);
        let input = std::fs::read_to_string(&path).unwrap();
        let report = match RunConfig::from_file(&path) {
            Ok(cfg) => panic!("{} should fail but gave {cfg:?}", path.display()),
            Err(e) => e.to_string(),
        };
        insta::with_settings!({ description => input, omit_expression => true }, {
            insta::assert_snapshot!(report);
        });
    });
}

#[test]
fn a_missing_config_file_is_named() {
    let err = RunConfig::from_file(Path::new("tests/inputs/config/no_such.yaml")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("tests/inputs/config/no_such.yaml: cannot read the config file: "),
        "{text}"
    );
}

// ----- zero config against the shared data -----

#[test]
fn shared_data_resolves_unique_symbols() {
    let found = resolve_data_dir(Path::new(DATA), &["HSI", "XAUUSD_1d", "N225"]).unwrap();
    assert_eq!(found["HSI"], Path::new(DATA).join("HSI_1d.csv"));
    assert_eq!(found["N225"], Path::new(DATA).join("N225_1d.csv"));
    // A full file stem is an exact name.
    assert_eq!(found["XAUUSD_1d"], Path::new(DATA).join("XAUUSD_1d.csv"));
    let series =
        resolve_series_dir(Path::new(DATA), &["US_POLICY_RATE", "JP_POLICY_RATE"]).unwrap();
    assert_eq!(
        series["US_POLICY_RATE"],
        Path::new(DATA).join("series/US_POLICY_RATE.csv")
    );
    assert_eq!(
        series["JP_POLICY_RATE"],
        Path::new(DATA).join("series/JP_POLICY_RATE.csv")
    );
}

#[test]
fn shared_data_ambiguous_usdjpy_lists_its_candidates() {
    let err = resolve_data_dir(data_rel(), &["USDJPY"]).unwrap_err();
    match &err.errors()[0].kind {
        ConfigErrorKind::SymbolAmbiguous { candidates, .. } => assert_eq!(
            candidates,
            &[
                "USDJPY_1d.csv",
                "USDJPY_1h_2023-07_2025-07.csv",
                "USDJPY_4h_1999_2026.csv"
            ]
        ),
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!("zero_config_ambiguous_usdjpy", err.to_string());
}

#[test]
fn shared_data_missing_symbols_are_all_reported() {
    let err = resolve_data_dir(data_rel(), &["XAUSD", "ZZZZZZ", "HSI"]).unwrap_err();
    assert_eq!(err.errors().len(), 2);
    insta::assert_snapshot!("zero_config_missing_symbols", err.to_string());
}

#[test]
fn zero_config_run_config_from_shared_data() {
    let cfg =
        RunConfig::from_data_dir(Path::new(DATA), &["HSI", "N225"], &["US_POLICY_RATE"]).unwrap();
    assert_eq!(cfg.file, None);
    assert_eq!(
        cfg.data["HSI"],
        DataSource::new(Path::new(DATA).join("HSI_1d.csv"))
    );
    assert_eq!(cfg.data["N225"].interval, None);
    assert!(!cfg.series["US_POLICY_RATE"].as_percent);
    assert_eq!(cfg.fill, Fill::NextOpen);
    assert!(cfg.instruments.is_empty());
    cfg.require_symbols(&["HSI", "N225"], &["US_POLICY_RATE"])
        .unwrap();
}

#[test]
fn a_config_file_is_completed_from_a_data_dir() {
    let mut cfg = RunConfig::from_file(Path::new("tests/inputs/config/full.yaml")).unwrap();
    let listed = cfg.data["USDJPY"].clone();
    // USDJPY is listed (ambiguous in the directory, but the config picks the
    // file); GC is not listed and is found in the directory.
    cfg.fill_from_data_dir(Path::new(DATA), &["USDJPY", "NQ_1d"], &["JP_POLICY_RATE"])
        .unwrap();
    assert_eq!(cfg.data["USDJPY"], listed);
    assert_eq!(cfg.data["NQ_1d"].file, Path::new(DATA).join("NQ_1d.csv"));
    assert_eq!(
        cfg.series["JP_POLICY_RATE"].file,
        Path::new(DATA).join("series/JP_POLICY_RATE.csv")
    );
}

// ----- zero config against temporary directories -----

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str, files: &[&str]) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("playbook-config-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for f in files {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "timestamp,value\n").unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn temp_dir_exact_names_win_over_prefixed_ones() {
    let t = TempDir::new(
        "exact",
        &[
            "GOLD.csv",
            "GOLD_1h.csv",
            "GOLD_1d.csv",
            "OIL.csv.gz",
            "notes.txt",
        ],
    );
    let found = resolve_data_dir(&t.0, &["GOLD", "OIL"]).unwrap();
    assert_eq!(found["GOLD"], t.0.join("GOLD.csv"));
    assert_eq!(found["OIL"], t.0.join("OIL.csv.gz"));
}

#[test]
fn temp_dir_single_prefixed_file_and_gz() {
    let t = TempDir::new(
        "prefix",
        &["ES_1h_2024.csv.gz", "ESX_1d.csv", "ES_notes.txt"],
    );
    let found = resolve_data_dir(&t.0, &["ES"]).unwrap();
    assert_eq!(found["ES"], t.0.join("ES_1h_2024.csv.gz"));
}

#[test]
fn temp_dir_csv_and_gz_of_one_name_are_ambiguous() {
    let t = TempDir::new("both", &["FX.csv", "FX.csv.gz"]);
    let err = resolve_data_dir(&t.0, &["FX"]).unwrap_err();
    match &err.errors()[0].kind {
        ConfigErrorKind::SymbolAmbiguous { candidates, .. } => {
            assert_eq!(candidates, &["FX.csv", "FX.csv.gz"])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn temp_dir_missing_and_empty() {
    let t = TempDir::new("missing", &[]);
    let err = resolve_data_dir(&t.0, &["GOLD"]).unwrap_err();
    match &err.errors()[0].kind {
        ConfigErrorKind::SymbolNotFound { candidates, .. } => assert!(candidates.is_empty()),
        other => panic!("{other:?}"),
    }
    // No symbols, no files needed.
    assert!(resolve_data_dir(&t.0, &[]).unwrap().is_empty());
}

#[test]
fn temp_dir_series_look_in_both_directories() {
    let t = TempDir::new(
        "series",
        &[
            "series/RATE.csv",
            "CPI_monthly.csv",
            "series/GAP.csv",
            "GAP.csv",
        ],
    );
    let found = resolve_series_dir(&t.0, &["RATE", "CPI"]).unwrap();
    assert_eq!(found["RATE"], t.0.join("series/RATE.csv"));
    assert_eq!(found["CPI"], t.0.join("CPI_monthly.csv"));
    let err = resolve_series_dir(&t.0, &["GAP"]).unwrap_err();
    match &err.errors()[0].kind {
        ConfigErrorKind::SymbolAmbiguous { candidates, .. } => {
            assert_eq!(candidates, &["series/GAP.csv", "GAP.csv"])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn temp_dir_config_globs_and_relative_paths() {
    let t = TempDir::new(
        "globs",
        &["bars/NQ_1h_2024.csv", "bars/NQ_1d.csv", "rates/r.csv"],
    );
    let text =
        "data:\n  NQ: bars/NQ_1h_*.csv\nseries:\n  R: { file: rates/*.csv, as_percent: true }\n";
    let cfg = RunConfig::from_yaml("t.yaml", text, &t.0).unwrap();
    assert_eq!(cfg.data["NQ"].file, t.0.join("bars/NQ_1h_2024.csv"));
    assert_eq!(cfg.series["R"].file, t.0.join("rates/r.csv"));
    let err = RunConfig::from_yaml("t.yaml", "data:\n  NQ: bars/NQ_*\n", &t.0).unwrap_err();
    let e = &err.errors()[0];
    assert_eq!(e.location, Some((2, 7)));
    match &e.kind {
        ConfigErrorKind::Ambiguous { candidates, .. } => {
            assert_eq!(candidates, &["NQ_1d.csv", "NQ_1h_2024.csv"])
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn anchors_and_merge_keys_share_settings() {
    let cfg = RunConfig::from_file(Path::new("tests/inputs/config/merge_keys.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let es = &cfg.instruments["ES"];
    let nq = &cfg.instruments["NQ"];
    assert_eq!((es.multiplier, nq.multiplier), (50.0, 20.0));
    assert_eq!(nq.tick_size, Some(0.25));
    assert_eq!(nq.commission, Commission::PerContract(2.1));
    assert_eq!(nq.slippage_ticks, 1.0);
    // An error inside a merged entry still points into the file.
    let text =
        "instruments:\n  ES: &cme\n    multiplier: 50\n  NQ:\n    <<: *cme\n    tick_sise: 0.25\n";
    let err = RunConfig::from_yaml("m.yaml", text, Path::new(".")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "m.yaml:6:5: unknown key `tick_sise` in instruments.NQ; did you mean `tick_size`?"
    );
}

#[test]
fn an_error_in_a_merged_anchor_is_reported_for_each_user() {
    let text =
        "instruments:\n  ES: &cme\n    multiplier: -50\n  NQ:\n    <<: *cme\n    tick_size: 0.25\n";
    let err = RunConfig::from_yaml("m.yaml", text, Path::new(".")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "m.yaml:3:17: instruments.ES.multiplier must be greater than 0, found -50\n\
         m.yaml:4:3: instruments.NQ.multiplier must be greater than 0, found -50"
    );
}

/// The YAML blocks of `docs/config.md`, in order.
fn doc_yaml_blocks() -> Vec<String> {
    let doc = std::fs::read_to_string("docs/config.md").unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(b), "```") => {
                blocks.push(std::mem::take(b));
                current = None;
            }
            (Some(b), l) => {
                b.push_str(l);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn the_documented_examples_parse() {
    let blocks = doc_yaml_blocks();
    assert!(blocks.len() >= 3, "{blocks:?}");
    // The complete example: `data/` is the shared data directory.
    let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared");
    let cfg = RunConfig::from_yaml("docs/config.md", &blocks[0], Path::new(shared))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.data.len(), 4);
    assert_eq!(cfg.series.len(), 2);
    assert_eq!(cfg.instruments.len(), 3);
    assert_eq!(
        cfg.instruments["JP225"].fx.as_ref().map(|f| f.direction),
        Some(FxDirection::Divide)
    );
    assert_eq!(cfg.sizing, "1 contracts");
    // The merge-key example.
    let merge = blocks.iter().find(|b| b.contains("<<")).unwrap();
    let cfg = RunConfig::from_yaml("docs/config.md", merge, Path::new(".")).unwrap();
    assert_eq!(cfg.instruments["MES"].multiplier, 5.0);
    assert_eq!(cfg.instruments["MES"].tick_size, Some(0.25));
}

#[test]
fn a_flood_of_problems_is_cut_short() {
    let mut text = String::from("instruments:\n");
    for i in 0..300 {
        text.push_str(&format!("  S{i}: {{ multipler: 1 }}\n"));
    }
    let err = RunConfig::from_yaml("flood.yaml", &text, Path::new(".")).unwrap_err();
    assert_eq!(err.errors().len(), 51);
    assert!(err.errors()[..50].iter().all(|e| e.location.is_some()));
    assert_eq!(
        err.errors()[50].to_string(),
        "flood.yaml: 250 more problems not shown"
    );
}

#[test]
fn an_instrument_typo_is_caught_when_the_symbols_are_known() {
    let text = "data:\n  NQ: NQ_1d.csv\n  ES: ES_1d.csv\ninstruments:\n  NQQ: { multiplier: 20 }\n  ES: { multiplier: 50 }\n  GC: { multiplier: 100 }\n";
    let cfg = RunConfig::from_yaml("p.yaml", text, Path::new(DATA)).unwrap();
    let err = cfg.require_symbols(&["NQ", "ES"], &[]).unwrap_err();
    // GC is far from every data symbol: an entry for another strategy.
    assert_eq!(
        err.to_string(),
        "run config: instruments.NQQ is not a data symbol of this run; did you mean `NQ`? (`NQ` would trade with the default multiplier 1)"
    );
}

#[test]
fn fx_symbols_of_traded_instruments() {
    let cfg = RunConfig::from_file(Path::new("tests/inputs/config/full.yaml")).unwrap();
    assert_eq!(
        cfg.fx_symbols(&["JP225", "EURUSD", "XAUUSD", "HSI"])
            .into_iter()
            .collect::<Vec<_>>(),
        ["EURUSD", "USDJPY"]
    );
    assert!(cfg.fx_symbols(&["XAUUSD"]).is_empty());
}

#[test]
fn a_missing_data_dir_is_one_error() {
    let err =
        resolve_data_dir(Path::new("tests/inputs/config/no_such_dir"), &["A", "B"]).unwrap_err();
    assert_eq!(err.errors().len(), 1);
    assert!(
        err.to_string()
            .starts_with("tests/inputs/config/no_such_dir: not a readable data directory: "),
        "{err}"
    );
}
