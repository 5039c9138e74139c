//! `playbook run`: the engine over real and synthetic bars.

use playbook::compile::compile;
use playbook::config::RunConfig;
use playbook::engine::history::{HistoryOptions, Outcome, run_history, settings};
use playbook::engine::run::Collect;
use playbook::engine::sizing::SizeBase;
use playbook::report::sinks;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shared() -> PathBuf {
    root().join("../shared/data")
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("playbook-run-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Parses, checks and compiles a strategy file and runs it with `config`.
fn run_with(strategy: &Path, config: &RunConfig, opts: &HistoryOptions) -> (Collect, Outcome) {
    let source = std::fs::read_to_string(strategy).unwrap();
    let file = playbook::syntax::parse(&source).unwrap();
    let checked = playbook::check::check(&file);
    assert!(
        checked.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        checked.diagnostics
    );
    let plan = compile(&file, &source, &[], &[]).unwrap();
    let settings = settings(&plan, config, SizeBase::Contracts(1.0)).unwrap();
    let mut sink = Collect::default();
    let outcome = run_history(plan, config, settings, opts, &mut sink, |_, _| {}).unwrap();
    (sink, outcome)
}

fn data_dir_config(strategy: &Path, dir: &Path) -> RunConfig {
    let source = std::fs::read_to_string(strategy).unwrap();
    let file = playbook::syntax::parse(&source).unwrap();
    let plan = compile(&file, &source, &[], &[]).unwrap();
    let symbols: Vec<&str> = plan.symbols.iter().map(|s| s.data.as_str()).collect();
    let series: Vec<&str> = plan.series.iter().map(|s| s.data.as_str()).collect();
    RunConfig::from_data_dir(dir, &symbols, &series).unwrap()
}

fn strategies() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("strategies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "play"))
        .collect();
    v.sort();
    v
}

fn signals_csv(c: &Collect) -> String {
    let mut s = String::from(sinks::SIGNALS_HEADER);
    s.push('\n');
    for sig in &c.signals {
        s.push_str(&sinks::signal_line(sig));
        s.push('\n');
    }
    s
}

fn real_config() -> RunConfig {
    RunConfig::from_file(&root().join("tests/inputs/run/real_2024.yaml")).unwrap()
}

#[test]
fn sma_crossover_matches_backtesting_py() {
    let dir = tempdir("goog");
    std::fs::copy(
        shared().join("samples/GOOG_1d_2004-2013.csv"),
        dir.join("GOOG.csv"),
    )
    .unwrap();
    let strategy = root().join("tests/inputs/run/sma_cross_goog.play");
    let config = data_dir_config(&strategy, &dir);
    let (sink, _) = run_with(&strategy, &config, &HistoryOptions::default());
    let expected = std::fs::read_to_string(
        root().join("tests/fixtures/backtesting/goog_sma_10_30_trades.csv"),
    )
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
    // The last position is still open at the end: backtesting.py leaves it
    // out of its trades too (finalize_trades=False).
    assert_eq!(sink.signals.last().map(|s| s.action), Some("buy"));
}

#[test]
fn every_strategy_runs_on_the_synthetic_examples() {
    let data = root().join("examples/data");
    for strategy in strategies() {
        let config = data_dir_config(&strategy, &data);
        let (sink, outcome) = run_with(&strategy, &config, &HistoryOptions::default());
        assert!(outcome.ticks > 1000, "{}", strategy.display());
        assert!(
            !sink.signals.is_empty(),
            "{} fired no signal on the examples",
            strategy.display()
        );
        let name = strategy.file_stem().unwrap().to_string_lossy().to_string();
        insta::with_settings!({description => format!("{name} on examples/data (synthetic)"), omit_expression => true}, {
            insta::assert_snapshot!(format!("examples_{name}"), signals_csv(&sink));
        });
    }
}

#[test]
fn every_strategy_runs_on_real_bars_around_the_august_2024_unwind() {
    let config = real_config();
    let opts = HistoryOptions {
        from: Some("2024-07-01T00:00:00Z".parse().unwrap()),
        to: Some("2024-09-30T23:59:59Z".parse().unwrap()),
        hash_inputs: false,
    };
    for strategy in strategies() {
        let (sink, _) = run_with(&strategy, &config, &opts);
        let name = strategy.file_stem().unwrap().to_string_lossy().to_string();
        for s in &sink.signals {
            assert!(s.time >= opts.from.unwrap() && s.time <= opts.to.unwrap());
        }
        insta::with_settings!({description => format!("{name} on real bars, 2024-07-01..2024-09-30"), omit_expression => true}, {
            insta::assert_snapshot!(format!("real_{name}"), signals_csv(&sink));
        });
    }
}

#[test]
fn the_readers_hash_every_input_file_whole_even_when_the_run_stops_early() {
    let config = real_config();
    // P8 reads bars and the two policy-rate series; the run stops long
    // before the files end, so the rest of each is hashed as its reader
    // is dropped.
    let strategy = root().join("strategies/p8_carry_long_while_rate_gap_wide.play");
    let source = std::fs::read_to_string(&strategy).unwrap();
    let plan = compile(
        &playbook::syntax::parse(&source).unwrap(),
        &source,
        &[],
        &[],
    )
    .unwrap();
    let files: Vec<PathBuf> = plan
        .symbols
        .iter()
        .map(|s| config.data[&s.data].file.clone())
        .chain(
            plan.series
                .iter()
                .map(|s| config.series[&s.data].file.clone()),
        )
        .collect();
    assert!(!plan.series.is_empty());
    let mut opts = HistoryOptions {
        from: None,
        to: Some("2023-09-01T00:00:00Z".parse().unwrap()),
        hash_inputs: true,
    };
    let (_, outcome) = run_with(&strategy, &config, &opts);
    assert!(outcome.ticks > 0);
    assert_eq!(outcome.hashes.len(), files.len());
    for (hash, file) in outcome.hashes.iter().zip(&files) {
        let expected = blake3::hash(&std::fs::read(file).unwrap()).to_hex();
        assert_eq!(
            hash.as_deref(),
            Some(expected.as_str()),
            "{}",
            file.display()
        );
    }
    // Read to the end: the same hashes. Not asked for: none.
    opts.to = None;
    let (_, whole) = run_with(&strategy, &config, &opts);
    assert_eq!(whole.hashes, outcome.hashes);
    opts.hash_inputs = false;
    let (_, none) = run_with(&strategy, &config, &opts);
    assert!(none.hashes.is_empty());
}

#[test]
fn two_runs_write_identical_bytes() {
    let bin = env!("CARGO_BIN_EXE_playbook");
    let strategy = root().join("strategies/p5_treasury_hedge_on_equity_yen_selloff.play");
    let outs: Vec<PathBuf> = (0..2).map(|i| tempdir(&format!("det{i}"))).collect();
    for out in &outs {
        let status = std::process::Command::new(bin)
            .arg("run")
            .arg(&strategy)
            .arg("--data")
            .arg(root().join("examples/data"))
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
    }
    for f in ["signals.csv", "trades.csv", "equity.csv", "summary.json"] {
        let a = std::fs::read(outs[0].join(f)).unwrap();
        let b = std::fs::read(outs[1].join(f)).unwrap();
        assert!(!a.is_empty());
        assert_eq!(a, b, "{f} differs between two runs");
    }
}

/// Copies the rows of a CSV whose first field (an ISO stamp or date) sorts
/// before `cut`.
fn truncate_csv(from: &Path, to: &Path, cut: &str) {
    let text = std::fs::read_to_string(from).unwrap();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 || line.split(',').next().unwrap() < cut {
            out.push_str(line);
            out.push('\n');
        }
    }
    std::fs::write(to, out).unwrap();
}

#[test]
fn no_look_ahead_truncated_history_gives_the_same_earlier_signals() {
    // P5 and P7 read hourly and daily bars of several symbols.
    let files = [
        ("USDJPY", "USDJPY_1h_2023-07_2025-07.csv"),
        ("NQ", "NQ_1h_2023-07_2025-07.csv"),
        ("ZN", "ZN_1h_2023-07_2025-07.csv"),
        ("HSI", "HSI_1d.csv"),
        ("N225", "N225_1d.csv"),
    ];
    let opts = HistoryOptions {
        from: Some("2024-06-01T00:00:00Z".parse().unwrap()),
        to: None,
        hash_inputs: false,
    };
    let signal_key = |s: &playbook::engine::run::Signal| {
        (
            s.time,
            s.rule.clone(),
            s.action,
            s.quantity.to_bits(),
            s.price.to_bits(),
            s.reason.clone(),
        )
    };
    for strategy in [
        "p5_treasury_hedge_on_equity_yen_selloff.play",
        "p7_nasdaq_in_yen_vs_nikkei.play",
    ] {
        let strategy = root().join("strategies").join(strategy);
        let full_dir = tempdir("full");
        for (sym, f) in files {
            truncate_csv(
                &shared().join(f),
                &full_dir.join(format!("{sym}.csv")),
                "2024-10-01",
            );
        }
        let (full, _) = run_with(&strategy, &data_dir_config(&strategy, &full_dir), &opts);
        assert!(full.signals.len() >= 4, "{}", strategy.display());
        for cut in [
            "2024-08-02T13:00:00Z",
            "2024-08-05T04:00:00Z",
            "2024-08-06T06:00:00Z",
            "2024-09-02T00:00:00Z",
        ] {
            let dir = tempdir("cut");
            for (sym, f) in files {
                let cut_text = if f.contains("_1d") { &cut[..10] } else { cut };
                truncate_csv(&shared().join(f), &dir.join(format!("{sym}.csv")), cut_text);
            }
            let (part, _) = run_with(&strategy, &data_dir_config(&strategy, &dir), &opts);
            let t: jiff::Timestamp = cut.parse().unwrap();
            let before = |c: &Collect| -> Vec<_> {
                c.signals
                    .iter()
                    .filter(|s| s.time <= t)
                    .map(signal_key)
                    .collect()
            };
            assert_eq!(
                before(&part),
                before(&full),
                "{} cut at {cut}",
                strategy.display()
            );
        }
    }
}

#[test]
fn the_examples_are_what_the_generator_writes() {
    for f in playbook::synth::generate(&playbook::synth::SynthSpec::default()) {
        let committed =
            std::fs::read_to_string(root().join("examples/data").join(&f.name)).unwrap();
        assert!(
            committed == f.text,
            "examples/data/{} is not the generator's output; run `cargo run --example synth`",
            f.name
        );
    }
}

fn cli(args: &[&str]) -> (i32, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_playbook"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn cli_param_overrides_change_the_run_and_bad_ones_are_usage_errors() {
    let p4 = "strategies/p4_gold_asia_flush.play";
    let (code, out, _) = cli(&[
        "run",
        p4,
        "--data",
        "examples/data",
        "--param",
        "drop=2%",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("drop = 2.00%"), "{out}");
    let (code, _, err) = cli(&["run", p4, "--data", "examples/data", "--param", "nosuch=1"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: --param nosuch: the strategy has no param `nosuch`\n"
    );
    let (code, _, err) = cli(&["run", p4, "--data", "examples/data", "--param", "drop=3d"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "error: --param drop: the value is a duration, but the param is a percent\n"
    );
    let (code, _, err) = cli(&["run", p4]);
    assert_eq!(code, 2);
    assert!(err.contains("no data: give `--data DIR`"), "{err}");
}

#[test]
fn cli_run_reports_missing_data_with_the_candidates() {
    let (code, _, err) = cli(&[
        "run",
        "strategies/p4_gold_asia_flush.play",
        "--data",
        "../shared/data",
    ]);
    assert_eq!(code, 1);
    // Three USDJPY files: the user must pick one in the config.
    assert!(
        err.contains("USDJPY_1d.csv") && err.contains("USDJPY_4h_1999_2026.csv"),
        "{err}"
    );
}

#[test]
fn cli_eval_prints_one_row_per_tick_with_empty_cells_for_na() {
    let (code, out, err) = cli(&[
        "eval",
        "strategies/p4_gold_asia_flush.play",
        "--data",
        "examples/data",
        "--expr",
        "yen_surges",
        "--expr",
        "sma(gold.close, 3)",
        "--to",
        "2024-06-03T05:00:00Z",
    ]);
    assert_eq!(code, 0, "{err}");
    // SMA(3) at 03:00 = (2324.02 + 2329.55 + 2334.54) / 3, the closes of the
    // bars closing at 01:00, 02:00 and 03:00 in examples/data/XAUUSD.csv.
    insta::assert_snapshot!(out, @r#"
    time,yen_surges,"sma(gold.close, 3)"
    2024-06-03T01:00:00Z,false,
    2024-06-03T02:00:00Z,false,
    2024-06-03T03:00:00Z,false,2329.37
    2024-06-03T04:00:00Z,false,2331.306666666667
    2024-06-03T05:00:00Z,false,2332.47
    "#);
}

#[test]
fn cli_run_out_writes_the_four_files() {
    // P4 on the examples into a new folder, with more arguments.
    let run_p4 = |name: &str, more: &[&str]| {
        let out = tempdir(name);
        let mut args = vec![
            "run",
            "strategies/p4_gold_asia_flush.play",
            "--data",
            "examples/data",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(more);
        let (code, _, err) = cli(&args);
        assert_eq!(code, 0, "{err}");
        out
    };
    let out = run_p4("out4", &[]);
    let signals = std::fs::read_to_string(out.join("signals.csv")).unwrap();
    assert!(signals.starts_with(sinks::SIGNALS_HEADER));
    let trades = std::fs::read_to_string(out.join("trades.csv")).unwrap();
    assert!(trades.starts_with(sinks::TRADES_HEADER));
    // `--equity-rows every`: a row per tick. The default (`change`) keeps the
    // first and last of them and each one whose values differ from the
    // tick before.
    let every_dir = run_p4("out4-every", &["--equity-rows", "every"]);
    let every = std::fs::read_to_string(every_dir.join("equity.csv")).unwrap();
    assert_eq!(every.lines().count() as u64, 1 + 1547);
    let rows: Vec<&str> = every.lines().skip(1).collect();
    let values = |line: &str| line.split_once(',').unwrap().1.to_string();
    let mut expected = vec![every.lines().next().unwrap()];
    for (i, line) in rows.iter().enumerate() {
        if i == 0 || i == rows.len() - 1 || values(line) != values(rows[i - 1]) {
            expected.push(line);
        }
    }
    let equity = std::fs::read_to_string(out.join("equity.csv")).unwrap();
    assert_eq!(equity.lines().collect::<Vec<_>>(), expected);
    assert!(expected.len() < rows.len() / 2, "{} rows", expected.len());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["ticks"], 1547);
    assert_eq!(summary["run"]["fill"], "next_open");
    assert_eq!(summary["run"]["inputs"].as_array().unwrap().len(), 2);
    assert_eq!(
        summary["run"]["inputs"][0]["blake3"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert_eq!(
        summary["summary"]["trades"],
        trades.lines().count() as u64 - 1
    );
    // The hashes (computed by the readers from the bytes they parse) are
    // the files'.
    for input in summary["run"]["inputs"].as_array().unwrap() {
        let file = root().join(input["file"].as_str().unwrap());
        let hex = blake3::hash(&std::fs::read(&file).unwrap()).to_hex();
        assert_eq!(input["blake3"], hex.as_str(), "{}", file.display());
    }
}

#[test]
fn a_failed_run_leaves_the_earlier_outputs_untouched() {
    let out = tempdir("keep");
    let run = |data: &str| {
        cli(&[
            "run",
            "strategies/p4_gold_asia_flush.play",
            "--data",
            data,
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let (code, _, err) = run("examples/data");
    assert_eq!(code, 0, "{err}");
    let names = ["signals.csv", "trades.csv", "equity.csv", "summary.json"];
    let before: Vec<Vec<u8>> = names
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();

    // The same data with a broken close deep into the gold file.
    let data = tempdir("keep-data");
    for f in ["USDJPY.csv", "XAUUSD.csv"] {
        std::fs::copy(root().join("examples/data").join(f), data.join(f)).unwrap();
    }
    let gold = std::fs::read_to_string(data.join("XAUUSD.csv")).unwrap();
    let mut lines: Vec<String> = gold.lines().map(str::to_string).collect();
    let row = lines.len() - 10;
    let mut cells: Vec<&str> = lines[row].split(',').collect();
    cells[4] = "12.3.4";
    lines[row] = cells.join(",");
    std::fs::write(data.join("XAUUSD.csv"), lines.join("\n") + "\n").unwrap();

    let (code, _, err) = run(data.to_str().unwrap());
    assert_ne!(code, 0);
    assert!(err.contains("12.3.4"), "{err}");
    for (f, old) in names.iter().zip(&before) {
        assert_eq!(&std::fs::read(out.join(f)).unwrap(), old, "{f} changed");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !names.contains(&n.as_str()))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn cli_data_check_fails_on_a_broken_file_and_names_the_line() {
    let dir = tempdir("datacheck");
    std::fs::write(dir.join("BAD.csv"), "timestamp,open,high,low,close\n2024-08-05T00:00:00Z,1,2,0.5,1.5\n2024-08-05T01:00:00Z,1,2,0.5,12.3.4\n").unwrap();
    let (code, _, err) = cli(&["data", "check", dir.join("BAD.csv").to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("BAD.csv:3") && err.contains("\"12.3.4\""),
        "{err}"
    );
    let (code, out, _) = cli(&["data", "check", "examples/data"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("USDJPY.csv") && out.contains("series: 2 points"),
        "{out}"
    );
}
