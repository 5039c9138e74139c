//! `playbook run`: the engine over real and synthetic bars.

use playbook::compile::compile;
use playbook::config::RunConfig;
use playbook::engine::history::{HistoryOptions, run_history, settings};
use playbook::engine::run::Collect;
use playbook::engine::sizing::SizeBase;
use std::path::Path;

fn shared() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
}

fn run_file(strategy: &str, data: &Path) -> (Collect, playbook::engine::history::Outcome) {
    let source = std::fs::read_to_string(strategy).unwrap();
    let file = playbook::syntax::parse(&source).unwrap();
    let checked = playbook::check::check(&file);
    assert!(
        checked.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        checked.diagnostics
    );
    let plan = compile(&file, &source, &[], &[]).unwrap();
    let symbols: Vec<&str> = plan.symbols.iter().map(|s| s.data.as_str()).collect();
    let series: Vec<&str> = plan.series.iter().map(|s| s.data.as_str()).collect();
    let config = RunConfig::from_data_dir(data, &symbols, &series).unwrap();
    let settings = settings(&plan, &config, SizeBase::Units(1.0)).unwrap();
    let mut sink = Collect::default();
    let outcome = run_history(
        plan,
        &config,
        settings,
        &HistoryOptions::default(),
        &mut sink,
    )
    .unwrap();
    (sink, outcome)
}

#[test]
fn sma_crossover_matches_backtesting_py() {
    let dir = tempdir();
    std::fs::copy(
        shared().join("samples/GOOG_1d_2004-2013.csv"),
        dir.join("GOOG.csv"),
    )
    .unwrap();
    let (sink, _) = run_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/inputs/run/sma_cross_goog.play"
        ),
        &dir,
    );
    let expected = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/backtesting/goog_sma_10_30_trades.csv"
    ))
    .unwrap();
    // (entry date, entry price, exit date, exit price), prices exact.
    type Row = (String, f64, String, f64);
    let expected: Vec<Row> = expected
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].to_string(),
                f[3].parse().unwrap(),
            )
        })
        .collect();
    let got: Vec<Row> = sink
        .trades
        .iter()
        .map(|t| {
            let t = &t.trade;
            (
                t.entry_time.to_string()[..10].to_string(),
                t.entry_price,
                t.exit_time.to_string()[..10].to_string(),
                t.exit_price,
            )
        })
        .collect();
    assert_eq!(got.len(), 32);
    assert_eq!(got, expected);
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("playbook-run-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
